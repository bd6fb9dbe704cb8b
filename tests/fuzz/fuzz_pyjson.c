/*
 * fuzz_pyjson.c - Python-style JSON printing: any JSON document (strings with
 * any bytes) printed in every style must be valid UTF-8, ASCII where
 * ensure_ascii holds; and the first 8 bytes, read as a double, must print
 * as a repr that reads back as the same double.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pyjson.h"
#include "common/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= sizeof(double)) {
        double v;
        memcpy(&v, data, sizeof(v));
        char repr[PYFLOAT_REPR_MAX];
        if (pyfloat_repr(v, repr, sizeof(repr)) <= 0)
            abort();
        if (isfinite(v) && strtod(repr, NULL) != v)
            abort();
    }
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    if (doc == NULL)
        return 0;
    static const enum pyjson_style styles[] = {PYJSON_DUMPS, PYJSON_COMPACT, PYJSON_FLASK};
    for (size_t s = 0; s < sizeof(styles) / sizeof(styles[0]); s++) {
        char *out = pyjson_print(doc, styles[s]);
        if (out == NULL)
            continue; /* out of memory */
        size_t len = strlen(out);
        if (!utf8_valid(out, len))
            abort();
        for (size_t i = 0; styles[s] != PYJSON_COMPACT && i < len; i++)
            if ((uint8_t)out[i] >= 0x7f)
                abort();
        free(out);
    }
    cJSON_Delete(doc);
    return 0;
}
