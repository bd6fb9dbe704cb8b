/*
 * test_http.c - the status server's bearer-token check (every route but
 * the dashboard page's files asks for it when http_bearer_token is set).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "manager/http.h"

static void test_no_token_lets_everyone_in(void **state)
{
    (void)state;
    assert_true(http_token_ok(NULL, NULL));
    assert_true(http_token_ok("", NULL));
    assert_true(http_token_ok(NULL, "Bearer whatever"));
}

static void test_token_required(void **state)
{
    (void)state;
    const char *t = "s3cret-token";
    assert_true(http_token_ok(t, "Bearer s3cret-token"));
    assert_true(http_token_ok(t, "bearer s3cret-token"));
    assert_true(http_token_ok(t, "  BEARER   s3cret-token \t"));
    assert_false(http_token_ok(t, NULL));
    assert_false(http_token_ok(t, ""));
    assert_false(http_token_ok(t, "Bearer"));
    assert_false(http_token_ok(t, "Bearer "));
    assert_false(http_token_ok(t, "s3cret-token"));
    assert_false(http_token_ok(t, "Basic s3cret-token"));
    assert_false(http_token_ok(t, "Bearer s3cret-toke"));
    assert_false(http_token_ok(t, "Bearer s3cret-token2"));
    assert_false(http_token_ok(t, "Bearer S3CRET-TOKEN"));
    assert_false(http_token_ok(t, "Bearer s3cret token"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_token_lets_everyone_in),
        cmocka_unit_test(test_token_required),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
