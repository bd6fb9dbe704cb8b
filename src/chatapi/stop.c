/*
 * stop.c - OpenAI "stop" sequences over a stream of text deltas, through
 * common/textstream (which holds back a possible stop sequence and an
 * incomplete UTF-8 character, and never shows the stop sequence itself).
 */
#include "chatapi/chatapi.h"

void stop_init(stop_matcher *s, char *const *stops, int n)
{
    textstream_init(s, stops, n > 0 ? (size_t)n : 0, 0);
}

void stop_free(stop_matcher *s)
{
    textstream_free(s);
}

int stop_feed(stop_matcher *s, const char *text, size_t len, stop_emit_fn emit, void *user)
{
    const char *out;
    size_t out_len;
    int r = textstream_feed(s, text, len, &out, &out_len);
    return r == 0 && out_len > 0 && emit ? emit(user, out, out_len) : r;
}

int stop_flush(stop_matcher *s, stop_emit_fn emit, void *user)
{
    const char *out;
    size_t out_len;
    int r = textstream_flush(s, &out, &out_len);
    return r == 0 && out_len > 0 && emit ? emit(user, out, out_len) : r;
}
