/*
 * paths.h - confining file paths to allowed directories.
 *
 * A path is accepted only when the file it names lies beneath one of the
 * allowed directories, and it is opened there by the kernel without
 * following any symbolic link (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS,
 * or openat with O_NOFOLLOW one component at a time where openat2 is not
 * available), so swapping a directory for a symlink between the check and
 * the open cannot lead outside.  Only regular files are handed out: a FIFO,
 * device, socket or directory is refused before anything reads from it.
 */
#ifndef HDM_COMMON_PATHS_H
#define HDM_COMMON_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "err.h"

typedef struct path_allowlist {
    char **dirs; /* canonical directory paths (malloc'd) */
    size_t n;
} path_allowlist;

/* Parses a colon-separated list; directories that do not exist are kept
 * (non-canonical) but never match until they exist.  Returns 0 or
 * -HDM_E_NOMEM. */
int path_allowlist_parse(path_allowlist *l, const char *colon_list);
/* Frees the list (NULL and a zeroed list are fine); l is empty afterwards. */
void path_allowlist_free(path_allowlist *l);

/* Why path_open_allowed() refused a path. */
enum path_refusal {
    PATH_REFUSED_NONE = 0,
    PATH_REFUSED_INVALID,     /* empty, relative or too long */
    PATH_REFUSED_NOT_FOUND,   /* nothing there (or a component is not a directory) */
    PATH_REFUSED_NOT_ALLOWED, /* outside every allowed directory, reached through a
                               * symlink at open time, or permission denied */
    PATH_REFUSED_NOT_REGULAR, /* a FIFO, device, socket or directory */
    PATH_REFUSED_SYSTEM,      /* out of memory or descriptors, an I/O error */
};

/* A file opened by path_open_allowed(). */
typedef struct path_file {
    int fd;         /* O_RDONLY|O_NONBLOCK|O_CLOEXEC, a regular file; -1 when closed */
    struct stat st; /* fstat() of fd */
    char *path;     /* canonical name: an allowed directory + the path beneath it */
} path_file;

/* Flags of path_open_allowed(). */
#define PATH_OPEN_UNIFORM                                                                          \
    0x1u /* one sentence for "not found", "not allowed" and "not a                                 \
          * regular file": HTTP services must not tell a client                                    \
          * which files exist */

/*
 * Opens `path` (absolute) for reading if it is a regular file beneath one of
 * l's directories.  `what` names the field in messages ("model_path",
 * "image").  On success fills *out (the caller reads from out->fd; no second
 * open by name) and returns 0.  On failure returns a negative HDM_E_* code,
 * sets *why (if not NULL) and err, and leaves *out untouched:
 *   INVALID      -HDM_E_BAD_REQUEST "<what> is empty" / "... must be an
 *                absolute path: <path>" / "... is too long (...)"
 *   NOT_FOUND    -HDM_E_NOT_FOUND   "<what> not found: <path>"
 *   NOT_ALLOWED  -HDM_E_BAD_REQUEST "<what> is outside the allowed model
 *                directories: <path>" (or "cannot be read: <path>: <reason>")
 *   NOT_REGULAR  -HDM_E_BAD_REQUEST "<what> is not a regular file: <path>"
 *   SYSTEM       -HDM_E_NOMEM / -HDM_E_INTERNAL with the reason
 * With PATH_OPEN_UNIFORM, NOT_FOUND, NOT_ALLOWED and NOT_REGULAR all return
 * -HDM_E_BAD_REQUEST "<what> is not a readable file in the allowed
 * directories: <path>" (*why still tells them apart, for logs).
 */
int path_open_allowed(const path_allowlist *l, const char *path, const char *what, unsigned flags,
                      path_file *out, enum path_refusal *why, hdm_err *err);

/* Closes f->fd and frees f->path (NULL and a closed file are fine). */
void path_file_close(path_file *f);

/*
 * Writes "/proc/self/fd/<fd>" into buf: a name for f's open file that a
 * library taking only file names (HailoRT) can open without a second lookup
 * of the original path.  Returns 0, or -1 when len is too small.
 */
int path_file_proc_name(const path_file *f, char *buf, size_t len);

/*
 * Resolves `path` and checks it: path_open_allowed() without keeping the
 * file open.  Returns 0 and a malloc'd canonical path in *canonical, or the
 * codes and sentences of path_open_allowed() (non-uniform).
 */
int path_resolve_allowed(const path_allowlist *l, const char *path, const char *what,
                         char **canonical, hdm_err *err);

/*
 * A model's resolved path, remembered so that requests naming a loaded model
 * again need no file-system lookup: the path as the client wrote it, what it
 * resolved to, and which file that was.  A zeroed struct is empty.
 */
typedef struct path_memo {
    char *requested; /* as the client wrote it */
    char *canonical; /* path_file.path when it was opened */
    dev_t dev;       /* the file that was opened */
    ino_t ino;
} path_memo;

/* Remembers that `requested` opened as f.  Returns 0 or -HDM_E_NOMEM (m unchanged). */
int path_memo_set(path_memo *m, const char *requested, const path_file *f);
/* The canonical path remembered for `requested`, or NULL when m does not know it. */
const char *path_memo_lookup(const path_memo *m, const char *requested);
/* True when f is the very file m remembers (same device and inode). */
bool path_memo_same_file(const path_memo *m, const path_file *f);
/* Forgets everything (NULL is fine). */
void path_memo_free(path_memo *m);

/*
 * For tests only.  path_test_force_fallback(true) makes every open take the
 * component-by-component openat path as if openat2 were missing;
 * path_test_after_resolve, when set, runs between resolving a path and
 * opening it (to swap a directory in that window).
 */
void path_test_force_fallback(bool on);
extern void (*path_test_after_resolve)(const char *canonical);

#endif
