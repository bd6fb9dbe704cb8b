/*
 * http_stream.c - Server-Sent Events replies fed by a producer thread.
 *
 * DESIGN: a handler that calls http_request_stream() gets a chunked
 * text/event-stream response whose body comes from a content-reader
 * callback.  The producer runs on a thread of its own (one per active
 * stream: streams are few and long, and a producer blocks on the device) and
 * pushes bytes into a bounded queue with http_stream_send().  The reader runs
 * on the MHD pool thread of the connection: it hands out what is queued, and
 * when the queue is empty it suspends the connection (MHD's documented way to
 * avoid busy-polling) and returns 0; the next send (or the producer's end)
 * resumes it.  Exactly one side flips `suspended` back under the stream lock
 * and calls MHD_resume_connection afterwards, outside our lock.
 *
 * The client going away is learnt three ways: MHD's completion callback
 * (write failure, timeout), and a zero-timeout poll(POLLRDHUP) on the socket
 * from http_stream_send/http_stream_closed, which also covers a suspended
 * connection MHD is not watching.  The socket stays open until the
 * completion callback has run, and that callback takes the stream lock, so
 * the poll never sees a recycled descriptor.
 *
 * Lifetime: three references - the request (dropped by the completion
 * callback), the MHD response (dropped by its free callback) and the
 * producer thread.  The stream owns the request from http_stream_start on,
 * so http_request_json() stays valid for the producer.
 */
#include "http/http_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

struct http_stream {
    http_server *srv;
    http_request *req;
    struct MHD_Connection *conn;  /* NULL once the request completed */
    int fd;                       /* the client socket, -1 when unknown */
    pthread_mutex_t lock;
    pthread_cond_t cond;          /* queue space freed, or closed */
    buf queue;
    size_t head;                  /* bytes of queue already handed out */
    size_t bytes;                 /* total handed to MHD */
    bool suspended;
    bool producer_done;
    bool closed;                  /* client gone or server cancelling */
    bool completed;               /* MHD completed the request */
    int refs;
    struct http_stream *prev, *next;
};

static void stream_free(http_stream *s)
{
    http_server *srv = s->srv;
    pthread_mutex_lock(&srv->lock);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        srv->streams = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    srv->active_streams--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);

    http_request_free(s->req);
    buf_free(&s->queue);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

static void stream_ref(http_stream *s) { __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL); }

/* Takes a reference unless the count already reached zero (the stream is
 * then being freed and only waits for the server lock to unlink itself). */
static bool stream_ref_if_live(http_stream *s)
{
    int refs = __atomic_load_n(&s->refs, __ATOMIC_ACQUIRE);
    while (refs > 0) {
        if (__atomic_compare_exchange_n(&s->refs, &refs, refs + 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return true;
    }
    return false;
}

static void stream_unref(http_stream *s)
{
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
        stream_free(s);
}

/* Clears `suspended` and returns the connection the caller must resume
 * after dropping the lock (NULL when it was not suspended). */
static struct MHD_Connection *take_resume_locked(http_stream *s)
{
    if (!s->suspended)
        return NULL;
    s->suspended = false;
    return s->conn;
}

/* Marks the stream closed when the peer hung up.  Caller holds s->lock. */
static void check_peer_locked(http_stream *s)
{
    if (s->closed || s->completed || s->fd < 0)
        return;
    struct pollfd p = {.fd = s->fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
        s->closed = true;
        pthread_cond_broadcast(&s->cond);
    }
}

int http_stream_send(http_stream *s, const char *data, size_t len)
{
    struct MHD_Connection *resume = NULL;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    check_peer_locked(s);
    for (;;) {
        if (s->closed) {
            rc = -1;
            break;
        }
        size_t queued = s->queue.len - s->head;
        if (queued == 0 || queued + len <= HTTP_STREAM_QUEUE_MAX)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100L * 1000 * 1000;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        check_peer_locked(s);
    }
    if (rc == 0 && len > 0) {
        if (s->head > 0 && s->head == s->queue.len) {
            buf_reset(&s->queue);
            s->head = 0;
        }
        if (buf_append(&s->queue, data, len) != 0)
            rc = -1;
    }
    /* Wake the connection either to send the data or to end it. */
    if (rc == 0 || s->closed)
        resume = take_resume_locked(s);
    pthread_mutex_unlock(&s->lock);
    if (resume != NULL)
        MHD_resume_connection(resume);
    return rc;
}

bool http_stream_closed(const http_stream *cs)
{
    http_stream *s = (http_stream *)cs; /* the poll may record the hang-up */
    struct MHD_Connection *resume = NULL;
    pthread_mutex_lock(&s->lock);
    check_peer_locked(s);
    bool closed = s->closed;
    if (closed)
        resume = take_resume_locked(s);
    pthread_mutex_unlock(&s->lock);
    if (resume != NULL)
        MHD_resume_connection(resume);
    return closed;
}

/* MHD content reader, on the connection's pool thread. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    http_stream *s = cls;
    ssize_t n;
    (void)pos;
    pthread_mutex_lock(&s->lock);
    size_t queued = s->queue.len - s->head;
    if (s->closed) {
        n = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (queued > 0) {
        size_t take = queued < max ? queued : max;
        memcpy(out, s->queue.data + s->head, take);
        s->head += take;
        if (s->head == s->queue.len) {
            buf_reset(&s->queue);
            s->head = 0;
        } else if (s->head > HTTP_STREAM_QUEUE_MAX) {
            buf_consume(&s->queue, s->head);
            s->head = 0;
        }
        s->bytes += take;
        pthread_cond_broadcast(&s->cond);
        n = (ssize_t)take;
    } else if (s->producer_done) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        s->suspended = true;
        MHD_suspend_connection(s->conn);
        n = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void stream_response_free(void *cls) { stream_unref(cls); }

static void *producer_main(void *arg)
{
    http_stream *s = arg;
    http_request *req = s->req;
    req->producer(s, req->producer_user);

    pthread_mutex_lock(&s->lock);
    s->producer_done = true;
    struct MHD_Connection *resume = take_resume_locked(s);
    pthread_mutex_unlock(&s->lock);
    if (resume != NULL)
        MHD_resume_connection(resume);
    stream_unref(s);
    return NULL;
}

int http_stream_start(http_request *req)
{
    http_server *srv = req->srv;
    pthread_mutex_lock(&srv->lock);
    int open_streams = srv->active_streams;
    pthread_mutex_unlock(&srv->lock);
    if (open_streams >= HTTP_MAX_STREAMS)
        return -EBUSY;
    http_stream *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->srv = srv;
    s->conn = req->conn;
    s->fd = -1;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci != NULL)
        s->fd = ci->connect_fd;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);

    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s, stream_response_free);
    if (resp == NULL) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
        return -ENOMEM;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            req->stream_type != NULL ? req->stream_type : "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "keep-alive");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");

    /* From here the stream is registered; the response holds one reference. */
    s->refs = 1;
    pthread_mutex_lock(&srv->lock);
    s->next = srv->streams;
    if (srv->streams != NULL)
        srv->streams->prev = s;
    srv->streams = s;
    srv->active_streams++;
    pthread_mutex_unlock(&srv->lock);

    if (MHD_queue_response(req->conn, MHD_HTTP_OK, resp) != MHD_YES) {
        MHD_destroy_response(resp); /* drops the last reference: frees s */
        return -ENOMEM;
    }
    /* The stream now owns the request; the completion callback drops it. */
    stream_ref(s);
    s->req = req;
    req->stream = s;
    req->responded = true;
    req->status = MHD_HTTP_OK;
    MHD_destroy_response(resp);

    stream_ref(s);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, producer_main, s);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        /* The reply is already queued: end it with an error at once. */
        log_error("%s: cannot start a stream producer thread: %s", srv->service_name,
                  strerror(rc));
        pthread_mutex_lock(&s->lock);
        s->producer_done = true;
        s->closed = true;
        pthread_mutex_unlock(&s->lock);
        stream_unref(s);
    }
    return 0;
}

void http_stream_request_done(http_stream *s, bool ok)
{
    pthread_mutex_lock(&s->lock);
    s->completed = true;
    s->conn = NULL;
    s->fd = -1;
    if (!ok || !s->producer_done)
        s->closed = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    stream_unref(s);
}

size_t http_stream_bytes(const http_stream *s) { return s->bytes; }

http_request *http_stream_request(http_stream *s) { return s->req; }

void http_stream_cancel_all(http_server *srv)
{
    http_stream **list = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&srv->lock);
    for (http_stream *s = srv->streams; s != NULL; s = s->next) {
        if (n == cap) {
            size_t ncap = cap != 0 ? cap * 2 : 16;
            http_stream **nl = realloc(list, ncap * sizeof(*nl));
            if (nl == NULL)
                break;
            list = nl;
            cap = ncap;
        }
        /* A stream in the list is not freed before we drop this lock. */
        if (stream_ref_if_live(s))
            list[n++] = s;
    }
    pthread_mutex_unlock(&srv->lock);
    for (size_t i = 0; i < n; i++) {
        http_stream *s = list[i];
        pthread_mutex_lock(&s->lock);
        s->closed = true;
        pthread_cond_broadcast(&s->cond);
        struct MHD_Connection *resume = take_resume_locked(s);
        pthread_mutex_unlock(&s->lock);
        if (resume != NULL)
            MHD_resume_connection(resume);
        stream_unref(s);
    }
    free(list);
}
