/*
 * conn.c - buffers and socket I/O of one client connection.
 *
 * DESIGN: reads append to `in` and frames are parsed in place; a request's
 * bytes are copied out only when a job must keep them (binary attachments).
 * Answers are serialised by cJSON straight into the spare room of `out`
 * after 4 bytes reserved for the length word, so a small answer costs one print and
 * one send().  Output is written as far as the socket takes it; the rest
 * waits for EPOLLOUT, so one slow reader never blocks the loop.
 */
#include "conn.h"

#include "infer_input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

conn *conn_new(int fd, uint64_t id, conn_notify_fn notify, void *owner)
{
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = fd;
    c->id = id;
    c->notify = notify;
    c->owner = owner;
    c->uid = (uid_t)-1;
    c->pid = 0;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        c->uid = cred.uid;
        c->pid = cred.pid;
    }
    return c;
}

void conn_free(conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    buf_free(&c->in);
    buf_free(&c->out);
    for (size_t i = 0; i < c->n_jobs; i++)
        textstream_free(&c->texts[i]);
    free(c->jobs);
    free(c->texts);
    free(c);
}

long conn_read(conn *c)
{
    long total = 0;
    for (int round = 0; round < 8; round++) {
        /* Compact before growing: parsed frames leave a prefix behind. */
        if (c->in_off > 0 && (c->in_off == c->in.len || c->in_off > c->in.cap / 2)) {
            memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
            c->in.len -= c->in_off;
            c->in_off = 0;
        }
        /* Grow towards the announced frame size only as its bytes arrive, so
         * a client announcing 64 MiB and sending nothing costs nothing. */
        size_t want = CONN_READ_CHUNK;
        size_t have = c->in.len - c->in_off;
        if (c->in_need > have && c->in_need - have > want) {
            want = c->in_need - have;
            if (want > have + CONN_READ_CHUNK)
                want = have + CONN_READ_CHUNK;
        }
        if (c->in.cap - c->in.len < want / 2 && buf_reserve(&c->in, want) < 0)
            return total > 0 ? total : -2;
        ssize_t r = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
        if (r > 0) {
            c->in.len += (size_t)r;
            total += r;
            if ((size_t)r < c->in.cap - c->in.len + (size_t)r)
                break; /* short read: the socket is drained */
            continue;
        }
        if (r == 0)
            return total > 0 ? total : -1;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        return total > 0 ? total : -2;
    }
    return total;
}

static void notify(conn *c)
{
    if (c->notify)
        c->notify(c->owner, c);
}

void conn_finish(conn *c)
{
    c->closing = true;
    notify(c);
}

/* Serialises resp into the write queue. */
static int queue_json(conn *c, const cJSON *resp, bool binary, const frame_attachment *att,
                      uint32_t n_att, size_t size_hint)
{
    if (binary) {
        char *json = cJSON_PrintUnformatted(resp);
        if (!json)
            return -HDM_E_NOMEM;
        /* Spaces after the JSON (still the same JSON) so the first
         * attachment starts 16 bytes into a 16-byte boundary of the frame
         * (it follows 4 + J + 4 + 8 bytes): a client reading the frame into
         * an aligned buffer uses a float32 tensor in place instead of
         * copying it (tensor_from_json), 2 MB for a detection map. */
        size_t len = strlen(json), pad = (16 - len % 16) % 16;
        if (n_att > 0 && pad > 0) {
            char *grown = realloc(json, len + pad + 1);
            if (!grown) {
                free(json);
                return -HDM_E_NOMEM;
            }
            json = grown;
            memset(json + len, ' ', pad);
            len += pad;
            json[len] = '\0';
        }
        int rc = frame_encode_binary(&c->out, json, len, att, n_att);
        free(json);
        return rc;
    }
    size_t room = size_hint ? size_hint + size_hint / 8 + 64 : 1024;
    if (room < (1u << 20)) {
        if (buf_reserve(&c->out, 4 + room + 8) < 0)
            return -HDM_E_NOMEM;
        char *dst = (char *)c->out.data + c->out.len + 4;
        int avail = (int)(c->out.cap - c->out.len - 4);
        if (cJSON_PrintPreallocated((cJSON *)resp, dst, avail, 0)) {
            size_t n = strlen(dst);
            uint8_t *hdr = c->out.data + c->out.len;
            hdr[0] = (uint8_t)(n >> 24);
            hdr[1] = (uint8_t)(n >> 16);
            hdr[2] = (uint8_t)(n >> 8);
            hdr[3] = (uint8_t)n;
            c->out.len += 4 + n;
            return 0;
        }
    }
    char *json = cJSON_PrintUnformatted(resp);
    if (!json)
        return -HDM_E_NOMEM;
    int rc = frame_encode_v1(&c->out, json, strlen(json));
    free(json);
    return rc;
}

int conn_queue_json(conn *c, const cJSON *resp, bool binary, const frame_attachment *att,
                    uint32_t n_att, size_t size_hint)
{
    int rc = queue_json(c, resp, binary, att, n_att, size_hint);
    notify(c);
    return rc;
}

int conn_flush(conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            c->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return -1;
    }
    if (c->out_off == c->out.len) {
        c->out.len = 0;
        c->out_off = 0;
        /* Give back the memory of one big answer instead of keeping it per connection. */
        if (c->out.cap > (1u << 20)) {
            buf_free(&c->out);
        }
        return 0;
    }
    if (c->out_off > (1u << 20) && c->out_off > c->out.len / 2) {
        memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
        c->out.len -= c->out_off;
        c->out_off = 0;
    }
    return 1;
}

size_t conn_out_pending(const conn *c)
{
    return c->out.len - c->out_off;
}

void *conn_detach_frame(conn *c, frame *f)
{
    const uint8_t *start = c->in.data + c->in_off;
    uint8_t *block;
    if (c->in_off == 0 && f->total_len == c->in.len) {
        block = c->in.data;
        memset(&c->in, 0, sizeof(c->in));
        c->in_off = 0;
    } else {
        block = malloc(f->total_len ? f->total_len : 1);
        if (!block)
            return NULL;
        memcpy(block, start, f->total_len);
    }
    for (uint32_t i = 0; i < f->n_attachments; i++)
        f->attachments[i].data = block + (f->attachments[i].data - start);
    f->json = (const char *)block + ((const uint8_t *)f->json - start);
    return block;
}

int conn_track_job(conn *c, job *j)
{
    if (c->n_jobs == c->cap_jobs) {
        size_t cap = c->cap_jobs ? c->cap_jobs * 2 : 8;
        job **grown = realloc(c->jobs, cap * sizeof(*grown));
        if (!grown)
            return -HDM_E_NOMEM;
        c->jobs = grown;
        textstream *texts = realloc(c->texts, cap * sizeof(*texts));
        if (!texts)
            return -HDM_E_NOMEM;
        c->texts = texts;
        c->cap_jobs = cap;
    }
    textstream_init(&c->texts[c->n_jobs], NULL, 0, TEXTSTREAM_DISCARD | TEXTSTREAM_REPLACE);
    c->jobs[c->n_jobs++] = j;
    return 0;
}

void conn_untrack_job(conn *c, job *j)
{
    for (size_t i = 0; i < c->n_jobs; i++) {
        if (c->jobs[i] == j) {
            textstream_free(&c->texts[i]);
            c->n_jobs--;
            c->jobs[i] = c->jobs[c->n_jobs];
            c->texts[i] = c->texts[c->n_jobs];
            return;
        }
    }
}

long conn_delta_text(conn *c, const job *j, const char *text, size_t len, char **out)
{
    textstream *ts = NULL, once;
    for (size_t i = 0; i < c->n_jobs; i++)
        if (c->jobs[i] == j)
            ts = &c->texts[i];
    /* A job not tracked has nothing to carry: its piece goes out whole. */
    if (!ts)
        textstream_init(ts = &once, NULL, 0, TEXTSTREAM_DISCARD | TEXTSTREAM_REPLACE);
    const char *piece, *tail = "";
    size_t piece_len, tail_len = 0;
    int rc = textstream_feed(ts, text, len, &piece, &piece_len);
    char *res = rc == 0 ? malloc(piece_len + 4) : NULL; /* + a flushed U+FFFD and NUL */
    if (res) {
        memcpy(res, piece, piece_len);
        if (ts == &once && (rc = textstream_flush(ts, &tail, &tail_len)) == 0)
            memcpy(res + piece_len, tail, tail_len);
        res[piece_len + tail_len] = '\0';
    }
    if (ts == &once)
        textstream_free(ts);
    if (!res || rc < 0) {
        free(res);
        return -HDM_E_NOMEM;
    }
    *out = res;
    return (long)(piece_len + tail_len);
}
