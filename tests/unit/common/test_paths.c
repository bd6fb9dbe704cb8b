/* test_paths.c - confinement of paths to allowed directories. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/paths.h"

/* A temporary tree:
 *   root/allowed/model.hef
 *   root/allowed/sub/deep.hef
 *   root/allowed/escape -> ../secret/key.hef (symlink leaving the allowed dir)
 *   root/allowed/inner  -> sub/deep.hef       (symlink staying inside)
 *   root/secret/key.hef
 *   root/allowed-twin/x.hef                   (shares a name prefix with "allowed")
 */
static char root[] = "/tmp/hdm-test-paths-XXXXXX";
static char allowed[PATH_MAX];

static void touch(const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("hef", f);
    fclose(f);
}

static void mkd(const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(root) == NULL)
        return -1;
    mkd("allowed");
    mkd("allowed/sub");
    mkd("secret");
    mkd("allowed-twin");
    touch("allowed/model.hef");
    touch("allowed/sub/deep.hef");
    touch("secret/key.hef");
    touch("allowed-twin/x.hef");
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/allowed/escape", root);
    if (symlink("../secret/key.hef", p) != 0)
        return -1;
    snprintf(p, sizeof(p), "%s/allowed/inner", root);
    if (symlink("sub/deep.hef", p) != 0)
        return -1;
    snprintf(allowed, sizeof(allowed), "%s/allowed", root);
    /* For path_open_allowed: a FIFO, and directories to swap for symlinks
     * (secret/f.hef is what an escape would reach). */
    snprintf(p, sizeof(p), "%s/allowed/fifo", root);
    if (mkfifo(p, 0644) != 0)
        return -1;
    mkd("allowed/swap");
    touch("allowed/swap/f.hef");
    mkd("allowed/race");
    touch("allowed/race/f.hef");
    touch("secret/f.hef");
    snprintf(p, sizeof(p), "%s/allowed/race-link", root);
    if (symlink("../secret", p) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static int check(const char *list, const char *rel_or_abs, char **canon, hdm_err *err)
{
    path_allowlist l;
    assert_int_equal(path_allowlist_parse(&l, list), 0);
    char p[PATH_MAX * 2];
    if (rel_or_abs[0] == '/' || rel_or_abs[0] == '\0' || rel_or_abs[0] == '.')
        snprintf(p, sizeof(p), "%s", rel_or_abs);
    else
        snprintf(p, sizeof(p), "%s/%s", root, rel_or_abs);
    *canon = NULL;
    hdm_err_clear(err);
    int r = path_resolve_allowed(&l, p, "model_path", canon, err);
    path_allowlist_free(&l);
    return r;
}

static void test_allowed_paths(void **state)
{
    (void)state;
    char *canon;
    hdm_err err;
    char want[PATH_MAX];
    assert_int_equal(check(allowed, "allowed/model.hef", &canon, &err), 0);
    snprintf(want, sizeof(want), "%s/allowed/model.hef", root);
    assert_string_equal(canon, want);
    free(canon);
    /* Dots and doubled slashes that stay inside are fine and come back canonical. */
    assert_int_equal(check(allowed, "allowed/sub/../sub//./deep.hef", &canon, &err), 0);
    snprintf(want, sizeof(want), "%s/allowed/sub/deep.hef", root);
    assert_string_equal(canon, want);
    free(canon);
    assert_int_equal(check(allowed, "allowed/inner", &canon, &err), 0);
    assert_string_equal(canon, want);
    free(canon);
    /* Several directories, empty entries, and a missing one are all tolerated. */
    char list[PATH_MAX * 2];
    snprintf(list, sizeof(list), "/nonexistent-hdm-dir::%s/secret:", root);
    assert_int_equal(check(list, "secret/key.hef", &canon, &err), 0);
    free(canon);
}

static void test_dotdot_escape(void **state)
{
    (void)state;
    char *canon;
    hdm_err err;
    assert_int_equal(check(allowed, "allowed/../secret/key.hef", &canon, &err), -HDM_E_BAD_REQUEST);
    assert_null(canon);
    assert_non_null(strstr(err.msg, "model_path is outside the allowed model directories: "));
    assert_non_null(strstr(err.msg, "allowed/../secret/key.hef"));
    assert_int_equal(check(allowed, "allowed/sub/../../secret/key.hef", &canon, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(check(allowed, "/etc/passwd", &canon, &err), -HDM_E_BAD_REQUEST);
}

static void test_symlink_escape(void **state)
{
    (void)state;
    char *canon;
    hdm_err err;
    assert_int_equal(check(allowed, "allowed/escape", &canon, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "outside the allowed model directories"));
    assert_null(canon);
}

static void test_prefix_twin_is_not_inside(void **state)
{
    (void)state;
    char *canon;
    hdm_err err;
    /* "<root>/allowed-twin" starts with "<root>/allowed" but is another directory. */
    assert_int_equal(check(allowed, "allowed-twin/x.hef", &canon, &err), -HDM_E_BAD_REQUEST);
}

static void test_nonexistent(void **state)
{
    (void)state;
    char *canon;
    hdm_err err;
    char want[PATH_MAX * 2];
    assert_int_equal(check(allowed, "allowed/missing.hef", &canon, &err), -HDM_E_NOT_FOUND);
    snprintf(want, sizeof(want), "model_path not found: %s/allowed/missing.hef", root);
    assert_string_equal(err.msg, want);
    assert_int_equal(check(allowed, "allowed/model.hef/child", &canon, &err), -HDM_E_NOT_FOUND);
}

static void test_bad_input(void **state)
{
    (void)state;
    char *canon;
    hdm_err err;
    assert_int_equal(check(allowed, "", &canon, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "model_path is empty");
    assert_int_equal(check(allowed, "./model.hef", &canon, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "model_path must be an absolute path: ./model.hef");
    path_allowlist l;
    assert_int_equal(path_allowlist_parse(&l, allowed), 0);
    assert_int_equal(path_resolve_allowed(&l, "model.hef", "model_path", &canon, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(path_resolve_allowed(&l, NULL, "model_path", &canon, &err),
                     -HDM_E_BAD_REQUEST);
    char *longp = malloc(PATH_MAX + 10);
    memset(longp, 'a', PATH_MAX + 9);
    longp[0] = '/';
    longp[PATH_MAX + 9] = '\0';
    assert_int_equal(path_resolve_allowed(&l, longp, "model_path", &canon, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "too long"));
    free(longp);
    path_allowlist_free(&l);
    path_allowlist_free(&l);
    path_allowlist_free(NULL);
}

static void test_empty_allowlist_allows_nothing(void **state)
{
    (void)state;
    char *canon;
    hdm_err err;
    assert_int_equal(check("", "allowed/model.hef", &canon, &err), -HDM_E_BAD_REQUEST);
    path_allowlist l;
    assert_int_equal(path_allowlist_parse(&l, NULL), 0);
    assert_int_equal(l.n, 0);
    path_allowlist_free(&l);
}

static void test_missing_dir_matches_once_created(void **state)
{
    (void)state;
    char later[PATH_MAX];
    snprintf(later, sizeof(later), "%s/later", root);
    path_allowlist l;
    assert_int_equal(path_allowlist_parse(&l, later), 0);
    assert_int_equal(l.n, 1);
    char *canon = NULL;
    hdm_err err;
    char file[PATH_MAX + 16];
    snprintf(file, sizeof(file), "%s/allowed/model.hef", root);
    assert_int_equal(path_resolve_allowed(&l, file, "model_path", &canon, &err),
                     -HDM_E_BAD_REQUEST);
    mkd("later");
    touch("later/m.hef");
    snprintf(file, sizeof(file), "%s/m.hef", later);
    assert_int_equal(path_resolve_allowed(&l, file, "model_path", &canon, &err), 0);
    free(canon);
    path_allowlist_free(&l);
}

/* ---- path_open_allowed ---------------------------------------------------- */

static void rel(char *out, size_t len, const char *r)
{
    snprintf(out, len, "%s/%s", root, r);
}

/* Every open test runs twice: with openat2 and with the openat walk. */
static void both_ways(void (*body)(void))
{
    path_test_force_fallback(false);
    body();
    path_test_force_fallback(true);
    body();
    path_test_force_fallback(false);
}

static int open_in(const char *list, const char *r, unsigned flags, path_file *f,
                   enum path_refusal *why, hdm_err *err)
{
    path_allowlist l;
    assert_int_equal(path_allowlist_parse(&l, list), 0);
    char p[PATH_MAX * 2];
    if (r[0] == '/')
        snprintf(p, sizeof(p), "%s", r);
    else
        rel(p, sizeof(p), r);
    hdm_err_clear(err);
    *why = PATH_REFUSED_NONE;
    int rc = path_open_allowed(&l, p, "image", flags, f, why, err);
    path_allowlist_free(&l);
    return rc;
}

static void open_reads_body(void)
{
    path_file f = {.fd = -1};
    enum path_refusal why;
    hdm_err err;
    assert_int_equal(open_in(allowed, "allowed/sub/../model.hef", 0, &f, &why, &err), 0);
    assert_int_equal(why, PATH_REFUSED_NONE);
    char want[PATH_MAX];
    rel(want, sizeof(want), "allowed/model.hef");
    assert_string_equal(f.path, want);
    assert_true(S_ISREG(f.st.st_mode));
    assert_int_equal(f.st.st_size, 3);
    char data[8] = {0};
    assert_int_equal(read(f.fd, data, sizeof(data)), 3);
    assert_string_equal(data, "hef");
    /* The /proc name reaches the same open file. */
    char proc[64];
    assert_int_equal(path_file_proc_name(&f, proc, sizeof(proc)), 0);
    struct stat st;
    assert_int_equal(stat(proc, &st), 0);
    assert_int_equal(st.st_ino, f.st.st_ino);
    assert_int_equal(path_file_proc_name(&f, proc, 4), -1);
    path_file_close(&f);
    assert_int_equal(f.fd, -1);
    path_file_close(&f);
    path_file_close(NULL);
    /* A symlink that stays inside is judged by where it leads. */
    assert_int_equal(open_in(allowed, "allowed/inner", 0, &f, &why, &err), 0);
    path_file_close(&f);
}

static void test_open_reads_from_fd(void **state)
{
    (void)state;
    both_ways(open_reads_body);
}

static void not_regular_body(void)
{
    path_file f = {.fd = -1};
    enum path_refusal why;
    hdm_err err;
    char want[PATH_MAX * 2];
    /* A FIFO nobody writes to: refused at once, never read (no hang). */
    assert_int_equal(open_in(allowed, "allowed/fifo", 0, &f, &why, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(why, PATH_REFUSED_NOT_REGULAR);
    snprintf(want, sizeof(want), "image is not a regular file: %s/allowed/fifo", root);
    assert_string_equal(err.msg, want);
    assert_int_equal(f.fd, -1);
    /* A directory, including an allowed directory itself. */
    assert_int_equal(open_in(allowed, "allowed/sub", 0, &f, &why, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(why, PATH_REFUSED_NOT_REGULAR);
    assert_int_equal(open_in(allowed, "allowed", 0, &f, &why, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(why, PATH_REFUSED_NOT_REGULAR);
    /* A character device. */
    assert_int_equal(open_in("/dev", "/dev/null", 0, &f, &why, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(why, PATH_REFUSED_NOT_REGULAR);
    assert_int_equal(f.fd, -1);
}

static void test_open_refuses_fifo_dir_device(void **state)
{
    (void)state;
    both_ways(not_regular_body);
}

static void uniform_body(void)
{
    path_file f = {.fd = -1};
    enum path_refusal why;
    hdm_err err;
    char want[PATH_MAX * 2];
    static const struct {
        const char *rel;
        enum path_refusal why;
    } cases[] = {
        {"allowed/missing.hef", PATH_REFUSED_NOT_FOUND},
        {"secret/key.hef", PATH_REFUSED_NOT_ALLOWED},
        {"secret/missing.hef", PATH_REFUSED_NOT_FOUND},
        {"allowed/escape", PATH_REFUSED_NOT_ALLOWED},
        {"allowed/fifo", PATH_REFUSED_NOT_REGULAR},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(open_in(allowed, cases[i].rel, PATH_OPEN_UNIFORM, &f, &why, &err),
                         -HDM_E_BAD_REQUEST);
        assert_int_equal(why, cases[i].why);
        snprintf(want, sizeof(want),
                 "image is not a readable file in the allowed directories: %s/%s", root,
                 cases[i].rel);
        assert_string_equal(err.msg, want);
        assert_int_equal(err.code, HDM_E_BAD_REQUEST);
    }
    /* Without the flag the manager can still say what happened. */
    assert_int_equal(open_in(allowed, "allowed/missing.hef", 0, &f, &why, &err), -HDM_E_NOT_FOUND);
    snprintf(want, sizeof(want), "image not found: %s/allowed/missing.hef", root);
    assert_string_equal(err.msg, want);
    /* Bad input is not an existence question: its own sentence. */
    assert_int_equal(open_in(allowed, "/", PATH_OPEN_UNIFORM, &f, &why, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(why, PATH_REFUSED_NOT_ALLOWED);
    path_allowlist l;
    assert_int_equal(path_allowlist_parse(&l, allowed), 0);
    assert_int_equal(path_open_allowed(&l, "rel.hef", "image", PATH_OPEN_UNIFORM, &f, &why, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(why, PATH_REFUSED_INVALID);
    assert_string_equal(err.msg, "image must be an absolute path: rel.hef");
    assert_int_equal(path_open_allowed(&l, "", "image", PATH_OPEN_UNIFORM, &f, &why, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "image is empty");
    path_allowlist_free(&l);
}

static void test_open_uniform_answer(void **state)
{
    (void)state;
    both_ways(uniform_body);
}

/*
 * TOCTOU, made deterministic: between the check (realpath says
 * allowed/swap/f.hef is inside) and the open, allowed/swap becomes a symlink
 * to secret/ (which holds an f.hef too), or the file itself becomes one.
 */
static int swap_what; /* 1: the directory, 2: the file */

static void swap_hook(const char *canonical)
{
    (void)canonical;
    char a[PATH_MAX], b[PATH_MAX];
    if (swap_what == 1) {
        rel(a, sizeof(a), "allowed/swap");
        rel(b, sizeof(b), "allowed/swap.real");
        assert_int_equal(rename(a, b), 0);
        assert_int_equal(symlink("../secret", a), 0);
    } else {
        rel(a, sizeof(a), "allowed/swap/f.hef");
        rel(b, sizeof(b), "allowed/swap/f.real");
        assert_int_equal(rename(a, b), 0);
        assert_int_equal(symlink("../../secret/f.hef", a), 0);
    }
}

static void swap_undo(void)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (swap_what == 1) {
        rel(a, sizeof(a), "allowed/swap");
        rel(b, sizeof(b), "allowed/swap.real");
    } else {
        rel(a, sizeof(a), "allowed/swap/f.hef");
        rel(b, sizeof(b), "allowed/swap/f.real");
    }
    assert_int_equal(unlink(a), 0);
    assert_int_equal(rename(b, a), 0);
}

static void toctou_body(void)
{
    for (swap_what = 1; swap_what <= 2; swap_what++) {
        path_file f = {.fd = -1};
        enum path_refusal why;
        hdm_err err;
        path_test_after_resolve = swap_hook;
        int rc = open_in(allowed, "allowed/swap/f.hef", 0, &f, &why, &err);
        path_test_after_resolve = NULL;
        swap_undo();
        assert_int_equal(rc, -HDM_E_BAD_REQUEST);
        assert_int_equal(why, PATH_REFUSED_NOT_ALLOWED);
        assert_non_null(strstr(err.msg, "symbolic links are not followed"));
        assert_int_equal(f.fd, -1);
        /* Without the swap the same path opens. */
        assert_int_equal(open_in(allowed, "allowed/swap/f.hef", 0, &f, &why, &err), 0);
        path_file_close(&f);
    }
}

static void test_open_toctou_swap(void **state)
{
    (void)state;
    both_ways(toctou_body);
}

/* The race for real: a thread keeps exchanging the directory and a symlink. */
static atomic_bool racing;

static void *swapper(void *arg)
{
    (void)arg;
    char a[PATH_MAX], b[PATH_MAX];
    rel(a, sizeof(a), "allowed/race");
    rel(b, sizeof(b), "allowed/race-link");
    while (atomic_load(&racing))
        renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
    return NULL;
}

static void race_body(void)
{
    struct stat outside;
    char p[PATH_MAX];
    rel(p, sizeof(p), "secret/f.hef");
    assert_int_equal(stat(p, &outside), 0);
    atomic_store(&racing, true);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, swapper, NULL), 0);
    for (int i = 0; i < 3000; i++) {
        path_file f = {.fd = -1};
        enum path_refusal why;
        hdm_err err;
        if (open_in(allowed, "allowed/race/f.hef", 0, &f, &why, &err) == 0) {
            assert_false(f.st.st_ino == outside.st_ino && f.st.st_dev == outside.st_dev);
            path_file_close(&f);
        }
    }
    atomic_store(&racing, false);
    pthread_join(t, NULL);
}

static void test_open_toctou_race(void **state)
{
    (void)state;
    char a[PATH_MAX], b[PATH_MAX];
    rel(a, sizeof(a), "allowed/race");
    rel(b, sizeof(b), "allowed/race-link");
    both_ways(race_body);
    /* Put the directory back where it started for the tests after this one. */
    struct stat st;
    if (lstat(a, &st) == 0 && S_ISLNK(st.st_mode))
        assert_int_equal(renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE), 0);
}

static void test_memo(void **state)
{
    (void)state;
    path_memo m = {0};
    assert_null(path_memo_lookup(&m, "/x"));
    path_file f = {.fd = -1};
    enum path_refusal why;
    hdm_err err;
    char req[PATH_MAX];
    rel(req, sizeof(req), "allowed/sub/../model.hef");
    assert_int_equal(open_in(allowed, req, 0, &f, &why, &err), 0);
    assert_int_equal(path_memo_set(&m, req, &f), 0);
    assert_string_equal(path_memo_lookup(&m, req), f.path);
    assert_null(path_memo_lookup(&m, f.path)); /* only the string the client wrote */
    assert_true(path_memo_same_file(&m, &f));
    path_file_close(&f);
    /* The file replaced by another one under the same name: not the same file. */
    char p[PATH_MAX], tmp[PATH_MAX];
    rel(p, sizeof(p), "allowed/model.hef");
    rel(tmp, sizeof(tmp), "allowed/model.new");
    FILE *nf = fopen(tmp, "w");
    assert_non_null(nf);
    fputs("hef", nf);
    fclose(nf);
    assert_int_equal(rename(tmp, p), 0);
    assert_int_equal(open_in(allowed, req, 0, &f, &why, &err), 0);
    assert_false(path_memo_same_file(&m, &f));
    path_file_close(&f);
    path_memo_free(&m);
    assert_null(path_memo_lookup(&m, req));
    path_memo_free(&m);
    path_memo_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed_paths),
        cmocka_unit_test(test_dotdot_escape),
        cmocka_unit_test(test_symlink_escape),
        cmocka_unit_test(test_prefix_twin_is_not_inside),
        cmocka_unit_test(test_nonexistent),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_empty_allowlist_allows_nothing),
        cmocka_unit_test(test_missing_dir_matches_once_created),
        cmocka_unit_test(test_open_reads_from_fd),
        cmocka_unit_test(test_open_refuses_fifo_dir_device),
        cmocka_unit_test(test_open_uniform_answer),
        cmocka_unit_test(test_open_toctou_swap),
        cmocka_unit_test(test_open_toctou_race),
        cmocka_unit_test(test_memo),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
