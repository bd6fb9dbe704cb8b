/*
 * fuzz_util.h - small helpers shared by the harnesses (header-only so each
 * harness stays one file): a NUL-terminated copy of the input, a scratch
 * directory with a few model files for path confinement, and fixed binary
 * attachments.
 */
#ifndef HDM_FUZZ_UTIL_H
#define HDM_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/frame.h"

/* Input as a C string (caller frees); NULL when out of memory. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

static inline void fuzz_touch(const char *dir, const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

/*
 * A scratch directory with model.hef, image.hef, text.hef, det.hef, en.hef,
 * sub/x.hef and a 1x1 PNG (img.png), so path confinement and file:// loading
 * have real files to resolve.  The name is fixed (inputs in the corpus name
 * these paths) and the content is the same for every run, so concurrent
 * harnesses may share it.
 */
#define FUZZ_DIR "/tmp/hdm-fuzz-models"

static inline const char *fuzz_models_dir(void)
{
    static int done;
    if (!done) {
        done = 1;
        mkdir(FUZZ_DIR, 0755);
        mkdir(FUZZ_DIR "/sub", 0755);
        fuzz_touch(FUZZ_DIR, "model.hef", "HEF fuzz\n");
        fuzz_touch(FUZZ_DIR, "image.hef", "HEF fuzz\n");
        fuzz_touch(FUZZ_DIR, "text.hef", "HEF fuzz\n");
        fuzz_touch(FUZZ_DIR, "det.hef", "HEF fuzz\n");
        fuzz_touch(FUZZ_DIR, "en.hef", "HEF fuzz\n");
        fuzz_touch(FUZZ_DIR, "sub/x.hef", "HEF fuzz\n");
        /* A 1x1 RGB PNG for file:// URLs. */
        static const uint8_t png[] = {
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
            0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
            0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08,
            0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d,
            0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
        FILE *f = fopen(FUZZ_DIR "/img.png", "wb");
        if (f) {
            fwrite(png, 1, sizeof(png), f);
            fclose(f);
        }
    }
    return FUZZ_DIR;
}

/* Three attachments of 16 bytes, 1 KiB and one 336x336x3 frame. */
static inline const frame_attachment *fuzz_attachments(uint32_t *n)
{
    static uint8_t small[16], mid[1024], big[336 * 336 * 3];
    static frame_attachment att[3];
    att[0] = (frame_attachment){small, sizeof(small)};
    att[1] = (frame_attachment){mid, sizeof(mid)};
    att[2] = (frame_attachment){big, sizeof(big)};
    *n = 3;
    return att;
}

#endif
