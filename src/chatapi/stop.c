/*
 * stop.c - OpenAI "stop" sequences over a stream of text deltas.
 *
 * DESIGN.  A stop sequence may arrive split across deltas ("</" then "end>"),
 * so text that could still turn into a stop sequence is held back: after each
 * delta the longest tail of the pending text that is a prefix of some stop
 * sequence stays pending, everything before it is emitted.  The stop
 * sequence itself is never shown, as with OpenAI.  A held-back tail starts
 * where a stop sequence starts, and a character a token left incomplete is
 * held until its last byte arrives, so an event never splits UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "chatapi/chatapi.h"

void stop_init(stop_matcher *s, char *const *stops, int n)
{
    memset(s, 0, sizeof(*s));
    s->stops = stops;
    s->n = n;
}

void stop_free(stop_matcher *s)
{
    if (!s)
        return;
    free(s->pending);
    s->pending = NULL;
    s->pending_len = s->pending_cap = 0;
}

static int pending_append(stop_matcher *s, const char *text, size_t len)
{
    if (s->pending_len + len + 1 > s->pending_cap) {
        size_t cap = s->pending_cap ? s->pending_cap : 64;
        while (cap < s->pending_len + len + 1)
            cap *= 2;
        char *p = realloc(s->pending, cap);
        if (!p)
            return -HDM_E_NOMEM;
        s->pending = p;
        s->pending_cap = cap;
    }
    memcpy(s->pending + s->pending_len, text, len);
    s->pending_len += len;
    s->pending[s->pending_len] = '\0';
    return 0;
}

/* Position of the stop sequence that completes first in pending, or -1.
 * "First" is by end position (then the longer one): generation would have
 * stopped there, so the result does not depend on how the text was split
 * into deltas (stops "a" and "xab" on "xab" cut at 1 whether it came in one
 * delta or byte by byte). */
static long find_stop(const stop_matcher *s)
{
    long best = -1;
    size_t best_end = 0;
    for (int i = 0; i < s->n; i++) {
        size_t sl = strlen(s->stops[i]);
        if (sl == 0 || sl > s->pending_len)
            continue;
        const char *hit = memmem(s->pending, s->pending_len, s->stops[i], sl);
        if (!hit)
            continue;
        size_t at = (size_t)(hit - s->pending), end = at + sl;
        if (best < 0 || end < best_end || (end == best_end && (long)at < best)) {
            best = (long)at;
            best_end = end;
        }
    }
    return best;
}

/* Length of the longest tail of pending that is a proper prefix of a stop. */
static size_t held_tail(const stop_matcher *s)
{
    size_t best = 0;
    for (int i = 0; i < s->n; i++) {
        size_t sl = strlen(s->stops[i]);
        size_t max = sl > 0 ? sl - 1 : 0;
        if (max > s->pending_len)
            max = s->pending_len;
        for (size_t k = max; k > best; k--) {
            if (memcmp(s->pending + s->pending_len - k, s->stops[i], k) == 0) {
                best = k;
                break;
            }
        }
    }
    return best;
}

static int emit_front(stop_matcher *s, size_t n, stop_emit_fn emit, void *user)
{
    int r = 0;
    if (n > 0 && emit)
        r = emit(user, s->pending, n);
    memmove(s->pending, s->pending + n, s->pending_len - n);
    s->pending_len -= n;
    s->pending[s->pending_len] = '\0';
    return r;
}

/* Bytes at the end of p[0..len) that begin a UTF-8 character not yet
 * complete (0-3): a token may end inside a character, and an SSE event must
 * carry valid UTF-8. */
static size_t utf8_incomplete_tail(const char *p, size_t len)
{
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = (unsigned char)p[len - back];
        if ((c & 0xC0) == 0x80)
            continue; /* a continuation byte: look further back */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

int stop_feed(stop_matcher *s, const char *text, size_t len, stop_emit_fn emit, void *user)
{
    if (s->hit || len == 0)
        return 0;
    /* The common case, no stop sequences and nothing held: no copy. */
    if (s->n == 0 && s->pending_len == 0) {
        size_t hold = utf8_incomplete_tail(text, len);
        int r = hold < len && emit ? emit(user, text, len - hold) : 0;
        if (r == 0 && hold)
            r = pending_append(s, text + len - hold, hold);
        return r;
    }
    int r = pending_append(s, text, len);
    if (r < 0)
        return r;
    long at = s->n ? find_stop(s) : -1;
    if (at >= 0) {
        s->hit = true;
        r = emit_front(s, (size_t)at, emit, user);
        s->pending_len = 0;
        return r;
    }
    size_t hold = held_tail(s), partial = utf8_incomplete_tail(s->pending, s->pending_len);
    return emit_front(s, s->pending_len - (hold > partial ? hold : partial), emit, user);
}

int stop_flush(stop_matcher *s, stop_emit_fn emit, void *user)
{
    if (s->hit || s->pending_len == 0)
        return 0;
    return emit_front(s, s->pending_len, emit, user);
}
