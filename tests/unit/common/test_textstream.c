/* test_textstream.c - stop strings and whole UTF-8 characters over streamed pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/textstream.h"
#include "common/utf8.h"

typedef struct sink {
    char text[4096];
    size_t len;
} sink;

static void take(sink *s, const char *out, size_t len)
{
    assert_non_null(out);
    assert_true(s->len + len < sizeof(s->text));
    memcpy(s->text + s->len, out, len);
    s->len += len;
    s->text[s->len] = '\0';
}

static void feed(textstream *t, sink *s, const char *piece)
{
    const char *out;
    size_t len;
    assert_int_equal(textstream_feed(t, piece, strlen(piece), &out, &len), 0);
    take(s, out, len);
}

static void flush(textstream *t, sink *s)
{
    const char *out;
    size_t len;
    assert_int_equal(textstream_flush(t, &out, &len), 0);
    take(s, out, len);
}

static void test_no_stops_pass_through(void **state)
{
    (void)state;
    textstream t = {0};
    sink s = {0};
    feed(&t, &s, "Hello");
    assert_string_equal(s.text, "Hello");
    feed(&t, &s, " world");
    assert_string_equal(s.text, "Hello world");
    assert_false(t.hit);
    assert_string_equal(textstream_text(&t), "Hello world");
    textstream_free(&t);
    textstream_free(&t);
    textstream_free(NULL);
    assert_string_equal(textstream_text(&t), "");
}

static void test_stop_split_across_pieces(void **state)
{
    (void)state;
    char *stops[] = {"</end>"};
    textstream t;
    textstream_init(&t, stops, 1, 0);
    sink s = {0};
    feed(&t, &s, "Hello</");
    assert_string_equal(s.text, "Hello"); /* "</" held back */
    feed(&t, &s, "en");
    assert_string_equal(s.text, "Hello");
    feed(&t, &s, "d> more text");
    assert_true(t.hit);
    assert_string_equal(s.text, "Hello");
    feed(&t, &s, "ignored");
    flush(&t, &s);
    assert_string_equal(s.text, "Hello");
    assert_string_equal(textstream_text(&t), "Hello");
    textstream_free(&t);
}

static void test_false_prefix_is_released(void **state)
{
    (void)state;
    char *stops[] = {"<end>"};
    textstream t;
    textstream_init(&t, stops, 1, 0);
    sink s = {0};
    feed(&t, &s, "a<");
    assert_string_equal(s.text, "a");
    feed(&t, &s, "b");
    assert_string_equal(s.text, "a<b");
    feed(&t, &s, "<en");
    assert_string_equal(s.text, "a<b");
    flush(&t, &s);
    assert_string_equal(s.text, "a<b<en");
    assert_false(t.hit);
    textstream_free(&t);
}

static void test_first_to_end_wins(void **state)
{
    (void)state;
    char *stops[] = {"STOP", "\n\n", NULL, "xyz"};
    textstream t;
    textstream_init(&t, stops, 4, 0);
    sink s = {0};
    feed(&t, &s, "one\n\ntwo STOP");
    assert_true(t.hit);
    assert_string_equal(s.text, "one");
    textstream_free(&t);

    /* "a" ends before "xab" does: the cut is at 1 in one piece or byte by byte. */
    char *overlap[] = {"xab", "a"};
    const char *ways[][4] = {{"xab", NULL}, {"x", "a", "b", NULL}, {"xa", "b", NULL}};
    for (size_t w = 0; w < 3; w++) {
        textstream_init(&t, overlap, 2, 0);
        sink o = {0};
        for (size_t i = 0; ways[w][i] != NULL; i++)
            feed(&t, &o, ways[w][i]);
        flush(&t, &o);
        assert_true(t.hit);
        assert_string_equal(o.text, "x");
        textstream_free(&t);
    }
}

static void test_stop_at_start_and_empty_stop(void **state)
{
    (void)state;
    char *stops[] = {"Hi"};
    textstream t;
    textstream_init(&t, stops, 1, 0);
    sink s = {0};
    feed(&t, &s, "Hi there");
    assert_true(t.hit);
    assert_int_equal(s.len, 0);
    textstream_free(&t);

    char *empty[] = {""};
    textstream_init(&t, empty, 1, 0);
    feed(&t, &s, "abc");
    assert_string_equal(s.text, "abc");
    assert_false(t.hit);
    textstream_free(&t);
}

static void test_utf8_is_not_split(void **state)
{
    (void)state;
    char *stops[] = {"\xc3\xa9t\xc3\xa9"}; /* "été" */
    textstream t;
    textstream_init(&t, stops, 1, 0);
    sink s = {0};
    feed(&t, &s, "caf\xc3\xa9"); /* "café": "é" may begin "été" */
    assert_string_equal(s.text, "caf");
    feed(&t, &s, "!");
    assert_string_equal(s.text, "caf\xc3\xa9!");
    textstream_free(&t);

    textstream_init(&t, NULL, 0, 0);
    sink u = {0};
    feed(&t, &u, "caf\xc3"); /* a token ending inside "é" */
    assert_string_equal(u.text, "caf");
    feed(&t, &u, "\xa9 \xf0\x9f"); /* "é " and half of an emoji */
    assert_string_equal(u.text, "caf\xc3\xa9 ");
    feed(&t, &u, "\x98");
    assert_string_equal(u.text, "caf\xc3\xa9 ");
    feed(&t, &u, "\x80!");
    assert_string_equal(u.text, "caf\xc3\xa9 \xf0\x9f\x98\x80!");
    /* Bytes that can never become a character are not held. */
    feed(&t, &u, "\xff");
    assert_string_equal(u.text, "caf\xc3\xa9 \xf0\x9f\x98\x80!\xff");
    feed(&t, &u, "\xe0\x80"); /* overlong start: never a character */
    assert_int_equal(u.len, strlen("caf\xc3\xa9 \xf0\x9f\x98\x80!\xff\xe0\x80"));
    textstream_free(&t);
}

/* The manager's delta frames: valid UTF-8 only, nothing kept once sent. */
static void test_replace_and_discard(void **state)
{
    (void)state;
    textstream t;
    textstream_init(&t, NULL, 0, TEXTSTREAM_DISCARD | TEXTSTREAM_REPLACE);
    sink s = {0};
    feed(&t, &s, "ab\xc3");
    assert_string_equal(s.text, "ab");
    assert_string_equal(textstream_text(&t), "ab\xc3");
    feed(&t, &s, "\xa9!");
    assert_string_equal(s.text, "ab\xc3\xa9!");
    assert_string_equal(textstream_text(&t), "\xc3\xa9!"); /* dropped at the next feed */
    feed(&t, &s, "a\xffz");
    assert_string_equal(s.text, "ab\xc3\xa9!a\xef\xbf\xbdz");
    /* A character cut short and then abandoned: one U+FFFD, as Python. */
    feed(&t, &s, "\xe2\x82");
    feed(&t, &s, "A");
    assert_string_equal(s.text, "ab\xc3\xa9!a\xef\xbf\xbdz\xef\xbf\xbd"
                                "A");
    feed(&t, &s, "\xf0\x9f");
    flush(&t, &s);
    assert_string_equal(s.text, "ab\xc3\xa9!a\xef\xbf\xbdz\xef\xbf\xbd"
                                "A\xef\xbf\xbd");
    textstream_free(&t);
}

/* ---- properties over random texts, stops and cuts ---------------------------- */

static uint32_t rng = 12345;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Where generation stops in all of text: the match that ends first. */
static size_t reference_cut(const char *text, size_t len, char **stops, size_t n, bool *hit)
{
    *hit = false;
    for (size_t end = 1; end <= len; end++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            size_t sl = strlen(stops[i]);
            if (sl > 0 && sl <= end && memcmp(text + end - sl, stops[i], sl) == 0 &&
                end - sl < best)
                best = end - sl;
        }
        if (best != SIZE_MAX) {
            *hit = true;
            return best;
        }
    }
    return len;
}

static void test_random_cuts_agree(void **state)
{
    (void)state;
    /* Short alphabets make stop strings and their prefixes frequent. */
    static const char *const atoms[] = {
        "a", "b", "<", "/", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " "};
    for (int round = 0; round < 3000; round++) {
        char text[256];
        size_t len = 0;
        int n_atoms = (int)(next() % 40);
        for (int k = 0; k < n_atoms; k++) {
            const char *a = atoms[next() % 8];
            memcpy(text + len, a, strlen(a));
            len += strlen(a);
        }
        text[len] = '\0';
        char stop_store[3][16];
        char *stops[3];
        size_t n_stops = next() % 4;
        for (size_t i = 0; i < n_stops; i++) {
            size_t sl = 0;
            int parts = 1 + (int)(next() % 3);
            for (int k = 0; k < parts; k++) {
                const char *a = atoms[next() % 4];
                memcpy(stop_store[i] + sl, a, strlen(a));
                sl += strlen(a);
            }
            stop_store[i][sl] = '\0';
            stops[i] = stop_store[i];
        }
        bool want_hit;
        size_t cut = reference_cut(text, len, stops, n_stops, &want_hit);

        textstream t;
        textstream_init(&t, stops, n_stops, next() % 2 ? TEXTSTREAM_DISCARD : 0);
        sink s = {0};
        size_t pos = 0;
        while (pos < len) {
            size_t piece = 1 + next() % 6;
            if (piece > len - pos)
                piece = len - pos;
            const char *out;
            size_t out_len;
            assert_int_equal(textstream_feed(&t, text + pos, piece, &out, &out_len), 0);
            /* Every piece handed out is whole characters. */
            assert_true(utf8_valid(out, out_len));
            take(&s, out, out_len);
            pos += piece;
        }
        flush(&t, &s);
        assert_int_equal(t.hit, want_hit);
        assert_int_equal(s.len, cut);
        assert_memory_equal(s.text, text, cut);
        if (!(t.flags & TEXTSTREAM_DISCARD))
            assert_string_equal(textstream_text(&t), s.text);
        textstream_free(&t);
    }
}

/* Random bytes through REPLACE: the same as decoding the whole text at once. */
static void test_random_bytes_replace_like_whole(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {'a',  0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed,
                                    0xa0, 0xf0, 0x9f, 0x98, 0xf4, 0x90, 0xff, 0xc0};
    for (int round = 0; round < 3000; round++) {
        uint8_t text[64];
        size_t len = next() % sizeof(text);
        for (size_t i = 0; i < len; i++)
            text[i] = bytes[next() % sizeof(bytes)];
        /* The whole text decoded once. */
        char want[256];
        size_t w = 0;
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            size_t n = utf8_decode(text + i, len - i, &cp);
            if (n > 0) {
                memcpy(want + w, text + i, n);
                w += n;
                i += n;
            } else {
                memcpy(want + w, "\xef\xbf\xbd", 3);
                w += 3;
                i += utf8_bad_len(text + i, len - i);
            }
        }
        textstream t;
        textstream_init(&t, NULL, 0, TEXTSTREAM_DISCARD | TEXTSTREAM_REPLACE);
        sink s = {0};
        for (size_t pos = 0; pos < len;) {
            size_t piece = 1 + next() % 5;
            if (piece > len - pos)
                piece = len - pos;
            const char *out;
            size_t out_len;
            assert_int_equal(textstream_feed(&t, (const char *)text + pos, piece, &out, &out_len),
                             0);
            assert_true(utf8_valid(out, out_len));
            take(&s, out, out_len);
            pos += piece;
        }
        flush(&t, &s);
        assert_int_equal(s.len, w);
        assert_memory_equal(s.text, want, w);
        textstream_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_stops_pass_through),
        cmocka_unit_test(test_stop_split_across_pieces),
        cmocka_unit_test(test_false_prefix_is_released),
        cmocka_unit_test(test_first_to_end_wins),
        cmocka_unit_test(test_stop_at_start_and_empty_stop),
        cmocka_unit_test(test_utf8_is_not_split),
        cmocka_unit_test(test_replace_and_discard),
        cmocka_unit_test(test_random_cuts_agree),
        cmocka_unit_test(test_random_bytes_replace_like_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
