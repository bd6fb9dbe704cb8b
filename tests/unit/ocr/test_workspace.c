/*
 * test_workspace.c - the kept per-request buffers: reserve grows without
 * keeping contents, a returned workspace is handed out again with its
 * buffers, one over the keep limit gives its memory back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ocr/ocr.h"

static void test_reserve(void **state)
{
    (void)state;
    void *buf = NULL;
    size_t cap = 0;
    hdm_err err = {0};
    assert_int_equal(ocr_workspace_reserve(&buf, &cap, 100, sizeof(float), "map", &err), 0);
    assert_non_null(buf);
    assert_int_equal(cap, 400); /* bytes */
    memset(buf, 1, 400);
    void *same = buf;
    assert_int_equal(ocr_workspace_reserve(&buf, &cap, 50, sizeof(float), "map", &err), 0);
    assert_ptr_equal(buf, same); /* big enough: kept */
    assert_int_equal(cap, 400);
    assert_int_equal(ocr_workspace_reserve(&buf, &cap, 1000, sizeof(float), "map", &err), 0);
    assert_int_equal(cap, 4000);
    memset(buf, 2, 4000);
    assert_int_equal(ocr_workspace_reserve(&buf, &cap, SIZE_MAX / 2, sizeof(float), "map", &err),
                     -HDM_E_NOMEM);
    assert_non_null(strstr(err.msg, "map"));
    free(buf);
}

static void test_pool(void **state)
{
    (void)state;
    ocr_workspace_pool pool;
    hdm_err err = {0};
    ocr_workspace_pool_init(&pool, 4096);
    ocr_workspace *a = ocr_workspace_get(&pool), *b = ocr_workspace_get(&pool);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_int_equal(ocr_workspace_reserve((void **)&a->bytes, &a->bytes_cap, 1000, 1, "bitmap",
                                           &err),
                     0);
    uint8_t *kept = a->bytes;
    assert_int_equal(ocr_workspace_bytes(a), 1000);
    ocr_workspace_put(&pool, a);
    ocr_workspace *c = ocr_workspace_get(&pool);
    assert_ptr_equal(c, a);
    assert_ptr_equal(c->bytes, kept); /* within the limit: kept */
    /* Over the limit: the buffers go when it is returned. */
    assert_int_equal(ocr_workspace_reserve((void **)&c->map, &c->map_cap, 2000, sizeof(float),
                                           "map", &err),
                     0);
    assert_true(ocr_workspace_bytes(c) > 4096);
    ocr_workspace_put(&pool, c);
    c = ocr_workspace_get(&pool);
    assert_ptr_equal(c, a);
    assert_null(c->map);
    assert_null(c->bytes);
    assert_int_equal(ocr_workspace_bytes(c), 0);
    ocr_workspace_put(&pool, c);
    ocr_workspace_put(&pool, b);
    ocr_workspace_put(&pool, NULL);
    ocr_workspace_pool_free(&pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
