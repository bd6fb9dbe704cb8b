/*
 * audio_test_util.h - what the audio library's tests share: reading the
 * generated test audio (tests/data/audio/make-audio.sh, run by the ctest
 * fixture into $HDM_TEST_AUDIO) and the reference decodes next to it.
 * Header-only so each test stays one file.
 */
#ifndef HDM_TEST_AUDIO_TEST_UTIL_H
#define HDM_TEST_AUDIO_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

/* Reads a whole file (malloc'd; fails the test when missing). */
static inline uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (the audio_files fixture writes it)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(d);
    assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return d;
}

/* A generated test file: $HDM_TEST_AUDIO/name. */
static inline uint8_t *audio_file(const char *name, size_t *len)
{
    const char *dir = getenv("HDM_TEST_AUDIO");
    char path[1024];
    if (!dir)
        fail_msg("HDM_TEST_AUDIO is not set (run through ctest)");
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return read_file(path, len);
}

/* A file of the repository's tests/data: $HDM_TEST_DATA/name. */
static inline uint8_t *data_file(const char *name, size_t *len)
{
    const char *dir = getenv("HDM_TEST_DATA");
    char path[1024];
    if (!dir)
        fail_msg("HDM_TEST_DATA is not set (run through ctest)");
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return read_file(path, len);
}

#endif
