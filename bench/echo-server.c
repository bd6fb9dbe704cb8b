/*
 * echo-server.c - the floor of the manager benchmark: a plain Unix-socket
 * server that answers every request frame with fixed response bytes (a frame
 * the manager sent for the same request, captured by `bench-manager capture`).
 *
 *   echo-server --socket PATH --response FILE
 *
 * DESIGN: one thread and epoll, like the manager's event loop, and the same
 * framing code (frame_parse), so the difference between the two figures is
 * what the manager does with a request: JSON, validation, scheduling, the
 * worker hand-off and the answer's encoding.  Runs until SIGTERM/SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/frame.h"

typedef struct client {
    int fd;
    bool want_out; /* EPOLLOUT registered: an answer is waiting for room */
    buf rx, tx;
} client;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void drop(client *c)
{
    close(c->fd);
    buf_free(&c->rx);
    buf_free(&c->tx);
    free(c);
}

/* Writes what is pending; returns -1 when the peer is gone. */
static int flush(client *c)
{
    while (c->tx.len > 0) {
        ssize_t n = send(c->fd, c->tx.data, c->tx.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        buf_consume(&c->tx, (size_t)n);
    }
    return 0;
}

/* Watches for room to write only while an answer is pending (no idle wake-ups). */
static void watch_out(int ep, client *c)
{
    bool want = c->tx.len > 0;
    if (want == c->want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want;
}

/*
 * Reads once (epoll is level-triggered: more bytes wake us again) and queues
 * one answer per whole frame; -1 to drop the client.
 */
static int on_readable(client *c, const buf *response)
{
    if (buf_reserve(&c->rx, 65536) < 0)
        return -1;
    ssize_t n;
    do
        n = recv(c->fd, c->rx.data + c->rx.len, c->rx.cap - c->rx.len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n <= 0)
        return -1;
    c->rx.len += (size_t)n;
    for (;;) {
        frame f;
        int r = frame_parse(c->rx.data, c->rx.len, 0, &f, NULL, NULL);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        buf_consume(&c->rx, f.total_len);
        frame_clear(&f);
        if (buf_append(&c->tx, response->data, response->len) < 0)
            return -1;
    }
    return flush(c);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *response_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--socket") == 0)
            path = argv[i + 1];
        else if (strcmp(argv[i], "--response") == 0)
            response_file = argv[i + 1];
    }
    if (path == NULL || response_file == NULL) {
        fprintf(stderr, "usage: echo-server --socket PATH --response FILE\n");
        return 2;
    }
    buf response = {0};
    FILE *f = fopen(response_file, "rb");
    if (f == NULL) {
        fprintf(stderr, "echo-server: cannot read %s: %s\n", response_file, strerror(errno));
        return 1;
    }
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&response, chunk, n);
    fclose(f);

    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    unlink(path);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(lfd, 128) != 0) {
        fprintf(stderr, "echo-server: cannot listen on %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    while (!stopping) {
        struct epoll_event events[64];
        int k = epoll_wait(ep, events, 64, 200);
        for (int i = 0; i < k; i++) {
            client *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
                    client *nc = calloc(1, sizeof(*nc));
                    nc->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            int r = 0;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                r = on_readable(c, &response);
            if (r == 0 && (events[i].events & EPOLLOUT))
                r = flush(c);
            if (r < 0)
                drop(c);
            else
                watch_out(ep, c);
        }
    }
    close(ep);
    close(lfd);
    unlink(path);
    buf_free(&response);
    return 0;
}
