/*
 * fuzz_stream.c - the streaming side.  The input is split on 0x00 bytes:
 * the first piece holds up to four stop sequences separated by 0x01, the
 * other pieces are text deltas as the manager streams them.  They go
 * through the stop matcher (chatapi/stop.c) exactly as chatapi/gen.c feeds it, and
 * each emitted piece becomes an SSE chunk (sse_delta, sse_chunk,
 * sse_event).  The oracle: the emitted text is what a one-shot search over
 * the concatenated deltas says it should be (the text before the stop
 * sequence that completes first, or all of it), whatever the split into
 * deltas.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatapi/chatapi.h"

typedef struct sink {
    char *text;
    size_t len;
    size_t cap;
} sink;

static int emit(void *user, const char *text, size_t len)
{
    sink *s = user;
    if (s->len + len + 1 > s->cap) {
        size_t cap = (s->len + len + 1) * 2;
        char *n = realloc(s->text, cap);
        if (!n)
            return -1;
        s->text = n;
        s->cap = cap;
    }
    memcpy(s->text + s->len, text, len);
    s->len += len;
    s->text[s->len] = '\0';
    cJSON *delta = sse_delta(NULL, text, len);
    cJSON *chunk = delta ? sse_chunk("chatcmpl-fuzz", 1, "m", delta, NULL, true) : NULL;
    size_t elen = 0;
    char *ev = chunk ? sse_event(chunk, &elen) : NULL;
    free(ev);
    cJSON_Delete(chunk);
    return 0;
}

/* Where generation would have stopped in hay[0..n): the start of the stop
 * sequence that completes first (smallest end, then the longer one); n when
 * none occurs.  Each stop's first occurrence is its earliest-ending one. */
static size_t first_stop(const char *hay, size_t n, char **stops, int n_stops)
{
    size_t best = n, best_end = (size_t)-1;
    for (int k = 0; k < n_stops; k++) {
        size_t sl = strlen(stops[k]);
        for (size_t i = 0; sl && i + sl <= n; i++)
            if (memcmp(hay + i, stops[k], sl) == 0) {
                if (i + sl < best_end || (i + sl == best_end && i < best)) {
                    best = i;
                    best_end = i + sl;
                }
                break;
            }
    }
    return best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const char *z = memchr(p, 0, size);
    if (!z)
        return 0;
    char *stops[CHAT_MAX_STOP];
    int n_stops = 0;
    const char *q = p;
    while (q < z && n_stops < CHAT_MAX_STOP) {
        const char *sep = memchr(q, 1, (size_t)(z - q));
        if (!sep)
            sep = z;
        if (sep > q)
            stops[n_stops++] = strndup(q, (size_t)(sep - q));
        q = sep + 1;
    }
    stop_matcher m;
    stop_init(&m, stops, n_stops);
    sink out = {0};
    char *all = malloc(size + 1);
    size_t all_len = 0;
    const char *d = z + 1;
    while (all && d < end) {
        const char *nz = memchr(d, 0, (size_t)(end - d));
        if (!nz)
            nz = end;
        memcpy(all + all_len, d, (size_t)(nz - d));
        all_len += (size_t)(nz - d);
        if (stop_feed(&m, d, (size_t)(nz - d), emit, &out) != 0)
            goto done;
        d = nz + 1;
    }
    if (!all || stop_flush(&m, emit, &out) != 0)
        goto done;
    /* Stop sequences may contain bytes from outside the text's alphabet, so
     * the oracle searches the concatenation of all deltas. */
    size_t want = first_stop(all, all_len, stops, n_stops);
    if (out.len != want || (want && memcmp(out.text, all, want) != 0))
        abort();
    if (m.hit != (want < all_len))
        abort();
done:
    stop_free(&m);
    free(out.text);
    free(all);
    for (int k = 0; k < n_stops; k++)
        free(stops[k]);
    return 0;
}
