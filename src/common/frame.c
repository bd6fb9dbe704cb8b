/*
 * frame.c - the wire framing of docs/PROTOCOL.md.
 *
 * DESIGN: frame_parse is stateless: it is called again on the whole buffered
 * prefix each time more bytes arrive, and re-walks the (at most
 * FRAME_MAX_ATTACHMENTS) attachment headers, which is cheap next to reading
 * the bytes.  Every length read from the peer is checked against max_bytes
 * before it is added to the running total, so no sum can wrap and a frame that
 * will be too large is refused as soon as its length words are seen, before
 * its body is buffered.
 */
#include "common/frame.h"

#include <stdlib.h>
#include <string.h>

#define V1_HEADER 4u
#define COUNT_WORD 4u
#define ATT_HEADER 8u

static int too_large(hdm_err *err, uint64_t n)
{
    return hdm_err_set(err, HDM_E_TOO_LARGE, "Message too large: %llu bytes",
                       (unsigned long long)n);
}

/* Adds len to *total unless that exceeds max; "need more" is left to the caller. */
static int grow_total(uint64_t *total, uint64_t len, uint64_t max, hdm_err *err)
{
    if (len > UINT64_MAX - *total)
        return hdm_err_set(err, HDM_E_PROTOCOL, "attachment length %llu overflows the frame size",
                           (unsigned long long)len);
    if (*total + len > max)
        return too_large(err, *total + len);
    *total += len;
    return 0;
}

static int need_more(size_t *need, uint64_t total)
{
    if (need != NULL)
        *need = (size_t)total;
    return 0;
}

int frame_parse(const uint8_t *buf, size_t len, size_t max_bytes, frame *out, size_t *need,
                hdm_err *err)
{
    uint64_t max = max_bytes == 0 ? FRAME_DEFAULT_MAX_BYTES : max_bytes;
    if (len < V1_HEADER)
        return need_more(need, V1_HEADER);

    uint32_t word = read_u32be(buf);
    if (!(word & FRAME_BINARY_FLAG)) {
        /* v1 compares the JSON length itself with the limit, as the Python manager did. */
        if (word > max)
            return too_large(err, word);
        uint64_t total = V1_HEADER + (uint64_t)word;
        if (len < total)
            return need_more(need, total);
        memset(out, 0, sizeof(*out));
        out->json = (const char *)buf + V1_HEADER;
        out->json_len = word;
        out->total_len = (size_t)total;
        return 1;
    }

    uint64_t json_len = word & ~FRAME_BINARY_FLAG;
    uint64_t total = 0;
    int r = grow_total(&total, V1_HEADER + json_len + COUNT_WORD, max, err);
    if (r < 0)
        return r;
    if (len < total)
        return need_more(need, total);

    uint32_t n_att = read_u32be(buf + V1_HEADER + json_len);
    if (n_att > FRAME_MAX_ATTACHMENTS)
        return hdm_err_set(err, HDM_E_PROTOCOL,
                           "binary frame has %u attachments (at most %d allowed)", n_att,
                           FRAME_MAX_ATTACHMENTS);

    /* First pass: every header present and every length within the limit. */
    for (uint32_t i = 0; i < n_att; i++) {
        uint64_t header_at = total;
        if ((r = grow_total(&total, ATT_HEADER, max, err)) < 0)
            return r;
        if (len < total)
            return need_more(need, total);
        uint64_t att_len = read_u64be(buf + header_at);
        if ((r = grow_total(&total, att_len, max, err)) < 0)
            return r;
        if (len < total)
            return need_more(need, total);
    }

    frame_attachment *atts = NULL;
    if (n_att > 0) {
        atts = calloc(n_att, sizeof(*atts));
        if (atts == NULL)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory parsing a frame");
        size_t at = V1_HEADER + (size_t)json_len + COUNT_WORD;
        for (uint32_t i = 0; i < n_att; i++) {
            atts[i].len = read_u64be(buf + at);
            atts[i].data = buf + at + ATT_HEADER;
            at += ATT_HEADER + (size_t)atts[i].len;
        }
    }
    memset(out, 0, sizeof(*out));
    out->binary = true;
    out->json = (const char *)buf + V1_HEADER;
    out->json_len = (size_t)json_len;
    out->n_attachments = n_att;
    out->attachments = atts;
    out->total_len = (size_t)total;
    return 1;
}

void frame_clear(frame *f)
{
    if (f == NULL)
        return;
    free(f->attachments);
    memset(f, 0, sizeof(*f));
}

int frame_encode_v1(buf *out, const char *json, size_t len)
{
    /* A length with the top bit set would read back as a binary frame. */
    if (len >= FRAME_BINARY_FLAG)
        return -HDM_E_TOO_LARGE;
    int r = buf_reserve(out, V1_HEADER + len);
    if (r < 0)
        return r;
    buf_append_u32be(out, (uint32_t)len);
    buf_append(out, json, len);
    return 0;
}

int frame_encode_binary(buf *out, const char *json, size_t len, const frame_attachment *att,
                        uint32_t n_att)
{
    if (len >= FRAME_BINARY_FLAG)
        return -HDM_E_TOO_LARGE;
    if (n_att > FRAME_MAX_ATTACHMENTS)
        return -HDM_E_TOO_LARGE;
    /* Reserve the whole frame first so a failure leaves `out` as it was. */
    size_t total = V1_HEADER + len + COUNT_WORD;
    for (uint32_t i = 0; i < n_att; i++) {
        if (ATT_HEADER > SIZE_MAX - total || att[i].len > SIZE_MAX - total - ATT_HEADER)
            return -HDM_E_TOO_LARGE;
        total += ATT_HEADER + (size_t)att[i].len;
    }
    int r = buf_reserve(out, total);
    if (r < 0)
        return r;
    buf_append_u32be(out, FRAME_BINARY_FLAG | (uint32_t)len);
    buf_append(out, json, len);
    buf_append_u32be(out, n_att);
    for (uint32_t i = 0; i < n_att; i++) {
        buf_append_u64be(out, att[i].len);
        buf_append(out, att[i].data, (size_t)att[i].len);
    }
    return 0;
}
