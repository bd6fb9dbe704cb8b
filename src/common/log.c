/*
 * log.c - process logging to stderr or the systemd journal.
 *
 * DESIGN: systemd sets JOURNAL_STREAM to "dev:ino" of the stream it connected
 * to our stderr.  When that variable names the stderr we still have, lines go
 * to the journal through sd_journal_print() so each keeps its priority (the
 * timestamp comes from the journal).  Otherwise (a terminal, a test harness, or
 * a child whose stderr was redirected) lines go to stderr as
 * "2026-11-26 22:03:53.123 INFO ident: message".  One mutex serialises the
 * output so lines from different threads never interleave; the level is an
 * atomic so the common "debug is off" case takes no lock.
 */
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include <systemd/sd-journal.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int log_level = LOG_LEVEL_INFO;
static char log_ident[64];
static bool log_to_journal;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
static const int level_priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

/* True when JOURNAL_STREAM names the device and inode of our stderr (systemd.exec(5)). */
static bool stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    if (e == NULL || *e == '\0')
        return false;
    unsigned long long dev, ino;
    if (sscanf(e, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st;
    if (fstat(fileno(stderr), &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, enum log_level level)
{
    pthread_mutex_lock(&log_lock);
    snprintf(log_ident, sizeof(log_ident), "%s", ident != NULL ? ident : "hdm");
    log_to_journal = stderr_is_journal();
    pthread_mutex_unlock(&log_lock);
    log_set_level(level);
}

void log_set_level(enum log_level level)
{
    if ((int)level < LOG_LEVEL_ERROR)
        level = LOG_LEVEL_ERROR;
    if (level > LOG_LEVEL_DEBUG)
        level = LOG_LEVEL_DEBUG;
    atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&log_level);
}

int log_level_parse(const char *name, enum log_level *out)
{
    if (name == NULL)
        return -1;
    for (int i = LOG_LEVEL_ERROR; i <= LOG_LEVEL_DEBUG; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = LOG_LEVEL_WARN;
        return 0;
    }
    return -1;
}

static void log_vemit(enum log_level level, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&log_level))
        return;
    /* Format first, outside the lock, and keep errno for %m. */
    int saved_errno = errno;
    char msg[2048];
    errno = saved_errno;
    vsnprintf(msg, sizeof(msg), fmt, ap);

    pthread_mutex_lock(&log_lock);
    if (log_to_journal) {
        sd_journal_print(level_priorities[level], "%s", msg);
    } else {
        struct timespec ts;
        struct tm tm;
        char when[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ld %s %s: %s\n", when, ts.tv_nsec / 1000000L, level_names[level],
                log_ident[0] != '\0' ? log_ident : program_invocation_short_name, msg);
        fflush(stderr);
    }
    pthread_mutex_unlock(&log_lock);
    errno = saved_errno;
}

#define LOG_FN(fn, level)                                                                          \
    void fn(const char *fmt, ...)                                                                  \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vemit(level, fmt, ap);                                                                 \
        va_end(ap);                                                                                \
    }

LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vemit(LOG_LEVEL_ERROR, fmt, ap);
    va_end(ap);
    exit(1);
}
