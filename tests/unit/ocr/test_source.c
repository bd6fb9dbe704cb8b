/*
 * test_source.c - image references to bytes: data: URIs and plain base64
 * decoded as Python's b64decode, file:// only beneath allowed directories
 * with one sentence for missing / outside / not a file, size limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ocr/ocr.h"

static char dir[64], outside[64];
static path_allowlist allow;

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test-ocr-src-XXXXXX");
    snprintf(outside, sizeof(outside), "/tmp/test-ocr-out-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_non_null(mkdtemp(outside));
    char p[256];
    snprintf(p, sizeof(p), "%s/img.bin", dir);
    put(p, "IMAGEBYTES");
    snprintf(p, sizeof(p), "%s/empty.bin", dir);
    put(p, "");
    snprintf(p, sizeof(p), "%s/big.bin", dir);
    put(p, "0123456789abcdef0123456789abcdef");
    snprintf(p, sizeof(p), "%s/sub", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/secret.bin", outside);
    put(p, "SECRET");
    char link[256];
    snprintf(link, sizeof(link), "%s/link.bin", dir);
    assert_int_equal(symlink(p, link), 0);
    assert_int_equal(path_allowlist_parse(&allow, dir), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    path_allowlist_free(&allow);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, outside);
    return system(cmd) == 0 ? 0 : -1;
}

static int load(const char *s, const path_allowlist *l, size_t max, uint8_t **out, size_t *n,
                hdm_err *err)
{
    return ocr_source_load(s, strlen(s), l, max, out, n, err);
}

static void expect_bytes(const char *ref, const char *want)
{
    uint8_t *out = NULL;
    size_t n = 0;
    hdm_err err = {0};
    int r = load(ref, &allow, 1 << 20, &out, &n, &err);
    if (r != 0)
        fail_msg("'%s': %s", ref, err.msg);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    free(out);
}

static void expect_error(const char *ref, size_t max, int code, const char *needle)
{
    uint8_t *out = (uint8_t *)"untouched";
    size_t n = 0;
    hdm_err err = {0};
    assert_int_equal(load(ref, &allow, max, &out, &n, &err), -code);
    assert_null(out);
    if (!strstr(err.msg, needle))
        fail_msg("'%s': error '%s' does not name '%s'", ref, err.msg, needle);
}

static void test_kinds(void **state)
{
    (void)state;
    assert_int_equal(ocr_source_kind_of("data:x,y", 8), OCR_SOURCE_DATA_URI);
    assert_int_equal(ocr_source_kind_of("file:///a", 9), OCR_SOURCE_FILE);
    assert_int_equal(ocr_source_kind_of("QUJD", 4), OCR_SOURCE_BASE64);
    assert_int_equal(ocr_source_kind_of("dat", 3), OCR_SOURCE_BASE64);
}

static void test_base64(void **state)
{
    (void)state;
    expect_bytes("data:image/png;base64,QUJD", "ABC");
    /* The media type is not checked; everything up to the first comma goes. */
    expect_bytes("data:whatever,QUJD", "ABC");
    /* Plain base64 (the original refused it), lenient as b64decode: junk
     * characters are dropped, a line break is fine. */
    expect_bytes("QUJD", "ABC");
    expect_bytes("QU\nJ-D!", "ABC");
    expect_error("QUJ", 64, HDM_E_BAD_REQUEST, "Incorrect padding");
    expect_error("QUJDR", 64, HDM_E_BAD_REQUEST,
                 "number of data characters (5) cannot be 1 more than a multiple of 4");
    expect_error("data:image/png;base64", 64, HDM_E_BAD_REQUEST, "list index out of range");
    expect_error("data:image/png;base64,", 64, HDM_E_BAD_REQUEST, "empty");
    expect_error("!!!!", 64, HDM_E_BAD_REQUEST, "empty");
    expect_error("QUJD\xC3\xA9", 64, HDM_E_BAD_REQUEST, "ASCII");
}

static void test_files(void **state)
{
    (void)state;
    char ref[256];
    snprintf(ref, sizeof(ref), "file://%s/img.bin", dir);
    expect_bytes(ref, "IMAGEBYTES");
    /* Off without allowed directories. */
    uint8_t *out = NULL;
    size_t n;
    hdm_err err = {0};
    path_allowlist none = {0};
    assert_int_equal(load(ref, &none, 1 << 20, &out, &n, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "images.allowed_dirs is empty"));
    /* Missing, outside, through a symlink, a directory: one sentence. */
    const char *names[] = {"missing.bin", "link.bin", "sub", "../" /* dir itself */};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(ref, sizeof(ref), "file://%s/%s", dir, names[i]);
        expect_error(ref, 1 << 20, HDM_E_BAD_REQUEST,
                     "is not a readable file in the allowed directories");
    }
    snprintf(ref, sizeof(ref), "file://%s/secret.bin", outside);
    expect_error(ref, 1 << 20, HDM_E_BAD_REQUEST,
                 "is not a readable file in the allowed directories");
    expect_error("file://relative.png", 1 << 20, HDM_E_BAD_REQUEST, "absolute");
    snprintf(ref, sizeof(ref), "file://%s/big.bin", dir);
    expect_error(ref, 16, HDM_E_TOO_LARGE, "exceeds the limit of 16");
    snprintf(ref, sizeof(ref), "file://%s/empty.bin", dir);
    expect_error(ref, 64, HDM_E_BAD_REQUEST, "image file is empty");
    /* A NUL inside the path */
    char withnul[64] = "file:///tmp/a";
    assert_int_equal(ocr_source_load(withnul, 20, &allow, 64, &out, &n, &err),
                     -HDM_E_BAD_REQUEST);
    expect_error("", 64, HDM_E_BAD_REQUEST, "Missing 'image' parameter");
}

/* Decoding over the text itself gives what ocr_source_load gives, bytes
 * and errors, for each reference (a copy, since the text is overwritten). */
static void expect_in_place_same(const char *ref, size_t len)
{
    uint8_t *want = NULL, *got = NULL;
    size_t want_n = 0, got_n = 0;
    hdm_err e1 = {0}, e2 = {0};
    int r1 = ocr_source_load(ref, len, &allow, 64, &want, &want_n, &e1);
    char *text = malloc(len + 1);
    assert_non_null(text);
    memcpy(text, ref, len);
    text[len] = '\0';
    int r2 = ocr_source_decode_in_place(text, len, &got, &got_n, &e2);
    assert_int_equal(r2, r1);
    if (r1 == 0) {
        assert_ptr_equal(got, (uint8_t *)text);
        assert_int_equal(got_n, want_n);
        assert_memory_equal(got, want, want_n);
    } else {
        assert_null(got);
        assert_string_equal(e2.msg, e1.msg);
    }
    free(text);
    free(want);
}

static void test_decode_in_place(void **state)
{
    (void)state;
    const char *refs[] = {"data:image/png;base64,QUJD", "QUJD", "QU\nJ-D!", "QUJ", "QUJDR",
                          "data:image/png;base64", "data:image/png;base64,", "!!!!",
                          "QUJD\xC3\xA9", "QUI=", "QQ==", "QQ==QUJD", "QUJD=QUJD"};
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
        expect_in_place_same(refs[i], strlen(refs[i]));
    /* Every byte value, many quanta, with and without junk between them. */
    enum { N = 3000 };
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *b = malloc(N * 2 + 64);
    assert_non_null(b);
    size_t n = (size_t)snprintf(b, 64, "data:image/jpeg;base64,");
    unsigned x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        b[n++] = abc[(x >> 16) & 63];
        if (i % 97 == 96)
            b[n++] = '\n';
    }
    expect_in_place_same(b, n);
    expect_in_place_same(b + 23, n - 23);
    free(b);
    /* file:// is read, not decoded; an empty reference is missing. */
    uint8_t *out = (uint8_t *)"x";
    size_t out_n = 1;
    hdm_err err = {0};
    char file_ref[] = "file:///tmp/a.png";
    assert_int_equal(ocr_source_decode_in_place(file_ref, strlen(file_ref), &out, &out_n, &err),
                     -HDM_E_BAD_REQUEST);
    assert_null(out);
    assert_string_equal(file_ref, "file:///tmp/a.png");
    char empty[] = "";
    assert_int_equal(ocr_source_decode_in_place(empty, 0, &out, &out_n, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "Missing 'image' parameter"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_decode_in_place),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
