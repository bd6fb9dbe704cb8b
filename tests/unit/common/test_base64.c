/*
 * test_base64.c - RFC 4648 vectors, strict rejection, random round trips;
 * the lenient decoder against python3's base64.b64decode
 * (tests/data/base64/py_decode.txt).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"

static const struct {
    const char *plain;
    const char *encoded;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_rfc_vectors_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        size_t n = strlen(rfc4648[i].plain);
        char out[32];
        assert_int_equal(base64_encoded_len(n), strlen(rfc4648[i].encoded));
        base64_encode((const uint8_t *)rfc4648[i].plain, n, out);
        assert_string_equal(out, rfc4648[i].encoded);
    }
}

static void test_rfc_vectors_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        const char *enc = rfc4648[i].encoded;
        uint8_t out[32];
        assert_true(base64_decoded_max(strlen(enc)) <= sizeof(out));
        long n = base64_decode(enc, strlen(enc), out, NULL);
        assert_int_equal(n, strlen(rfc4648[i].plain));
        assert_memory_equal(out, rfc4648[i].plain, (size_t)n);
    }
}

static void test_decode_without_padding(void **state)
{
    (void)state;
    uint8_t out[16];
    assert_int_equal(base64_decode("Zg", 2, out, NULL), 1);
    assert_int_equal(out[0], 'f');
    assert_int_equal(base64_decode("Zm8", 3, out, NULL), 2);
    assert_memory_equal(out, "fo", 2);
    assert_int_equal(base64_decode("Zm9vYmE", 7, out, NULL), 5);
    assert_memory_equal(out, "fooba", 5);
}

static void expect_bad(const char *in, size_t want_pos)
{
    uint8_t out[64];
    size_t pos = 9999;
    long n = base64_decode(in, strlen(in), out, &pos);
    if (n != -1)
        fail_msg("\"%s\" decoded to %ld bytes but is invalid", in, n);
    if (pos != want_pos)
        fail_msg("\"%s\": bad_pos %zu, expected %zu", in, pos, want_pos);
}

static void test_invalid_characters(void **state)
{
    (void)state;
    expect_bad("Zm9v!mFy", 4);
    expect_bad("Zm9 YmFy", 3); /* whitespace is not allowed */
    expect_bad("Zm9vYmF\n", 7);
    expect_bad("Zm-v", 2); /* base64url alphabet is not accepted */
    expect_bad("Zm_v", 2);
    expect_bad("Zg=a", 2); /* padding in the middle */
    expect_bad("Z===", 1); /* three pad chars: one is left as a bad char */
    expect_bad("Zm=vYmFy", 2);
    expect_bad("\xc3\xa9xy", 0); /* non-ASCII */
}

static void test_invalid_lengths(void **state)
{
    (void)state;
    expect_bad("Z", 1); /* one char cannot hold a byte */
    expect_bad("Zm9vY", 5);
    expect_bad("Zg=", 3); /* padding that does not complete a quantum */
    expect_bad("Zm9vYg=", 7);
    expect_bad("Zm8==", 5);
}

static void test_non_canonical_rejected(void **state)
{
    (void)state;
    /* "Zh==" decodes to 'f' only if the low bits of 'h' are ignored. */
    expect_bad("Zh==", 1);
    expect_bad("Zm9=", 2);
    expect_bad("Zh", 1);
}

static void test_embedded_nul_rejected(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t pos = 0;
    assert_int_equal(base64_decode("Zm\0v", 4, out, &pos), -1);
    assert_int_equal(pos, 2);
}

static void test_decoded_max_bounds(void **state)
{
    (void)state;
    for (size_t n = 0; n < 64; n++) {
        size_t max = base64_decoded_max(n);
        assert_true(max >= n / 4 * 3);
        assert_true(max <= n / 4 * 3 + 3);
    }
}

static void test_random_round_trips(void **state)
{
    (void)state;
    srand(12345);
    for (int iter = 0; iter < 500; iter++) {
        size_t n = (size_t)(rand() % 3000);
        uint8_t *data = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)rand();
        size_t elen = base64_encoded_len(n);
        char *enc = malloc(elen + 1);
        base64_encode(data, n, enc);
        assert_int_equal(strlen(enc), elen);
        uint8_t *back = malloc(base64_decoded_max(elen) + 1);
        long m = base64_decode(enc, elen, back, NULL);
        assert_int_equal(m, n);
        assert_memory_equal(back, data, n);
        /* Stripping the padding must decode to the same bytes. */
        size_t unpadded = elen;
        while (unpadded > 0 && enc[unpadded - 1] == '=')
            unpadded--;
        m = base64_decode(enc, unpadded, back, NULL);
        assert_int_equal(m, n);
        assert_memory_equal(back, data, n);
        free(data);
        free(enc);
        free(back);
    }
}

static void test_every_byte_value(void **state)
{
    (void)state;
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char enc[400];
    base64_encode(all, sizeof(all), enc);
    uint8_t back[300];
    assert_int_equal(base64_decode(enc, strlen(enc), back, NULL), 256);
    assert_memory_equal(back, all, 256);
}

static size_t unhex(const char *hex, uint8_t *out)
{
    if (strcmp(hex, "-") == 0)
        return 0;
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* Compares one result with "ok <hex>" or "err <message>". */
static int check_py(const char *want, long got, const uint8_t *out, const hdm_err *err)
{
    static uint8_t expect[4096];
    if (strncmp(want, "ok ", 3) == 0) {
        size_t n = unhex(want + 3, expect);
        return got == (long)n && memcmp(out, expect, n) == 0;
    }
    return got == -HDM_E_BAD_REQUEST && err->code == HDM_E_BAD_REQUEST &&
           strcmp(err->msg, want + 4) == 0;
}

static void test_py_decode_matches_python(void **state)
{
    (void)state;
    const char *dir = getenv("HDM_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/base64/py_decode.txt", dir != NULL ? dir : "tests/data");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    static char line[16384];
    static uint8_t in[4096], out[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *plain_want = strchr(line, '\t');
        assert_non_null(plain_want);
        *plain_want++ = '\0';
        char *uri_want = strchr(plain_want, '\t');
        assert_non_null(uri_want);
        *uri_want++ = '\0';
        size_t len = unhex(line, in);
        assert_true(base64_decoded_max(len) <= sizeof(out));

        hdm_err err;
        hdm_err_clear(&err);
        long got = base64_py_decode((const char *)in, len, out, &err);
        if (!check_py(plain_want, got, out, &err))
            fail_msg("b64decode of %s: python %s, ours %ld %s", line, plain_want, got, err.msg);

        hdm_err_clear(&err);
        const char *b64;
        size_t b64_len;
        int r = base64_py_strip_data_uri((const char *)in, len, &b64, &b64_len, &err);
        got = r < 0 ? r : base64_py_decode(b64, b64_len, out, &err);
        if (!check_py(uri_want, got, out, &err))
            fail_msg("data-URI rule on %s: python %s, ours %ld %s", line, uri_want, got, err.msg);
        n++;
    }
    fclose(f);
    assert_true(n > 500);
}

/* Decoding in place, over a large clean input and one with junk in it. */
static void test_py_decode_in_place(void **state)
{
    (void)state;
    size_t n = 300000;
    uint8_t *raw = malloc(n);
    assert_non_null(raw);
    for (size_t i = 0; i < n; i++)
        raw[i] = (uint8_t)(i * 7919u >> 3);
    size_t elen = base64_encoded_len(n);
    char *enc = malloc(elen + 2);
    assert_non_null(enc);
    base64_encode(raw, n, enc);
    long got = base64_py_decode(enc, elen, (uint8_t *)enc, NULL);
    assert_int_equal(got, (long)n);
    assert_memory_equal(enc, raw, n);

    /* Line breaks every 76 characters, as MIME writers do. */
    char *mime = malloc(elen + elen / 76 + 2);
    assert_non_null(mime);
    base64_encode(raw, n, enc);
    size_t m = 0;
    for (size_t i = 0; i < elen; i++) {
        mime[m++] = enc[i];
        if (i % 76 == 75)
            mime[m++] = '\n';
    }
    got = base64_py_decode(mime, m, (uint8_t *)mime, NULL);
    assert_int_equal(got, (long)n);
    assert_memory_equal(mime, raw, n);
    free(mime);
    free(enc);
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_vectors_encode),
        cmocka_unit_test(test_rfc_vectors_decode),
        cmocka_unit_test(test_decode_without_padding),
        cmocka_unit_test(test_invalid_characters),
        cmocka_unit_test(test_invalid_lengths),
        cmocka_unit_test(test_non_canonical_rejected),
        cmocka_unit_test(test_embedded_nul_rejected),
        cmocka_unit_test(test_decoded_max_bounds),
        cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_py_decode_matches_python),
        cmocka_unit_test(test_py_decode_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
