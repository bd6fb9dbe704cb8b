/*
 * listen.c - socket activation or our own Unix socket.
 *
 * DESIGN: before binding our own socket we must know whether the path is in
 * use.  A connect() that succeeds means a live listener: we send it a ping
 * to tell the operator whether it is another manager, and refuse to start
 * either way (unlinking a live socket would orphan its clients).  ECONNREFUSED
 * means a stale file left by a crash: removed.  Anything that is not a socket
 * is left alone and reported.
 */
#include "listen.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"

static int mkdir_parents(const char *path, hdm_err *err)
{
    char dir[108];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return hdm_err_set(err, HDM_E_INTERNAL, "cannot create directory %s: %s", dir,
                               strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return hdm_err_set(err, HDM_E_INTERNAL, "cannot create directory %s: %s", dir,
                           strerror(errno));
    return 0;
}

/* Sends a ping on a connected socket; true when a framed JSON answer with
 * "status" arrives within timeout_ms. */
static bool answers_ping(int fd, int timeout_ms)
{
    static const char ping[] = "{\"action\":\"ping\",\"request_id\":\"hdm-liveness-check\"}";
    uint8_t msg[4 + sizeof(ping)];
    uint32_t n = (uint32_t)(sizeof(ping) - 1);
    msg[0] = (uint8_t)(n >> 24);
    msg[1] = (uint8_t)(n >> 16);
    msg[2] = (uint8_t)(n >> 8);
    msg[3] = (uint8_t)n;
    memcpy(msg + 4, ping, n);
    if (send(fd, msg, 4 + n, MSG_NOSIGNAL) != (ssize_t)(4 + n))
        return false;
    char reply[256];
    size_t got = 0;
    int64_t deadline = mono_ms() + timeout_ms;
    while (got < sizeof(reply) - 1) {
        int left = (int)(deadline - mono_ms());
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            break;
        ssize_t r = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got >= 4 + 8)
            break;
    }
    reply[got] = 0;
    return got > 4 && strstr(reply + 4, "\"status\"") != NULL;
}

/* 0 when the path is free (absent or stale and removed), else an error. */
static int check_existing(const char *path, hdm_err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return hdm_err_set(err, HDM_E_INTERNAL, "cannot inspect %s: %s", path, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        return hdm_err_set(err, HDM_E_UNAVAILABLE,
                           "%s exists and is not a socket; refusing to replace it", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return hdm_err_set(err, HDM_E_INTERNAL, "socket: %s", strerror(errno));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
        bool manager = answers_ping(fd, 1000);
        close(fd);
        if (manager)
            return hdm_err_set(err, HDM_E_UNAVAILABLE,
                               "another hailo-device-manager is already running on %s "
                               "(it answered a ping); stop it first or use --socket",
                               path);
        return hdm_err_set(err, HDM_E_UNAVAILABLE,
                           "another process is listening on %s; refusing to replace a live "
                           "socket (stop it first or use --socket)",
                           path);
    }
    int e = errno;
    close(fd);
    if (e == ECONNREFUSED) {
        if (unlink(path) < 0 && errno != ENOENT)
            return hdm_err_set(err, HDM_E_INTERNAL, "cannot remove stale socket %s: %s", path,
                               strerror(errno));
        log_info("removed stale socket %s (nobody was listening on it)", path);
        return 1;
    }
    return hdm_err_set(err, HDM_E_UNAVAILABLE, "cannot check existing socket %s: %s", path,
                       strerror(e));
}

int listen_open(listen_socket *ls, const char *path, mode_t mode, const char *group, hdm_err *err)
{
    memset(ls, 0, sizeof(*ls));
    ls->fd = -1;
    int n = sd_listen_fds(1);
    if (n > 0) {
        int fd = SD_LISTEN_FDS_START;
        if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
            return hdm_err_set(err, HDM_E_INTERNAL,
                               "the socket systemd passed is not a listening Unix stream socket");
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
            return hdm_err_set(err, HDM_E_INTERNAL, "fcntl on the activated socket: %s",
                               strerror(errno));
        ls->fd = fd;
        ls->activated = true;
        return 0;
    }
    if (strlen(path) >= sizeof(ls->path))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "socket path too long: %s", path);
    int rc;
    if ((rc = mkdir_parents(path, err)) < 0 || (rc = check_existing(path, err)) < 0)
        return rc;

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return hdm_err_set(err, HDM_E_INTERNAL, "socket: %s", strerror(errno));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        rc = hdm_err_set(err, errno == EADDRINUSE ? HDM_E_UNAVAILABLE : HDM_E_INTERNAL,
                         "cannot bind %s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    snprintf(ls->path, sizeof(ls->path), "%s", path);
    ls->fd = fd;
    struct stat st;
    if (stat(path, &st) == 0) {
        ls->dev = st.st_dev;
        ls->ino = st.st_ino;
    }
    /* Mode and group before listen(): nobody can connect in between. */
    if (chmod(path, mode) < 0) {
        rc = hdm_err_set(err, HDM_E_INTERNAL, "chmod %o %s: %s", (unsigned)mode, path,
                         strerror(errno));
        goto fail;
    }
    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "socket group '%s' does not exist", group);
            goto fail;
        }
        if (chown(path, (uid_t)-1, gr->gr_gid) < 0) {
            rc = hdm_err_set(err, HDM_E_INTERNAL, "chown :%s %s: %s", group, path, strerror(errno));
            goto fail;
        }
    }
    if (listen(fd, 1024) < 0) {
        rc = hdm_err_set(err, HDM_E_INTERNAL, "listen on %s: %s", path, strerror(errno));
        goto fail;
    }
    return 0;
fail:
    listen_close(ls);
    return rc;
}

void listen_close(listen_socket *ls)
{
    if (!ls || ls->fd < 0)
        return;
    close(ls->fd);
    ls->fd = -1;
    if (ls->activated || !ls->path[0])
        return;
    struct stat st;
    if (stat(ls->path, &st) == 0 && st.st_dev == ls->dev && st.st_ino == ls->ino)
        unlink(ls->path);
    ls->path[0] = 0;
}
