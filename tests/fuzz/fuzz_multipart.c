/*
 * fuzz_multipart.c - the HTTP layer's multipart/form-data parser
 * (http_multipart.c) and its field helpers.  The input's first line is the
 * Content-Type header value (so boundaries and their parameters are fuzzed
 * too), the rest is the body.  Oracles: every part lies inside the body,
 * names are non-empty, no name without "[]" appears twice, and the helpers
 * never read outside a part.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ctlen = nl != NULL ? (size_t)(nl - data) : size;
    char *ct = malloc(ctlen + 1);
    if (ct == NULL)
        return 0;
    memcpy(ct, data, ctlen);
    ct[ctlen] = '\0';
    const uint8_t *body = nl != NULL ? nl + 1 : data + size;
    size_t blen = (size_t)(data + size - body);
    /* A copy of exactly blen bytes, so ASan sees any read past the body. */
    uint8_t *copy = malloc(blen != 0 ? blen : 1);
    if (copy == NULL) {
        free(ct);
        return 0;
    }
    memcpy(copy, body, blen);

    http_multipart_limits lim = {.max_parts = 16, .max_part_header_bytes = 512};
    http_form f;
    char err[256];
    if (http_multipart_parse(copy, blen, ct, &lim, &f, err, sizeof(err)) == 0) {
        if (f.n == 0 || f.n > 16)
            abort();
        for (size_t i = 0; i < http_form_count(&f); i++) {
            const http_part *p = http_form_at(&f, i);
            if (p->data < copy || p->data + p->len > copy + blen || p->name[0] == '\0')
                abort();
            size_t n = strlen(p->name);
            bool multi = n >= 2 && p->name[n - 2] == '[' && p->name[n - 1] == ']';
            if (!multi && http_form_get(&f, p->name) != p)
                abort();
            double d;
            long l;
            bool b;
            char *s = NULL;
            const http_part *fp;
            http_form_double(&f, p->name, -1e9, 1e9, &d, err, sizeof(err));
            http_form_long(&f, p->name, -1000, 1000, &l, err, sizeof(err));
            http_form_bool(&f, p->name, &b, err, sizeof(err));
            if (http_form_string(&f, p->name, &s, err, sizeof(err)) == 1)
                free(s);
            http_form_file(&f, p->name, &fp, err, sizeof(err));
        }
        http_form_free(&f);
    } else if (err[0] == '\0') {
        abort(); /* every refusal says why */
    }
    free(copy);
    free(ct);
    return 0;
}
