/*
 * log.h - small printf-checked logging (after OpenBSD's log.h).
 *
 * Under systemd (JOURNAL_STREAM set, or forced with log_init) each line goes to
 * the journal with its priority; otherwise to stderr with a timestamp and
 * level.  Library code (src/lib, src/image, src/cliptext) never logs.
 */
#ifndef HDM_COMMON_LOG_H
#define HDM_COMMON_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* ident: program name; level: most verbose level printed. Thread-safe after this. */
void log_init(const char *ident, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error|warn|info|debug"; returns 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs at error level and exits 1: start-up failures and impossible states only. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
