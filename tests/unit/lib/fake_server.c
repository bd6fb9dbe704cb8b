/*
 * fake_server.c - see fake_server.h.
 */
#include "fake_server.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"

typedef struct conn_arg {
    fake_server *fs;
    int fd;
} conn_arg;

static void log_action(fake_server *fs, const cJSON *req)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(req, "action");
    pthread_mutex_lock(&fs->mu);
    if (fs->n_log < FAKE_MAX_LOG)
        snprintf(fs->log[fs->n_log++], 32, "%s", cJSON_IsString(a) ? a->valuestring : "?");
    pthread_mutex_unlock(&fs->mu);
}

static void *conn_main(void *arg)
{
    conn_arg *ca = arg;
    fake_server *fs = ca->fs;
    int fd = ca->fd;
    free(ca);
    buf rx = {0};
    for (;;) {
        frame f;
        int r = frame_parse(rx.data, rx.len, 0, &f, NULL, NULL);
        if (r < 0)
            break;
        if (r == 1) {
            cJSON *req = cJSON_ParseWithLength(f.json, f.json_len);
            log_action(fs, req);
            int close_now = fs->handler(fs, fd, &f, req);
            cJSON_Delete(req);
            buf_consume(&rx, f.total_len);
            frame_clear(&f);
            if (close_now)
                break;
            continue;
        }
        if (buf_reserve(&rx, 65536) < 0)
            break;
        ssize_t n = read(fd, rx.data + rx.len, rx.cap - rx.len);
        if (n <= 0)
            break;
        rx.len += (size_t)n;
    }
    buf_free(&rx);
    shutdown(fd, SHUT_RDWR);
    return NULL;
}

static void *accept_main(void *arg)
{
    fake_server *fs = arg;
    while (!fs->stop) {
        struct pollfd p = {.fd = fs->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(fs->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&fs->mu);
        if (fs->n_conns == FAKE_MAX_CONNS) {
            pthread_mutex_unlock(&fs->mu);
            close(fd);
            continue;
        }
        conn_arg *ca = malloc(sizeof(*ca));
        ca->fs = fs;
        ca->fd = fd;
        fs->conn_fds[fs->n_conns] = fd;
        pthread_create(&fs->conn_threads[fs->n_conns], NULL, conn_main, ca);
        fs->n_conns++;
        pthread_mutex_unlock(&fs->mu);
    }
    return NULL;
}

void fake_listen(fake_server *fs)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", fs->path);
    fs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fs->listen_fd < 0 || bind(fs->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(fs->listen_fd, 64) != 0) {
        fprintf(stderr, "fake server cannot listen on %s: %s\n", fs->path, strerror(errno));
        abort();
    }
    pthread_create(&fs->accept_thread, NULL, accept_main, fs);
}

void fake_start(fake_server *fs, fake_handler h, void *user, int listen_now)
{
    memset(fs, 0, sizeof(*fs));
    fs->listen_fd = -1;
    fs->handler = h;
    fs->user = user;
    pthread_mutex_init(&fs->mu, NULL);
    snprintf(fs->dir, sizeof(fs->dir), "/tmp/hdm-fake-XXXXXX");
    if (mkdtemp(fs->dir) == NULL)
        abort();
    snprintf(fs->path, sizeof(fs->path), "%s/device.sock", fs->dir);
    if (listen_now)
        fake_listen(fs);
}

void fake_stop(fake_server *fs)
{
    fs->stop = 1;
    if (fs->listen_fd >= 0) {
        pthread_join(fs->accept_thread, NULL);
        close(fs->listen_fd);
    }
    for (int i = 0; i < fs->n_conns; i++) {
        shutdown(fs->conn_fds[i], SHUT_RDWR);
        pthread_join(fs->conn_threads[i], NULL);
        close(fs->conn_fds[i]);
    }
    unlink(fs->path);
    rmdir(fs->dir);
    pthread_mutex_destroy(&fs->mu);
}

void fake_send_raw(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

void fake_send(int fd, cJSON *obj, const frame_attachment *atts, uint32_t n_atts)
{
    char *json = cJSON_PrintUnformatted(obj);
    buf out = {0};
    if (atts == NULL)
        frame_encode_v1(&out, json, strlen(json));
    else
        frame_encode_binary(&out, json, strlen(json), atts, n_atts);
    fake_send_raw(fd, out.data, out.len);
    buf_free(&out);
    free(json);
    cJSON_Delete(obj);
}

void fake_reply_ok(int fd, const cJSON *req, cJSON *extra)
{
    cJSON *resp = extra != NULL ? extra : cJSON_CreateObject();
    cJSON_AddStringToObject(resp, "status", "ok");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "request_id");
    if (cJSON_IsString(id))
        cJSON_AddStringToObject(resp, "request_id", id->valuestring);
    fake_send(fd, resp, NULL, 0);
}

const char *fake_log_at(fake_server *fs, int i)
{
    pthread_mutex_lock(&fs->mu);
    const char *s = i < fs->n_log ? fs->log[i] : "";
    pthread_mutex_unlock(&fs->mu);
    return s;
}

int fake_log_count(fake_server *fs)
{
    pthread_mutex_lock(&fs->mu);
    int n = fs->n_log;
    pthread_mutex_unlock(&fs->mu);
    return n;
}
