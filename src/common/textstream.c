/*
 * textstream.c - generated text, streamed safely: stop strings and whole
 * UTF-8 characters.
 *
 * DESIGN: the text not handed out yet is text[emitted..len).  After each
 * piece, a stop string can only start there: whatever was handed out was
 * known not to begin one.  The held-back tail is the longest suffix that is
 * a proper prefix of some stop string, or an incomplete character if that is
 * longer; everything before it goes out.  Among several matches the one that
 * ends first wins (then the earlier start), which is where generation would
 * have stopped had the text come byte by byte, so the answer does not depend
 * on how the model cut its pieces.
 */
#include "common/textstream.h"

#include <string.h>

#include "common/err.h"
#include "common/utf8.h"

void textstream_init(textstream *t, char *const *stops, size_t n_stops, unsigned flags)
{
    memset(t, 0, sizeof(*t));
    t->stops = stops;
    t->n_stops = n_stops;
    t->flags = flags;
}

/* Position in text of the stop string that completes first at or after from, or -1. */
static long find_stop(const textstream *t, size_t from)
{
    const char *text = (const char *)t->text.data;
    long best = -1;
    size_t best_end = 0;
    for (size_t i = 0; i < t->n_stops; i++) {
        size_t sl = t->stops[i] != NULL ? strlen(t->stops[i]) : 0;
        if (sl == 0 || sl > t->text.len - from)
            continue;
        const char *hit = memmem(text + from, t->text.len - from, t->stops[i], sl);
        if (hit == NULL)
            continue;
        size_t at = (size_t)(hit - text), end = at + sl;
        if (best < 0 || end < best_end || (end == best_end && (long)at < best)) {
            best = (long)at;
            best_end = end;
        }
    }
    return best;
}

/* Length of the longest tail of text[from..len) that is a proper prefix of a stop. */
static size_t stop_tail(const textstream *t, size_t from)
{
    size_t avail = t->text.len - from, best = 0;
    for (size_t i = 0; i < t->n_stops; i++) {
        size_t sl = t->stops[i] != NULL ? strlen(t->stops[i]) : 0;
        size_t k = sl > 0 ? sl - 1 : 0;
        if (k > avail)
            k = avail;
        for (; k > best; k--) {
            if (memcmp(t->text.data + t->text.len - k, t->stops[i], k) == 0) {
                best = k;
                break;
            }
        }
    }
    return best;
}

/* Bytes at the end of p[from..len) that begin a character still incomplete (0-3). */
static size_t utf8_tail(const uint8_t *p, size_t from, size_t len)
{
    for (size_t back = 1; back <= 3 && back <= len - from; back++) {
        uint8_t c = p[len - back];
        if ((c & 0xC0) == 0x80)
            continue; /* a continuation byte: the lead is further back */
        if (c < 0xC2 || c > 0xF4)
            return 0; /* ASCII, or a byte no character starts with */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        /* Held only when the bytes so far can still become a character. */
        return need > back && utf8_bad_len(p + len - back, back) == back ? back : 0;
    }
    return 0;
}

/* With TEXTSTREAM_REPLACE: the piece as valid UTF-8 in t->out. */
static int sanitize(textstream *t, const char **out, size_t *out_len)
{
    const uint8_t *s = (const uint8_t *)*out;
    size_t len = *out_len, i = 0, run = 0;
    t->out.len = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n > 0) {
            i += n;
            continue;
        }
        rc = buf_append(&t->out, s + run, i - run);
        if (rc == 0)
            rc = buf_append(&t->out, "\xef\xbf\xbd", 3);
        i += utf8_bad_len(s + i, len - i);
        run = i;
    }
    if (rc == 0 && run == 0) /* all valid: no copy */
        return 0;
    if (rc == 0)
        rc = buf_append(&t->out, s + run, len - run);
    if (rc == 0)
        rc = buf_append(&t->out, "", 1);
    if (rc < 0)
        return rc;
    *out = (const char *)t->out.data;
    *out_len = t->out.len - 1;
    return 0;
}

/* Hands out text[emitted..end). */
static int hand_out(textstream *t, size_t end, const char **out, size_t *out_len)
{
    *out = "";
    *out_len = 0;
    if (end <= t->emitted)
        return 0;
    *out = (const char *)t->text.data + t->emitted;
    *out_len = end - t->emitted;
    t->emitted = end;
    return (t->flags & TEXTSTREAM_REPLACE) ? sanitize(t, out, out_len) : 0;
}

int textstream_feed(textstream *t, const char *piece, size_t len, const char **out, size_t *out_len)
{
    *out = "";
    *out_len = 0;
    if (t->hit)
        return 0; /* the text ended at its stop string */
    if ((t->flags & TEXTSTREAM_DISCARD) && t->emitted > 0) {
        memmove(t->text.data, t->text.data + t->emitted, t->text.len - t->emitted);
        t->text.len -= t->emitted;
        t->emitted = 0;
    }
    /* Room for the piece and a NUL kept after the text. */
    int rc = buf_reserve(&t->text, len + 1);
    if (rc < 0)
        return rc;
    if (len > 0)
        memcpy(t->text.data + t->text.len, piece, len);
    t->text.len += len;
    t->text.data[t->text.len] = '\0';

    long at = t->n_stops > 0 ? find_stop(t, t->emitted) : -1;
    if (at >= 0) {
        t->hit = true;
        t->text.len = (size_t)at;
        t->text.data[at] = '\0';
        return hand_out(t, (size_t)at, out, out_len);
    }
    size_t hold = stop_tail(t, t->emitted);
    size_t partial = utf8_tail(t->text.data, t->emitted, t->text.len);
    return hand_out(t, t->text.len - (hold > partial ? hold : partial), out, out_len);
}

int textstream_flush(textstream *t, const char **out, size_t *out_len)
{
    *out = "";
    *out_len = 0;
    if (t->hit)
        return 0;
    return hand_out(t, t->text.len, out, out_len);
}

const char *textstream_text(const textstream *t)
{
    return t->text.data != NULL ? (const char *)t->text.data : "";
}

void textstream_free(textstream *t)
{
    if (t == NULL)
        return;
    buf_free(&t->text);
    buf_free(&t->out);
    t->emitted = 0;
    t->hit = false;
}
