/*
 * paths.c - confining file paths to allowed directories.
 *
 * DESIGN: a path is judged in two steps.  realpath() says where the client's
 * path leads today ("..", symlinks and doubled slashes resolved), and that
 * canonical name must start with the canonical name of an allowed directory.
 * Between that check and the open, anything on the path can change, so the
 * open does not trust it: the allowed directory is opened first, and the
 * rest of the canonical name is opened beneath it by the kernel, which
 * refuses to leave the directory and to follow any symlink (openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).  The canonical rest has no symlink
 * in it, so a legitimate file always opens; a directory swapped for a
 * symlink in the meantime makes the open fail instead of escaping.  Where
 * openat2 is missing (kernels before 5.6, seccomp filters, qemu-user) each
 * directory is opened with openat(O_PATH | O_DIRECTORY | O_NOFOLLOW) from
 * the previous one, and the file with O_NOFOLLOW: the same guarantee, one
 * component at a time.
 *
 * The file is opened O_NONBLOCK, so a FIFO cannot wedge the caller, and
 * fstat() refuses anything but a regular file before a byte is read.
 * Directories are canonicalised again at every call: one created after
 * start-up starts matching, one that disappears stops.
 */
#include "common/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(SYS_openat2) && __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif

/* Flags of every file open: read-only, never blocking, never a terminal. */
#define FILE_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

static atomic_int openat2_state; /* 0 not asked yet, 1 usable, 2 missing */
static atomic_bool force_fallback;
void (*path_test_after_resolve)(const char *canonical);

void path_test_force_fallback(bool on)
{
    atomic_store(&force_fallback, on);
}

int path_allowlist_parse(path_allowlist *l, const char *colon_list)
{
    path_allowlist built = {0};
    const char *p = colon_list != NULL ? colon_list : "";
    while (*p != '\0') {
        const char *end = strchr(p, ':');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            char **dirs = realloc(built.dirs, (built.n + 1) * sizeof(*dirs));
            if (dirs == NULL)
                goto nomem;
            built.dirs = dirs;
            char *raw = strndup(p, len);
            if (raw == NULL)
                goto nomem;
            char *canon = realpath(raw, NULL);
            if (canon != NULL) {
                free(raw);
                built.dirs[built.n++] = canon;
            } else {
                built.dirs[built.n++] = raw;
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    *l = built;
    return 0;

nomem:
    path_allowlist_free(&built);
    return -HDM_E_NOMEM;
}

void path_allowlist_free(path_allowlist *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->dirs[i]);
    free(l->dirs);
    l->dirs = NULL;
    l->n = 0;
}

/* The part of canonical `file` below canonical `dir` ("" for dir itself), or NULL. */
static const char *beneath(const char *file, const char *dir)
{
    size_t dlen = strlen(dir);
    if (dlen == 1 && dir[0] == '/')
        return file[0] == '/' ? file + 1 : NULL;
    if (strncmp(file, dir, dlen) != 0)
        return NULL;
    if (file[dlen] == '\0')
        return file + dlen;
    return file[dlen] == '/' ? file + dlen + 1 : NULL;
}

#ifdef HAVE_OPENAT2
static long call_openat2(int dirfd, const char *name, uint64_t flags)
{
    struct open_how how = {
        .flags = flags,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
}

/*
 * Whether this kernel lets us call openat2, asked once with a harmless open
 * of dirfd itself: ENOSYS (old kernel, qemu-user) or EPERM (a seccomp filter)
 * there means never, while the same errors for a real file are its own.
 */
static bool openat2_usable(int dirfd)
{
    int state = atomic_load(&openat2_state);
    if (state == 0) {
        long fd = call_openat2(dirfd, ".", O_PATH | O_CLOEXEC);
        if (fd >= 0)
            close((int)fd);
        state = fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != E2BIG && errno != EINVAL)
                    ? 1
                    : 2;
        atomic_store(&openat2_state, state);
    }
    return state == 1;
}

static int open_beneath_kernel(int dirfd, const char *rest)
{
    long fd = -1;
    /* EAGAIN: a rename raced the lookup and the kernel asks for a retry. */
    for (int attempt = 0; attempt < 8; attempt++) {
        fd = call_openat2(dirfd, rest[0] != '\0' ? rest : ".", FILE_FLAGS);
        if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
            break;
    }
    return (int)fd;
}
#endif

/* openat one component at a time, never following a symlink. */
static int open_beneath_walk(int dirfd, const char *rest)
{
    char *copy = strdup(rest);
    if (copy == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int cur = dirfd, fd = -1;
    char *save = NULL, *comp = strtok_r(copy, "/", &save);
    if (comp == NULL) {
        fd = openat(dirfd, ".", FILE_FLAGS);
        goto out;
    }
    for (;;) {
        char *next = strtok_r(NULL, "/", &save);
        if (next == NULL) {
            fd = openat(cur, comp, FILE_FLAGS | O_NOFOLLOW);
            break;
        }
        /* The canonical rest holds no "." or ".."; refuse them all the same. */
        if (strcmp(comp, "..") == 0) {
            errno = EXDEV;
            break;
        }
        int sub = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            /* O_PATH|O_NOFOLLOW on a symlink is ENOTDIR: say ELOOP for it. */
            struct stat st;
            if (errno == ENOTDIR && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                errno = ELOOP;
            break;
        }
        if (cur != dirfd)
            close(cur);
        cur = sub;
        comp = next;
    }
out:
    if (cur != dirfd) {
        int e = errno;
        close(cur);
        errno = e;
    }
    free(copy);
    return fd;
}

/*
 * Sets *why and err for a refusal and returns -code; with PATH_OPEN_UNIFORM
 * the three answers that would reveal whether a file exists become one.
 */
static int refuse(enum path_refusal *why, enum path_refusal reason, unsigned flags,
                  const char *what, const char *path, hdm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static int refuse(enum path_refusal *why, enum path_refusal reason, unsigned flags,
                  const char *what, const char *path, hdm_err *err, int code, const char *fmt, ...)
{
    if (why != NULL)
        *why = reason;
    if ((flags & PATH_OPEN_UNIFORM) &&
        (reason == PATH_REFUSED_NOT_FOUND || reason == PATH_REFUSED_NOT_ALLOWED ||
         reason == PATH_REFUSED_NOT_REGULAR))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s is not a readable file in the allowed directories: %s", what, path);
    char msg[HDM_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return hdm_err_set(err, code, "%s", msg);
}

/* A refusal for errno e, met while resolving or opening path. */
static int refuse_errno(enum path_refusal *why, unsigned flags, const char *what, const char *path,
                        int e, hdm_err *err)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return refuse(why, PATH_REFUSED_NOT_FOUND, flags, what, path, err, HDM_E_NOT_FOUND,
                      "%s not found: %s", what, path);
    case ELOOP:
    case EXDEV:
        return refuse(why, PATH_REFUSED_NOT_ALLOWED, flags, what, path, err, HDM_E_BAD_REQUEST,
                      "%s is outside the allowed model directories (symbolic links are not "
                      "followed): %s",
                      what, path);
    case EACCES:
    case EPERM:
        return refuse(why, PATH_REFUSED_NOT_ALLOWED, flags, what, path, err, HDM_E_BAD_REQUEST,
                      "%s cannot be read: %s: %s", what, path, strerror(e));
    case ENOMEM:
        return refuse(why, PATH_REFUSED_SYSTEM, flags, what, path, err, HDM_E_NOMEM,
                      "out of memory opening %s", what);
    default:
        return refuse(why, PATH_REFUSED_SYSTEM, flags, what, path, err, HDM_E_INTERNAL,
                      "%s cannot be opened: %s: %s", what, path, strerror(e));
    }
}

int path_open_allowed(const path_allowlist *l, const char *path, const char *what, unsigned flags,
                      path_file *out, enum path_refusal *why, hdm_err *err)
{
    if (what == NULL)
        what = "path";
    if (path == NULL || path[0] == '\0')
        return refuse(why, PATH_REFUSED_INVALID, 0, what, "", err, HDM_E_BAD_REQUEST, "%s is empty",
                      what);
    if (strnlen(path, PATH_MAX) >= PATH_MAX)
        return refuse(why, PATH_REFUSED_INVALID, 0, what, "", err, HDM_E_BAD_REQUEST,
                      "%s is too long (limit %d bytes)", what, PATH_MAX - 1);
    if (path[0] != '/')
        return refuse(why, PATH_REFUSED_INVALID, 0, what, path, err, HDM_E_BAD_REQUEST,
                      "%s must be an absolute path: %s", what, path);

    char *canon = realpath(path, NULL);
    if (canon == NULL)
        return refuse_errno(why, flags, what, path, errno, err);

    int rc, dirfd = -1, fd = -1, dir_errno = 0;
    const char *rest = NULL;
    for (size_t i = 0; l != NULL && i < l->n && rest == NULL; i++) {
        char *dir = realpath(l->dirs[i], NULL);
        if (dir == NULL)
            continue;
        if ((rest = beneath(canon, dir)) != NULL) {
            dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
            dir_errno = errno;
        }
        free(dir);
    }
    if (rest == NULL) {
        rc = refuse(why, PATH_REFUSED_NOT_ALLOWED, flags, what, path, err, HDM_E_BAD_REQUEST,
                    "%s is outside the allowed model directories: %s", what, path);
        goto out;
    }
    if (dirfd < 0) {
        rc = refuse_errno(why, flags, what, path, dir_errno, err);
        goto out;
    }
    if (path_test_after_resolve != NULL)
        path_test_after_resolve(canon);

    bool kernel = false;
#ifdef HAVE_OPENAT2
    kernel = !atomic_load(&force_fallback) && openat2_usable(dirfd);
    if (kernel)
        fd = open_beneath_kernel(dirfd, rest);
#endif
    if (!kernel)
        fd = open_beneath_walk(dirfd, rest);
    if (fd < 0) {
        rc = refuse_errno(why, flags, what, path, errno, err);
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = refuse_errno(why, flags, what, path, errno, err);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = refuse(why, PATH_REFUSED_NOT_REGULAR, flags, what, path, err, HDM_E_BAD_REQUEST,
                    "%s is not a regular file: %s", what, path);
        goto out;
    }
    out->fd = fd;
    out->st = st;
    out->path = canon;
    fd = -1;
    canon = NULL;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0)
        close(dirfd);
    free(canon);
    return rc;
}

void path_file_close(path_file *f)
{
    if (f == NULL)
        return;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    free(f->path);
    f->path = NULL;
}

int path_file_proc_name(const path_file *f, char *buf, size_t len)
{
    int n = snprintf(buf, len, "/proc/self/fd/%d", f->fd);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int path_resolve_allowed(const path_allowlist *l, const char *path, const char *what,
                         char **canonical, hdm_err *err)
{
    path_file f;
    int rc = path_open_allowed(l, path, what, 0, &f, NULL, err);
    if (rc < 0)
        return rc;
    *canonical = f.path;
    f.path = NULL;
    path_file_close(&f);
    return 0;
}

int path_memo_set(path_memo *m, const char *requested, const path_file *f)
{
    char *req = strdup(requested), *canon = strdup(f->path);
    if (req == NULL || canon == NULL) {
        free(req);
        free(canon);
        return -HDM_E_NOMEM;
    }
    path_memo_free(m);
    m->requested = req;
    m->canonical = canon;
    m->dev = f->st.st_dev;
    m->ino = f->st.st_ino;
    return 0;
}

const char *path_memo_lookup(const path_memo *m, const char *requested)
{
    if (m == NULL || m->requested == NULL || requested == NULL)
        return NULL;
    return strcmp(m->requested, requested) == 0 ? m->canonical : NULL;
}

bool path_memo_same_file(const path_memo *m, const path_file *f)
{
    return m != NULL && m->canonical != NULL && m->dev == f->st.st_dev && m->ino == f->st.st_ino;
}

void path_memo_free(path_memo *m)
{
    if (m == NULL)
        return;
    free(m->requested);
    free(m->canonical);
    m->requested = NULL;
    m->canonical = NULL;
    m->dev = 0;
    m->ino = 0;
}
