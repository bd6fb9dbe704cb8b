/*
 * fake_server.h - a tiny scripted device manager for libhailodm's unit tests:
 * a listening Unix socket in a temp directory, one thread per connection,
 * and a handler the test supplies that answers each request frame.
 */
#ifndef HDM_TEST_FAKE_SERVER_H
#define HDM_TEST_FAKE_SERVER_H

#include <pthread.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/frame.h"

#define FAKE_MAX_LOG 256
#define FAKE_MAX_CONNS 64

typedef struct fake_server fake_server;

/*
 * Called for every request frame; `req` is its parsed JSON (NULL when not
 * JSON).  Returns 0 to keep the connection, 1 to close it at once.
 */
typedef int (*fake_handler)(fake_server *fs, int fd, const frame *f, cJSON *req);

struct fake_server {
    char dir[64];
    char path[108];
    int listen_fd;
    pthread_t accept_thread;
    fake_handler handler;
    void *user;
    int counter; /* free for handlers, under mu */
    pthread_mutex_t mu;
    char log[FAKE_MAX_LOG][32]; /* actions in arrival order */
    int n_log;
    int n_conns;
    int conn_fds[FAKE_MAX_CONNS];
    pthread_t conn_threads[FAKE_MAX_CONNS];
    _Atomic int stop;
};

/* Creates the temp dir and socket path; listens now unless listen_now is 0. */
void fake_start(fake_server *fs, fake_handler h, void *user, int listen_now);
/* Starts listening (for a server created with listen_now 0). */
void fake_listen(fake_server *fs);
/* Stops every thread, closes sockets, removes the temp dir. */
void fake_stop(fake_server *fs);

/* Sends {"status":"ok", "request_id": <req's>} merged with `extra` (consumed; may be NULL). */
void fake_reply_ok(int fd, const cJSON *req, cJSON *extra);
/* Sends the JSON object `obj` (consumed) as a v1 frame, or binary with attachments. */
void fake_send(int fd, cJSON *obj, const frame_attachment *atts, uint32_t n_atts);
/* Sends raw bytes. */
void fake_send_raw(int fd, const void *data, size_t len);
/* The action logged at index i, "" past the end. */
const char *fake_log_at(fake_server *fs, int i);
int fake_log_count(fake_server *fs);

#endif
