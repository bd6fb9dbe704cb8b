/* test_frame.c - v1 and binary framing, partial input, limits, malformed headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/frame.h"

/* Parses a copy of b[0..len) in an exact-size heap block so ASan sees any overread. */
static int parse_exact(const uint8_t *b, size_t len, size_t max, frame *f, size_t *need,
                       hdm_err *err, uint8_t **copy)
{
    *copy = malloc(len > 0 ? len : 1);
    memcpy(*copy, b, len);
    return frame_parse(*copy, len, max, f, need, err);
}

static void test_v1_round_trip(void **state)
{
    (void)state;
    buf b = {0};
    const char *json = "{\"action\":\"ping\"}";
    assert_int_equal(frame_encode_v1(&b, json, strlen(json)), 0);
    assert_int_equal(b.len, 4 + strlen(json));
    assert_int_equal(read_u32be(b.data), strlen(json));

    frame f;
    hdm_err err = {0};
    assert_int_equal(frame_parse(b.data, b.len, 1024, &f, NULL, &err), 1);
    assert_false(f.binary);
    assert_int_equal(f.json_len, strlen(json));
    assert_memory_equal(f.json, json, f.json_len);
    assert_int_equal(f.n_attachments, 0);
    assert_null(f.attachments);
    assert_int_equal(f.total_len, b.len);
    frame_clear(&f);
    buf_free(&b);
}

static void test_two_frames_back_to_back(void **state)
{
    (void)state;
    buf b = {0};
    assert_int_equal(frame_encode_v1(&b, "{\"a\":1}", 7), 0);
    frame_attachment att = {(const uint8_t *)"xyz", 3};
    assert_int_equal(frame_encode_binary(&b, "{\"b\":2}", 7, &att, 1), 0);

    frame f;
    assert_int_equal(frame_parse(b.data, b.len, 0, &f, NULL, NULL), 1);
    assert_memory_equal(f.json, "{\"a\":1}", 7);
    size_t used = f.total_len;
    frame_clear(&f);
    buf_consume(&b, used);
    assert_int_equal(frame_parse(b.data, b.len, 0, &f, NULL, NULL), 1);
    assert_true(f.binary);
    assert_memory_equal(f.json, "{\"b\":2}", 7);
    assert_int_equal(f.n_attachments, 1);
    assert_memory_equal(f.attachments[0].data, "xyz", 3);
    assert_int_equal(f.total_len, b.len);
    frame_clear(&f);
    buf_free(&b);
}

static void test_binary_round_trip(void **state)
{
    (void)state;
    uint8_t big[1000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    frame_attachment atts[3] = {
        {big, sizeof(big)},
        {NULL, 0},
        {(const uint8_t *)"hello", 5},
    };
    const char *json = "{\"t\":{\"attachment\":0}}";
    buf b = {0};
    assert_int_equal(frame_encode_binary(&b, json, strlen(json), atts, 3), 0);
    assert_int_equal(b.len, 4 + strlen(json) + 4 + 3 * 8 + 1000 + 0 + 5);
    assert_int_equal(read_u32be(b.data), FRAME_BINARY_FLAG | strlen(json));

    frame f;
    hdm_err err = {0};
    assert_int_equal(frame_parse(b.data, b.len, 0, &f, NULL, &err), 1);
    assert_true(f.binary);
    assert_int_equal(f.json_len, strlen(json));
    assert_memory_equal(f.json, json, f.json_len);
    assert_int_equal(f.n_attachments, 3);
    assert_int_equal(f.attachments[0].len, 1000);
    assert_memory_equal(f.attachments[0].data, big, 1000);
    assert_int_equal(f.attachments[1].len, 0);
    assert_int_equal(f.attachments[2].len, 5);
    assert_memory_equal(f.attachments[2].data, "hello", 5);
    assert_int_equal(f.total_len, b.len);
    frame_clear(&f);
    frame_clear(&f); /* clearing twice is harmless */
    frame_clear(NULL);
    buf_free(&b);
}

/* Every proper prefix asks for more (need grows toward the total, never past it). */
static void check_every_split(const buf *b)
{
    for (size_t k = 0; k < b->len; k++) {
        frame f;
        size_t need = 0;
        hdm_err err = {0};
        uint8_t *copy;
        int r = parse_exact(b->data, k, 0, &f, &need, &err, &copy);
        if (r != 0)
            fail_msg("prefix %zu of %zu: returned %d (%s)", k, b->len, r, err.msg);
        assert_true(need > k);
        assert_true(need <= b->len);
        free(copy);
    }
    frame f;
    uint8_t *copy;
    assert_int_equal(parse_exact(b->data, b->len, 0, &f, NULL, NULL, &copy), 1);
    assert_int_equal(f.total_len, b->len);
    frame_clear(&f);
    free(copy);
}

static void test_partial_input_every_split(void **state)
{
    (void)state;
    buf b = {0};
    assert_int_equal(frame_encode_v1(&b, "{\"action\":\"status\"}", 19), 0);
    check_every_split(&b);
    buf_reset(&b);
    assert_int_equal(frame_encode_v1(&b, "", 0), 0);
    check_every_split(&b);
    buf_reset(&b);

    frame_attachment atts[4] = {
        {(const uint8_t *)"abcdefgh", 8},
        {NULL, 0},
        {(const uint8_t *)"0123456789abcdefXYZ", 19},
        {(const uint8_t *)"!", 1},
    };
    assert_int_equal(frame_encode_binary(&b, "{\"x\":[1,2,3]}", 13, atts, 4), 0);
    check_every_split(&b);
    buf_reset(&b);
    assert_int_equal(frame_encode_binary(&b, "{}", 2, NULL, 0), 0);
    check_every_split(&b);
    buf_free(&b);
}

static void test_v1_too_large(void **state)
{
    (void)state;
    uint8_t hdr[4] = {0x00, 0x10, 0x00, 0x01}; /* 1048577 */
    frame f;
    hdm_err err = {0};
    assert_int_equal(frame_parse(hdr, 4, 1048576, &f, NULL, &err), -HDM_E_TOO_LARGE);
    assert_int_equal(err.code, HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "Message too large: 1048577 bytes");

    /* Exactly at the limit is fine: it just needs the body. */
    uint8_t at_limit[4] = {0x00, 0x10, 0x00, 0x00};
    size_t need = 0;
    assert_int_equal(frame_parse(at_limit, 4, 1048576, &f, &need, &err), 0);
    assert_int_equal(need, 4 + 1048576);

    /* The default limit (max_bytes 0) is 64 MiB. */
    uint8_t over_default[4] = {0x04, 0x00, 0x00, 0x01};
    assert_int_equal(frame_parse(over_default, 4, 0, &f, NULL, &err), -HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "Message too large: 67108865 bytes");
    uint8_t max_v1[4] = {0x7f, 0xff, 0xff, 0xff};
    assert_int_equal(frame_parse(max_v1, 4, 0, &f, NULL, &err), -HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "Message too large: 2147483647 bytes");
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)(v >> 32));
    put_u32(p + 4, (uint32_t)v);
}

static void test_binary_too_large(void **state)
{
    (void)state;
    frame f;
    hdm_err err = {0};
    /* The JSON part alone exceeds the limit: refused from the length word. */
    uint8_t hdr[4];
    put_u32(hdr, FRAME_BINARY_FLAG | 2000);
    assert_int_equal(frame_parse(hdr, 4, 1000, &f, NULL, &err), -HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "Message too large: 2008 bytes");

    /* An attachment pushes the running total over the limit. */
    uint8_t b[4 + 2 + 4 + 8];
    put_u32(b, FRAME_BINARY_FLAG | 2);
    memcpy(b + 4, "{}", 2);
    put_u32(b + 6, 1);
    put_u64(b + 10, 990);
    assert_int_equal(frame_parse(b, sizeof(b), 1000, &f, NULL, &err), -HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "Message too large: 1008 bytes");
    /* 982 bytes of attachment make exactly 1000: allowed (needs the bytes). */
    put_u64(b + 10, 982);
    size_t need = 0;
    assert_int_equal(frame_parse(b, sizeof(b), 1000, &f, &need, &err), 0);
    assert_int_equal(need, 1000);
    /* One byte more is over. */
    put_u64(b + 10, 983);
    assert_int_equal(frame_parse(b, sizeof(b), 1000, &f, &need, &err), -HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "Message too large: 1001 bytes");

    /* A huge length that does not wrap is too large, not a crash. */
    put_u64(b + 10, UINT64_MAX - 100);
    assert_int_equal(frame_parse(b, sizeof(b), 0, &f, NULL, &err), -HDM_E_TOO_LARGE);
    assert_int_equal(err.code, HDM_E_TOO_LARGE);
}

static void test_binary_malformed(void **state)
{
    (void)state;
    frame f;
    hdm_err err = {0};
    uint8_t b[4 + 2 + 4 + 8 + 8];
    put_u32(b, FRAME_BINARY_FLAG | 2);
    memcpy(b + 4, "{}", 2);

    /* More attachments than allowed. */
    put_u32(b + 6, FRAME_MAX_ATTACHMENTS + 1);
    assert_int_equal(frame_parse(b, 10, 0, &f, NULL, &err), -HDM_E_PROTOCOL);
    assert_non_null(strstr(err.msg, "4097 attachments"));
    put_u32(b + 6, UINT32_MAX);
    assert_int_equal(frame_parse(b, 10, 0, &f, NULL, &err), -HDM_E_PROTOCOL);

    /* An attachment length whose sum with the header wraps 64 bits. */
    put_u32(b + 6, 2);
    put_u64(b + 10, UINT64_MAX);
    assert_int_equal(frame_parse(b, 18, 0, &f, NULL, &err), -HDM_E_PROTOCOL);
    assert_non_null(strstr(err.msg, "overflow"));
    put_u64(b + 10, UINT64_MAX - 10);
    assert_int_equal(frame_parse(b, 18, 0, &f, NULL, &err), -HDM_E_PROTOCOL);

    /* Two lengths each under the limit but together over it. */
    uint8_t two[4 + 2 + 4 + 8 + 600 + 8];
    memset(two, 'a', sizeof(two));
    put_u32(two, FRAME_BINARY_FLAG | 2);
    memcpy(two + 4, "{}", 2);
    put_u32(two + 6, 2);
    put_u64(two + 10, 600);
    put_u64(two + 18 + 600, 600);
    assert_int_equal(frame_parse(two, sizeof(two), 1000, &f, NULL, &err), -HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "Message too large: 1226 bytes");
}

static void test_max_attachments_accepted(void **state)
{
    (void)state;
    frame_attachment *atts = calloc(FRAME_MAX_ATTACHMENTS, sizeof(*atts));
    for (int i = 0; i < FRAME_MAX_ATTACHMENTS; i++) {
        atts[i].data = (const uint8_t *)"z";
        atts[i].len = (uint64_t)(i % 2);
    }
    buf b = {0};
    assert_int_equal(frame_encode_binary(&b, "{}", 2, atts, FRAME_MAX_ATTACHMENTS), 0);
    frame f;
    assert_int_equal(frame_parse(b.data, b.len, 0, &f, NULL, NULL), 1);
    assert_int_equal(f.n_attachments, FRAME_MAX_ATTACHMENTS);
    assert_int_equal(f.attachments[FRAME_MAX_ATTACHMENTS - 1].len, 1);
    assert_int_equal(f.attachments[FRAME_MAX_ATTACHMENTS - 1].data[0], 'z');
    frame_clear(&f);
    assert_int_equal(frame_encode_binary(&b, "{}", 2, atts, FRAME_MAX_ATTACHMENTS + 1),
                     -HDM_E_TOO_LARGE);
    buf_free(&b);
    free(atts);
}

static void test_encode_refuses_flagged_lengths(void **state)
{
    (void)state;
    buf b = {0};
    /* Lengths with the top bit set would read back as another frame kind; nothing is read. */
    assert_int_equal(frame_encode_v1(&b, "x", (size_t)FRAME_BINARY_FLAG), -HDM_E_TOO_LARGE);
    assert_int_equal(frame_encode_binary(&b, "x", (size_t)FRAME_BINARY_FLAG, NULL, 0),
                     -HDM_E_TOO_LARGE);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_random_garbage_never_crashes(void **state)
{
    (void)state;
    srand(777);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)(rand() % 64);
        uint8_t tmp[64];
        for (size_t i = 0; i < len; i++)
            tmp[i] = (uint8_t)rand();
        /* Bias toward the binary flag and small counts so the deep paths run. */
        if (len >= 4 && (iter & 1)) {
            tmp[0] = 0x80;
            tmp[1] = 0;
            tmp[2] = 0;
            tmp[3] = (uint8_t)(rand() % 8);
        }
        if (len >= 12 && (iter & 2)) {
            size_t at = 4 + tmp[3];
            if (at + 4 <= len)
                put_u32(tmp + at, (uint32_t)(rand() % 4));
        }
        frame f;
        size_t need = 0;
        hdm_err err = {0};
        uint8_t *copy;
        int r = parse_exact(tmp, len, 4096, &f, &need, &err, &copy);
        if (r == 1) {
            assert_true(f.total_len <= len);
            for (uint32_t i = 0; i < f.n_attachments; i++)
                assert_true(f.attachments[i].data + f.attachments[i].len <= copy + len);
            frame_clear(&f);
        } else if (r == 0) {
            assert_true(need > len);
        } else {
            assert_true(err.code == HDM_E_TOO_LARGE || err.code == HDM_E_PROTOCOL);
        }
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_round_trip),
        cmocka_unit_test(test_two_frames_back_to_back),
        cmocka_unit_test(test_binary_round_trip),
        cmocka_unit_test(test_partial_input_every_split),
        cmocka_unit_test(test_v1_too_large),
        cmocka_unit_test(test_binary_too_large),
        cmocka_unit_test(test_binary_malformed),
        cmocka_unit_test(test_max_attachments_accepted),
        cmocka_unit_test(test_encode_refuses_flagged_lengths),
        cmocka_unit_test(test_random_garbage_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
