/*
 * frame.h - the wire framing of docs/PROTOCOL.md.
 *
 * v1 frame:      [u32 BE N][N bytes JSON]
 * binary frame:  [u32 BE 0x80000000|J][J bytes JSON][u32 BE K] K x ([u64 BE len][bytes])
 * The whole frame counts against the size limit.
 */
#ifndef HDM_COMMON_FRAME_H
#define HDM_COMMON_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define FRAME_BINARY_FLAG 0x80000000u
#define FRAME_DEFAULT_MAX_BYTES (64u * 1024u * 1024u)
/* Most attachments one binary frame may carry. */
#define FRAME_MAX_ATTACHMENTS 4096

typedef struct frame_attachment {
    const uint8_t *data; /* points into the frame's buffer */
    uint64_t len;
} frame_attachment;

/* A parsed frame.  Pointers refer to the buffer passed to frame_parse. */
typedef struct frame {
    bool binary;
    const char *json;
    size_t json_len;
    uint32_t n_attachments;
    frame_attachment *attachments; /* malloc'd array (NULL when none): frame_clear frees it */
    size_t total_len;              /* bytes of the whole frame */
} frame;

/*
 * Tries to parse one frame at the start of buf[0..len).
 * Returns 1 and fills *out (total_len = bytes to consume) when a whole frame
 * is there; 0 when more bytes are needed (*need, if not NULL, gets the total
 * known so far); or a negative code: -HDM_E_TOO_LARGE with err->msg
 * "Message too large: N bytes" when the frame exceeds max_bytes (N as the
 * length word or the running total says), -HDM_E_PROTOCOL for a malformed
 * binary frame (too many attachments, attachment length overflow).
 */
int frame_parse(const uint8_t *buf, size_t len, size_t max_bytes, frame *out, size_t *need,
                hdm_err *err);
void frame_clear(frame *f);

/* Appends a v1 frame holding json[0..len). */
int frame_encode_v1(buf *out, const char *json, size_t len);
/* Appends a binary frame. */
int frame_encode_binary(buf *out, const char *json, size_t len, const frame_attachment *att,
                        uint32_t n_att);

#endif
