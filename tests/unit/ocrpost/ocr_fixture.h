/*
 * ocr_fixture.h - loading the OCR test data (tests/data/ocr): PNG images
 * through hdm_image, JSON expectations through cJSON, CRC-32 checksums of
 * buffers (zlib) as the golden README describes.  Failures end the test.
 */
#ifndef HDM_TESTS_OCR_FIXTURE_H
#define HDM_TESTS_OCR_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "image/image.h"

/* $HDM_TEST_DATA/ocr/<rel> into buf (fails the test when unset). */
void fixture_path(char *buf, size_t size, const char *rel);
/* Decodes an 8-bit PNG fixture to RGB (grey PNGs come out with R = G = B). */
void fixture_image(const char *rel, image *out);
/* A grey 8-bit PNG as float32 q / 255 (the golden maps' encoding), malloc'd. */
float *fixture_gray_float(const char *rel, int *w, int *h);
/* Parses a JSON fixture; the caller frees it with cJSON_Delete. */
cJSON *fixture_json(const char *rel);
/* The CRC-32 of len bytes as 8 lower-case hex digits (with the NUL). */
void fixture_crc(const void *data, size_t len, char out[9]);

#endif
