/*
 * testutil.h - helpers the image tests share: a byte blob and reading a
 * file of tests/data (HDM_TEST_DATA) into one.
 */
#ifndef HDM_TEST_IMAGE_TESTUTIL_H
#define HDM_TEST_IMAGE_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

/* tests/data/<rel> read whole; fails the test when missing. */
static inline blob read_test_file(const char *rel)
{
    const char *dir = getenv("HDM_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "tests/data", rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set HDM_TEST_DATA)", path);
    buf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    return (blob){b.data, b.len};
}

/* tests/data/images/<name>. */
static inline blob read_data_file(const char *name)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "images/%s", name);
    return read_test_file(rel);
}

#endif
