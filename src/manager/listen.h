/*
 * listen.h - the manager's listening socket: inherited from systemd socket
 * activation, or created (directory, stale-socket removal, mode, group).
 */
#ifndef HDM_MANAGER_LISTEN_H
#define HDM_MANAGER_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"

typedef struct listen_socket {
    int fd;         /* non-blocking, close-on-exec */
    bool activated; /* handed over by systemd (never unlinked by us) */
    char path[108]; /* the path we bound (own socket only) */
    dev_t dev;      /* identity of the socket file we created */
    ino_t ino;
} listen_socket;

/*
 * Opens the listening socket for `path`: the first socket systemd passed
 * (sd_listen_fds), else a new one.  A path where another manager (or any
 * process) accepts connections is never touched: -HDM_E_UNAVAILABLE with a
 * message saying so.  A stale socket file is removed.  The socket file gets
 * `mode` and, when `group` is not NULL, that group.  Returns 0 or a negative
 * code with err->msg.
 */
int listen_open(listen_socket *ls, const char *path, mode_t mode, const char *group, hdm_err *err);

/* Closes the socket and removes the file if we created it and it is still
 * ours.  Accepts a socket that was never opened (fd -1). */
void listen_close(listen_socket *ls);

#endif
