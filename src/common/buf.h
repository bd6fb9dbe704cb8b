/*
 * buf.h - a growable byte buffer.
 */
#ifndef HDM_COMMON_BUF_H
#define HDM_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} buf;

/* All return 0 or -HDM_E_NOMEM.  A zeroed struct is an empty buffer. */
int buf_reserve(buf *b, size_t extra);
int buf_append(buf *b, const void *data, size_t len);
int buf_append_u32be(buf *b, uint32_t v);
int buf_append_u64be(buf *b, uint64_t v);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (n <= len). */
void buf_consume(buf *b, size_t n);
void buf_reset(buf *b);
void buf_free(buf *b);

uint32_t read_u32be(const uint8_t *p);
uint64_t read_u64be(const uint8_t *p);

#endif
