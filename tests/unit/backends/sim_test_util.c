/*
 * sim_test_util.c - fixtures for the sim backend's unit tests.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_test_util.h"

static void write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(content, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

void simt_setup(simt *t, const char *config_text)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/hdm-simtest-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    if (config_text) {
        char *path = simt_write(t, "sim.conf", config_text);
        backend_config cfg = {.sim_config_path = path, .group_id = "SHARED"};
        hdm_err err = {0};
        int rc = backend_sim_ops.open(&cfg, &t->b, &err);
        if (rc != 0)
            fail_msg("open failed: %s", err.msg);
        free(path);
    }
}

void simt_teardown(simt *t)
{
    backend_sim_ops.close(t->b);
    t->b = NULL;
    DIR *d = opendir(t->dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", t->dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(t->dir);
}

char *simt_write(const simt *t, const char *name, const char *content)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", t->dir, name) > 0);
    write_file(path, content);
    return path;
}

char *simt_model(const simt *t, const char *name, const char *sidecar)
{
    char *path = simt_write(t, name, "HEF simulated model bytes\n");
    if (sidecar) {
        char side[256];
        snprintf(side, sizeof(side), "%s.sim.json", name);
        free(simt_write(t, side, sidecar));
    }
    return path;
}

/* Loads path as kind; clip gets its two HEFs written next to the model. */
static int do_load(simt *t, model_kind kind, const char *path, backend_model **m, uint64_t *fp,
                   hdm_err *err)
{
    char image_hef[512], text_hef[512];
    model_spec spec = {.kind = kind, .model_path = path};

    if (kind == MODEL_CLIP) {
        snprintf(image_hef, sizeof(image_hef), "%s.image.hef", path);
        snprintf(text_hef, sizeof(text_hef), "%s.text.hef", path);
        write_file(image_hef, "image encoder");
        write_file(text_hef, "text encoder");
        spec.clip_image_hef = image_hef;
        spec.clip_text_hef = text_hef;
        spec.clip_text_input = "input_layer1";
        spec.clip_text_output = "output_layer1";
    }
    return backend_sim_ops.load(t->b, &spec, m, fp, err);
}

int simt_try_load(simt *t, model_kind kind, const char *path, hdm_err *err)
{
    backend_model *m = NULL;
    uint64_t fp = 0;
    int rc = do_load(t, kind, path, &m, &fp, err);
    if (rc == 0)
        backend_sim_ops.unload(t->b, m);
    return rc;
}

backend_model *simt_load(simt *t, model_kind kind, const char *path, uint64_t *footprint)
{
    backend_model *m = NULL;
    hdm_err err = {0};
    uint64_t fp = 0;
    int rc = do_load(t, kind, path, &m, &fp, &err);
    if (rc != 0)
        fail_msg("load of %s failed: %s", path, err.msg);
    assert_non_null(m);
    if (footprint)
        *footprint = fp;
    return m;
}

int simt_utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (n == 0 || i + n > len)
            return 0;
        for (size_t k = 1; k < n; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80)
                return 0;
        i += n;
    }
    return 1;
}

hdm_tensor simt_image(int ndim, const int64_t *shape, uint32_t seed)
{
    hdm_tensor t = {.dtype = HDM_DT_UINT8, .ndim = ndim};
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        t.shape[i] = shape[i];
        n *= (size_t)shape[i];
    }
    uint8_t *p = malloc(n);
    assert_non_null(p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(((i / 3) % 256) / 2 + (x & 0x7f));
    }
    t.data = p;
    t.nbytes = n;
    return t;
}
