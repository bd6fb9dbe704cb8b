/*
 * fuzz_textstream.c - the streaming-text helper on any bytes: input layout
 * [flags][n stops][len, bytes]... then the text, cut into pieces whose
 * lengths come from the text itself.  Checks: what comes out is a prefix
 * of the text (without REPLACE) that holds no stop string, in valid UTF-8
 * pieces with REPLACE; after a stop nothing more comes out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/textstream.h"
#include "common/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0] & (TEXTSTREAM_DISCARD | TEXTSTREAM_REPLACE);
    size_t want = data[1] % 5, n_stops = 0, pos = 2;
    char *stops[4] = {0};
    while (n_stops < want && pos < size) {
        size_t sl = data[pos++] % 8;
        if (sl > size - pos)
            sl = size - pos;
        if ((stops[n_stops] = strndup((const char *)data + pos, sl)) == NULL)
            break;
        n_stops++;
        pos += sl;
    }
    const char *text = (const char *)data + pos;
    size_t len = size - pos;

    textstream t;
    textstream_init(&t, stops, n_stops, flags);
    char *seen = malloc(len * 3 + 4);
    size_t seen_len = 0, at = 0;
    while (seen != NULL && at <= len) {
        size_t piece = at < len ? 1 + (uint8_t)text[at] % 7 : 0;
        if (piece > len - at)
            piece = len - at;
        const char *out;
        size_t out_len;
        bool was_hit = t.hit;
        int rc = piece > 0 ? textstream_feed(&t, text + at, piece, &out, &out_len)
                           : textstream_flush(&t, &out, &out_len);
        if (rc < 0)
            break;
        if (was_hit && out_len > 0)
            abort();
        if ((flags & TEXTSTREAM_REPLACE) && !utf8_valid(out, out_len))
            abort();
        memcpy(seen + seen_len, out, out_len);
        seen_len += out_len;
        if (piece == 0)
            break;
        at += piece;
    }
    if (seen != NULL && !(flags & TEXTSTREAM_REPLACE)) {
        if (seen_len > len || memcmp(seen, text, seen_len) != 0)
            abort();
        for (size_t i = 0; i < n_stops; i++)
            if (stops[i][0] != '\0' && memmem(seen, seen_len, stops[i], strlen(stops[i])))
                abort();
    }
    textstream_free(&t);
    free(seen);
    for (size_t i = 0; i < 4; i++)
        free(stops[i]);
    return 0;
}
