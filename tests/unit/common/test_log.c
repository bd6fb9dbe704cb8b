/* test_log.c - stderr format, levels, and whole lines under concurrent logging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

static char capture_path[] = "/tmp/hdm-test-log-XXXXXX";
static int saved_stderr = -1;

/* Points stderr at a fresh temporary file. */
static int capture_start(void **state)
{
    (void)state;
    int fd = mkstemp(capture_path);
    if (fd < 0)
        return -1;
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    return 0;
}

static int capture_stop(void **state)
{
    (void)state;
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    unlink(capture_path);
    return 0;
}

static char *read_capture(void)
{
    fflush(stderr);
    FILE *f = fopen(capture_path, "r");
    assert_non_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    /* Start the next test on an empty file. */
    assert_int_equal(ftruncate(STDERR_FILENO, 0), 0);
    lseek(STDERR_FILENO, 0, SEEK_SET);
    return text;
}

/* "YYYY-MM-DD HH:MM:SS.mmm LEVEL ident: message" */
static void check_line(const char *line, const char *level, const char *rest)
{
    int y, mo, d, h, mi, s, ms, used = 0;
    assert_int_equal(
        sscanf(line, "%4d-%2d-%2d %2d:%2d:%2d.%3d %n", &y, &mo, &d, &h, &mi, &s, &ms, &used), 7);
    assert_true(used == 24);
    assert_memory_equal(line + used, level, strlen(level));
    assert_memory_equal(line + used + strlen(level), rest, strlen(rest));
}

static void test_format_and_levels(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    log_init("testlog", LOG_LEVEL_INFO);
    log_info("hello %d", 42);
    log_debug("hidden");
    log_warn("careful");
    log_error("broken: %s", "x");
    char *text = read_capture();
    char *l1 = strtok(text, "\n");
    char *l2 = strtok(NULL, "\n");
    char *l3 = strtok(NULL, "\n");
    assert_non_null(l3);
    assert_null(strtok(NULL, "\n"));
    check_line(l1, "INFO ", "testlog: hello 42");
    check_line(l2, "WARN ", "testlog: careful");
    check_line(l3, "ERROR ", "testlog: broken: x");

    log_set_level(LOG_LEVEL_ERROR);
    assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
    log_warn("dropped");
    log_set_level(LOG_LEVEL_DEBUG);
    log_debug("shown");
    text = read_capture();
    assert_null(strstr(text, "dropped"));
    assert_non_null(strstr(text, "DEBUG testlog: shown"));
}

static void test_journal_stream_of_another_file_keeps_stderr(void **state)
{
    (void)state;
    /* JOURNAL_STREAM naming some other stream (inherited, stderr redirected): stay on stderr. */
    setenv("JOURNAL_STREAM", "1:1", 1);
    log_init("testlog", LOG_LEVEL_INFO);
    log_info("still on stderr");
    char *text = read_capture();
    assert_non_null(strstr(text, "INFO testlog: still on stderr"));
    unsetenv("JOURNAL_STREAM");
    log_init("testlog", LOG_LEVEL_INFO);
}

static void test_level_parse(void **state)
{
    (void)state;
    enum log_level l;
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse("WARN", &l), 0);
    assert_int_equal(l, LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse("warning", &l), 0);
    assert_int_equal(l, LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse("info", &l), 0);
    assert_int_equal(l, LOG_LEVEL_INFO);
    assert_int_equal(log_level_parse("error", &l), 0);
    assert_int_equal(l, LOG_LEVEL_ERROR);
    assert_int_equal(log_level_parse("verbose", &l), -1);
    assert_int_equal(log_level_parse(NULL, &l), -1);
}

static void test_errno_preserved(void **state)
{
    (void)state;
    errno = ENOENT;
    log_info("errno is %m");
    assert_int_equal(errno, ENOENT);
    char *text = read_capture();
    assert_non_null(strstr(text, strerror(ENOENT)));
}

#define THREADS 4
#define LINES 300

static void *log_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < LINES; i++)
        log_info("worker %d line %d %s", id, i, "abcdefghijklmnopqrstuvwxyz0123456789");
    return NULL;
}

static void test_threads_never_interleave(void **state)
{
    (void)state;
    log_init("testlog", LOG_LEVEL_INFO);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, log_worker, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = read_capture();
    int count = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int id, n;
        const char *body = strstr(line, "testlog: ");
        assert_non_null(body);
        assert_int_equal(sscanf(body, "testlog: worker %d line %d", &id, &n), 2);
        assert_non_null(strstr(line, "abcdefghijklmnopqrstuvwxyz0123456789"));
        count++;
    }
    assert_int_equal(count, THREADS * LINES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_and_levels),
        cmocka_unit_test(test_journal_stream_of_another_file_keeps_stderr),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_errno_preserved),
        cmocka_unit_test(test_threads_never_interleave),
    };
    return cmocka_run_group_tests(tests, capture_start, capture_stop);
}
