/*
 * conn.c - one Unix-socket connection to the manager: connect with retry,
 * send with a deadline, read whole frames with a deadline.
 *
 * DESIGN: sockets are non-blocking and every wait is a poll() bounded by the
 * call's deadline, so a stuck manager costs a caller its timeout and never
 * more.  Sends use sendmsg(MSG_NOSIGNAL) so a dead peer is an EPIPE return,
 * not a SIGPIPE in the caller's process.  conn_open retries only the
 * conditions a starting manager produces (socket file missing, nobody
 * listening yet, backlog full); anything else (permissions, a file that is
 * not a socket) fails at once with its reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "lib/internal.h"

/* Read at least this much at a time so small frames take one syscall. */
#define READ_CHUNK 65536
#define BACKOFF_FIRST_MS 2
#define BACKOFF_MAX_MS 100

static int retryable_connect_errno(int e)
{
    return e == ENOENT || e == ECONNREFUSED || e == EAGAIN;
}

int conn_open(const char *path, int64_t deadline_ms, conn **out, bool *waited, hdm_err *err)
{
    *waited = false;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "socket path is too long (%zu bytes): %s",
                           strlen(path), path);
    memcpy(addr.sun_path, path, strlen(path) + 1);

    int64_t backoff = BACKOFF_FIRST_MS;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            return hdm_err_set(err, HDM_E_UNAVAILABLE, "device manager not reachable at %s: %s",
                               path, strerror(errno));
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            conn *c = calloc(1, sizeof(*c));
            if (c == NULL) {
                close(fd);
                return hdm_err_set(err, HDM_E_NOMEM, "out of memory opening a connection");
            }
            c->fd = fd;
            c->cancel_fd = -1;
            *out = c;
            return 0;
        }
        int e = errno;
        close(fd);
        *waited = true;
        int64_t now = mono_ms();
        if (!retryable_connect_errno(e) || now >= deadline_ms)
            return hdm_err_set(err, HDM_E_UNAVAILABLE, "device manager not reachable at %s: %s",
                               path, strerror(e));
        int64_t wait = backoff;
        if (deadline_ms != DEADLINE_NONE && wait > deadline_ms - now)
            wait = deadline_ms - now;
        sleep_ms(wait);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
}

void conn_close(conn *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    buf_free(&c->rx);
    free(c);
}

/* Waits for `events` on c->fd until the deadline.  0 ready, -DEADLINE_EXCEEDED,
 * or -CANCELLED when the call's cancel descriptor became readable. */
static int wait_fd(conn *c, short events, int64_t deadline_ms, hdm_err *err)
{
    for (;;) {
        int timeout = -1;
        if (deadline_ms != DEADLINE_NONE) {
            int64_t left = deadline_ms - mono_ms();
            if (left <= 0)
                return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED,
                                   "no answer from the device manager in time");
            timeout = left > INT_MAX ? INT_MAX : (int)left;
        }
        struct pollfd p[2] = {{.fd = c->fd, .events = events},
                              {.fd = c->cancel_fd, .events = POLLIN}};
        int n = poll(p, c->cancel_fd >= 0 ? 2 : 1, timeout);
        if (n > 0 && c->cancel_fd >= 0 && p[1].revents != 0)
            return hdm_err_set(err, HDM_E_CANCELLED, "the caller cancelled the request");
        if (n > 0)
            return 0; /* errors and hangups show up in the following read or write */
        if (n < 0 && errno != EINTR)
            return hdm_err_set(err, HDM_E_INTERNAL, "poll failed: %s", strerror(errno));
    }
}

static int peer_gone(int e)
{
    return e == EPIPE || e == ECONNRESET || e == ENOTCONN || e == ECONNREFUSED;
}

int conn_send(conn *c, const struct iovec *iov_in, int niov, int64_t deadline_ms, hdm_err *err)
{
    /* Work on a copy: partial writes advance the first entries. */
    struct iovec stack_iov[8];
    struct iovec *iov = niov <= 8 ? stack_iov : malloc((size_t)niov * sizeof(*iov));
    if (iov == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory sending a request");
    memcpy(iov, iov_in, (size_t)niov * sizeof(*iov));
    int r = 0, at = 0;
    while (at < niov) {
        if (iov[at].iov_len == 0) {
            at++;
            continue;
        }
        struct msghdr msg = {.msg_iov = iov + at,
                             .msg_iovlen = (size_t)(niov - at > IOV_MAX ? IOV_MAX : niov - at)};
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if ((r = wait_fd(c, POLLOUT, deadline_ms, err)) < 0)
                    break;
                continue;
            }
            r = hdm_err_set(err, peer_gone(errno) ? HDM_E_UNAVAILABLE : HDM_E_INTERNAL,
                            "sending to the device manager failed: %s", strerror(errno));
            break;
        }
        size_t left = (size_t)n;
        while (at < niov && left >= iov[at].iov_len)
            left -= iov[at++].iov_len;
        if (left > 0) {
            iov[at].iov_base = (uint8_t *)iov[at].iov_base + left;
            iov[at].iov_len -= left;
        }
    }
    if (iov != stack_iov)
        free(iov);
    return r;
}

int conn_recv_frame(conn *c, size_t max_bytes, int64_t deadline_ms, frame *f, hdm_err *err)
{
    for (;;) {
        size_t need = 0;
        int r = frame_parse(c->rx.data, c->rx.len, max_bytes, f, &need, err);
        if (r == 1)
            return 0;
        if (r < 0)
            return r;
        size_t want = need > c->rx.len ? need - c->rx.len : 1;
        /* Room for the rest of a frame whose length is known is enough
         * (reading on in READ_CHUNKs past its end would double the buffer
         * just before it is complete). */
        if (c->rx.cap - c->rx.len < want) {
            if (want < READ_CHUNK)
                want = READ_CHUNK;
            /* A big frame gets its length at once: doubling up to it would
             * copy it several times and leave freed steps of up to its
             * size behind in the heap (a 2 MB detection map: 4 MiB after
             * 64K, 128K, ... 2M). */
            if (c->rx.len + want > 2 * c->rx.cap) {
                uint8_t *grown = realloc(c->rx.data, c->rx.len + want);
                if (grown == NULL)
                    return hdm_err_set(err, HDM_E_NOMEM,
                                       "out of memory reading a %zu-byte frame", need);
                c->rx.data = grown;
                c->rx.cap = c->rx.len + want;
            }
            if (buf_reserve(&c->rx, want) < 0)
                return hdm_err_set(err, HDM_E_NOMEM, "out of memory reading a %zu-byte frame",
                                   need);
        }
        ssize_t n = read(c->fd, c->rx.data + c->rx.len, c->rx.cap - c->rx.len);
        if (n > 0) {
            c->rx.len += (size_t)n;
            continue;
        }
        if (n == 0)
            return hdm_err_set(err, HDM_E_UNAVAILABLE, "the device manager closed the connection");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if ((r = wait_fd(c, POLLIN, deadline_ms, err)) < 0)
                return r;
            continue;
        }
        return hdm_err_set(err, peer_gone(errno) ? HDM_E_UNAVAILABLE : HDM_E_INTERNAL,
                           "reading from the device manager failed: %s", strerror(errno));
    }
}
