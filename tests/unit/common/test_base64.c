/* test_base64.c - RFC 4648 vectors, strict rejection, random round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
