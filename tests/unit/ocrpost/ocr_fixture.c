/*
 * ocr_fixture.c - OCR test data loaders (ocr_fixture.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <zlib.h>

#include "ocr_fixture.h"

void fixture_path(char *buf, size_t size, const char *rel)
{
    const char *dir = getenv("HDM_TEST_DATA");
    if (dir == NULL)
        fail_msg("HDM_TEST_DATA is not set");
    snprintf(buf, size, "%s/ocr/%s", dir, rel);
}

static uint8_t *read_all(const char *rel, size_t *len)
{
    char path[1024];
    fixture_path(path, sizeof(path), rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    data[n] = '\0';
    *len = (size_t)n;
    return data;
}

void fixture_image(const char *rel, image *out)
{
    size_t len;
    uint8_t *data = read_all(rel, &len);
    image_limits lim;
    hdm_err err = {0};
    image_limits_defaults(&lim);
    if (image_decode(data, len, &lim, 0, out, &err) < 0)
        fail_msg("%s: %s", rel, err.msg);
    free(data);
    /* A fixture is test data, not a live request: keep the pixels but give
     * the decode gate's slot back now.  A failed assertion longjmps past the
     * test's image_free, and a slot left taken would make every later
     * decode in the process wait out the gate and fail. */
    image pixels = *out;
    out->rgb = NULL;
    image_free(out);
    *out = pixels;
    out->gate_slot = 0;
}

float *fixture_gray_float(const char *rel, int *w, int *h)
{
    image img;
    fixture_image(rel, &img);
    size_t n = (size_t)img.width * (size_t)img.height;
    float *out = malloc(n * sizeof(float));
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        out[i] = (float)img.rgb[3 * i] / 255.0f;
    *w = img.width;
    *h = img.height;
    image_free(&img);
    return out;
}

cJSON *fixture_json(const char *rel)
{
    size_t len;
    char *text = (char *)read_all(rel, &len);
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (j == NULL)
        fail_msg("%s: not JSON", rel);
    free(text);
    return j;
}

void fixture_crc(const void *data, size_t len, char out[9])
{
    uLong crc = crc32(0L, Z_NULL, 0);
    const Bytef *p = data;
    while (len > 0) { /* crc32 takes a uInt length */
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
    snprintf(out, 9, "%08lx", (unsigned long)crc & 0xffffffffUL);
}
