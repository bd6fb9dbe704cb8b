/*
 * fuzz_response.c - the client library's side of the protocol: bytes as the
 * manager would send them (v1 and binary frames, back to back, as several
 * answers and stream deltas arrive on one connection) into the receive
 * buffer, then frame_parse + response_from_frame, response_status, and
 * hdm_response_tensor on the "result" (a tensor, or an object of tensors)
 * as the services read answers.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "lib/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    conn c;
    memset(&c, 0, sizeof(c));
    c.fd = -1;
    if (buf_append(&c.rx, data, size) < 0)
        return 0;
    for (int guard = 0; guard < 64 && c.rx.len > 0; guard++) {
        frame f;
        memset(&f, 0, sizeof(f));
        hdm_err err;
        hdm_err_clear(&err);
        int r = frame_parse(c.rx.data, c.rx.len, 1u << 20, &f, NULL, &err);
        if (r <= 0)
            break;
        hdm_response *resp = NULL;
        if (response_from_frame(&c, &f, &resp, &err) < 0) {
            if (err.msg[0] == '\0')
                abort();
            continue;
        }
        response_status(resp);
        hdm_response_error(resp);
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "result");
        hdm_tensor t;
        if (cJSON_IsObject(result)) {
            if (hdm_response_tensor(resp, result, &t) == 0) {
                /* Touch the bytes the tensor claims (ASan checks the bounds). */
                for (size_t i = 0; i < t.nbytes; i += 64)
                    (void)((const volatile uint8_t *)t.data)[i];
            }
            const cJSON *child;
            cJSON_ArrayForEach(child, result) {
                if (cJSON_IsObject(child) && hdm_response_tensor(resp, child, &t) == 0 &&
                    t.nbytes)
                    (void)((const volatile uint8_t *)t.data)[t.nbytes - 1];
            }
        }
        hdm_response_free(resp);
    }
    buf_free(&c.rx);
    return 0;
}
