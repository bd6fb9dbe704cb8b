/*
 * conn.h - one client connection: its read buffer, write queue, peer
 * credentials and the jobs it has in flight.  Owned by the loop thread.
 */
#ifndef HDM_MANAGER_CONN_H
#define HDM_MANAGER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/frame.h"
#include "common/textstream.h"
#include "job.h"

/* Stop reading new requests while this much output waits for the client. */
#define CONN_OUT_PAUSE_BYTES (4u << 20)
/* Read chunk when no frame size is known yet. */
#define CONN_READ_CHUNK (64u << 10)

struct conn;
/* Called when a connection has new output to flush or is to be closed once
 * flushed (loop thread); `owner` is what conn_new was given. */
typedef void (*conn_notify_fn)(void *owner, struct conn *c);

typedef struct conn {
    uint64_t id;
    int fd;
    uid_t uid;
    pid_t pid;
    buf in; /* received bytes; frames parsed from in_off */
    size_t in_off;
    size_t in_need; /* total bytes the frame being received needs (0: unknown) */
    int64_t frame_started_ms; /* mono_ms() when the unfinished frame began; 0: none */
    size_t accounted;         /* input bytes counted in the loop's buffered total */
    buf out;        /* queued output; written from out_off */
    size_t out_off;
    job **jobs;         /* device jobs submitted and not yet completed */
    textstream *texts;  /* parallel to jobs: each job's streamed text (a UTF-8
                         * character split across deltas waits there) */
    size_t n_jobs, cap_jobs;
    bool closing;       /* an error was answered: close once output is flushed */
    bool peer_eof;      /* the client shut down its writing side */
    uint32_t ep_events; /* events currently registered with epoll */
    bool dirty;         /* on the loop's flush list */
    struct conn *dirty_next;
    struct conn *hash_next;
    conn_notify_fn notify; /* told about new output (the loop's flush list) */
    void *owner;
} conn;

/* Wraps an accepted socket (reads SO_PEERCRED); notify(owner, c) is called
 * whenever output is queued.  Returns NULL when out of memory. */
conn *conn_new(int fd, uint64_t id, conn_notify_fn notify, void *owner);
/* Closes the socket and frees buffers (not the jobs: see the loop). Accepts NULL. */
void conn_free(conn *c);

/*
 * Reads what is available (level-triggered: at most a few reads per call).
 * Returns the number of bytes read (> 0), 0 when nothing was there, -1 on EOF
 * and -2 on a socket error.
 */
long conn_read(conn *c);

/* Appends a frame holding `resp` (v1, or binary with `att`) to the write
 * queue and notifies the owner.  size_hint: expected JSON size (0 when
 * unknown).  Returns 0 or -HDM_E_NOMEM. */
int conn_queue_json(conn *c, const cJSON *resp, bool binary, const frame_attachment *att,
                    uint32_t n_att, size_t size_hint);
/* Marks c to be closed once its queued output is written, and notifies the
 * owner (after a protocol error, or when an answer could not be queued). */
void conn_finish(conn *c);
/* Writes queued output.  Returns 0 when all was written, 1 when some is left
 * (wait for EPOLLOUT), -1 when the peer is gone. */
int conn_flush(conn *c);
/* Bytes queued and not yet written. */
size_t conn_out_pending(const conn *c);

/*
 * Hands the bytes of frame *f (which starts at c->in.data + c->in_off) to
 * the caller as a malloc'd block, rebasing f's attachment pointers into it.
 * Takes over the read buffer when the frame fills it, else copies.  Returns
 * NULL when out of memory.
 */
void *conn_detach_frame(conn *c, frame *f);

/* Bookkeeping of in-flight jobs (for cancellation on close). */
int conn_track_job(conn *c, job *j);
void conn_untrack_job(conn *c, job *j);

/*
 * Streaming text arrives in pieces that may split a UTF-8 character.  Puts
 * into *out (malloc'd, NUL-terminated; free it) the part of carry + text
 * that is whole characters, keeping an incomplete tail for the next piece of
 * job j; invalid bytes become U+FFFD so every frame is valid JSON text.
 * Returns the length (may be 0), or -HDM_E_NOMEM.
 */
long conn_delta_text(conn *c, const job *j, const char *text, size_t len, char **out);

#endif
