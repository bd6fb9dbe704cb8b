/*
 * fuzz_npy.c - the .npy readers.  First byte even: hailo-clip's
 * memory-mapped reader (src/common/npy.c, npy_parse on the bytes, then
 * npy_get_f32 over every element it claims and npy_expect_shape).  Odd:
 * hailo-devctl's reader (src/devctl/tensorfile.c, tensorfile_load of a
 * temporary .npy file, with and without an expected dtype/shape).  Both
 * parse the header with the one parser, npy_parse_header (src/common/npy.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/npy.h"
#include "devctl/tensorfile.h"

static void clip_reader(const uint8_t *data, size_t size)
{
    npy_array a;
    hdm_err err;
    hdm_err_clear(&err);
    if (npy_parse(data, size, "table.npy", &a, &err) == 0) {
        size_t elem = a.dtype == HDM_DT_FLOAT16 ? 2 : 4;
        if ((const uint8_t *)a.data < data ||
            (const uint8_t *)a.data + a.nbytes > data + size)
            abort();
        volatile float sum = 0;
        (void)sum;
        for (size_t i = 0; i < a.nbytes / elem; i++)
            sum += npy_get_f32(&a, i);
        static const int64_t want[2] = {-1, 512};
        npy_expect_shape(&a, "table", 2, want, &err);
        npy_close(&a);
    } else if (err.msg[0] == '\0') {
        abort();
    }
}

static void devctl_reader(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/hdm-fuzz-npy-%d.npy", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(data, 1, size, f);
    fclose(f);
    hdm_tensor t;
    hdm_err err;
    hdm_err_clear(&err);
    if (tensorfile_load(path, HDM_DT__COUNT, 0, NULL, &t, &err) == 0)
        free((void *)t.data);
    else if (err.msg[0] == '\0')
        abort();
    static const int64_t shape[2] = {1, 4};
    hdm_err_clear(&err);
    if (tensorfile_load(path, HDM_DT_FLOAT32, 2, shape, &t, &err) == 0)
        free((void *)t.data);
    else if (err.msg[0] == '\0')
        abort();
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        devctl_reader(data + 1, size - 1);
    else
        clip_reader(data + 1, size - 1);
    return 0;
}
