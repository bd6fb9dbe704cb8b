/* test_paths.c - confinement of paths to allowed directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
