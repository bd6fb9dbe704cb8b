/*
 * source.c - an image reference to its encoded bytes (ocr.h).
 *
 * The original accepted "data:...,<base64>" (decoded leniently by
 * base64.b64decode) and "file:///path" (cv2.imread of any file the service
 * could read) and refused everything else.  Here plain base64 is accepted
 * too, and file:// only reads regular files beneath images.allowed_dirs,
 * opened without following symlinks (common/paths.h), with one sentence
 * for a file that is missing, outside or not a file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "ocr/ocr.h"

#define FILE_PREFIX "file://"

ocr_source_kind ocr_source_kind_of(const char *s, size_t len)
{
    if (len >= 5 && memcmp(s, "data:", 5) == 0)
        return OCR_SOURCE_DATA_URI;
    if (len >= strlen(FILE_PREFIX) && memcmp(s, FILE_PREFIX, strlen(FILE_PREFIX)) == 0)
        return OCR_SOURCE_FILE;
    return OCR_SOURCE_BASE64;
}

static int load_base64(const char *s, size_t len, uint8_t **out, size_t *out_len, hdm_err *err)
{
    const char *b64 = s;
    size_t n = len;
    int r = base64_py_strip_data_uri(s, len, &b64, &n, err);
    if (r < 0)
        return r;
    uint8_t *data = malloc(base64_decoded_max(n) + 1);
    if (!data)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding the image");
    long got = base64_py_decode(b64, n, data, err);
    if (got < 0) {
        free(data);
        return hdm_err_prefix(err, "image is not valid base64");
    }
    if (got == 0) {
        free(data);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "image is empty after base64 decoding");
    }
    *out = data;
    *out_len = (size_t)got;
    return 0;
}

static int load_file(const char *s, size_t len, const path_allowlist *dirs, size_t max_bytes,
                     uint8_t **out, size_t *out_len, hdm_err *err)
{
    size_t plen = strlen(FILE_PREFIX);
    if (dirs == NULL || dirs->n == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "file:// images are not allowed (images.allowed_dirs is empty)");
    if (memchr(s, '\0', len) != NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "image file path contains a NUL byte");
    char *path = strndup(s + plen, len - plen);
    if (!path)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    path_file f = {.fd = -1};
    int r = path_open_allowed(dirs, path, "image", PATH_OPEN_UNIFORM, &f, NULL, err);
    free(path);
    if (r < 0) /* uniform: missing, outside and not a file read the same */
        return r;
    if ((uint64_t)f.st.st_size > max_bytes) {
        r = hdm_err_set(err, HDM_E_TOO_LARGE, "image file of %lld bytes exceeds the limit of %zu",
                        (long long)f.st.st_size, max_bytes);
        path_file_close(&f);
        return r;
    }
    size_t cap = (size_t)f.st.st_size + 1, n = 0;
    uint8_t *data = malloc(cap);
    if (!data) {
        path_file_close(&f);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory reading the image file");
    }
    /* Read to EOF (a file that grew is cut at max_bytes + 1 and refused). */
    for (;;) {
        if (n == cap) {
            if (cap > max_bytes) {
                r = hdm_err_set(err, HDM_E_TOO_LARGE, "image file exceeds the limit of %zu bytes",
                                max_bytes);
                break;
            }
            size_t ncap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            uint8_t *grown = realloc(data, ncap);
            if (!grown) {
                r = hdm_err_set(err, HDM_E_NOMEM, "out of memory reading the image file");
                break;
            }
            data = grown;
            cap = ncap;
        }
        ssize_t got = read(f.fd, data + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = hdm_err_set(err, HDM_E_BAD_REQUEST, "image file cannot be read: %s",
                            strerror(errno));
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    path_file_close(&f);
    if (r == 0 && n == 0)
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "image file is empty");
    if (r < 0) {
        free(data);
        return r;
    }
    *out = data;
    *out_len = n;
    return 0;
}

int ocr_source_decode_in_place(char *s, size_t len, uint8_t **out, size_t *out_len, hdm_err *err)
{
    *out = NULL;
    *out_len = 0;
    if (s == NULL || len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "Missing 'image' parameter");
    if (ocr_source_kind_of(s, len) == OCR_SOURCE_FILE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "a file:// reference is read, not decoded");
    const char *b64 = s;
    size_t n = len;
    int r = base64_py_strip_data_uri(s, len, &b64, &n, err);
    if (r < 0)
        return r;
    /* The decoder writes each quantum's 3 bytes after reading its 4
     * characters, at or before where they were: decoding forward over the
     * text itself never overwrites a character it has still to read. */
    uint8_t *data = (uint8_t *)s;
    long got = base64_py_decode(b64, n, data, err);
    if (got < 0)
        return hdm_err_prefix(err, "image is not valid base64");
    if (got == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "image is empty after base64 decoding");
    *out = data;
    *out_len = (size_t)got;
    return 0;
}

int ocr_source_load(const char *s, size_t len, const path_allowlist *dirs, size_t max_bytes,
                    uint8_t **out, size_t *out_len, hdm_err *err)
{
    *out = NULL;
    *out_len = 0;
    if (s == NULL || len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "Missing 'image' parameter");
    if (ocr_source_kind_of(s, len) == OCR_SOURCE_FILE)
        return load_file(s, len, dirs, max_bytes, out, out_len, err);
    return load_base64(s, len, out, out_len, err);
}
