/*
 * test_cache.c - LRU order, replacement, eviction counts and concurrent use.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cliptext/cache.h"

static void test_get_put(void **state)
{
    (void)state;
    clip_cache *c = clip_cache_new(2, 3);
    assert_non_null(c);
    float v[3] = {1, 2, 3}, out[3] = {0};
    assert_false(clip_cache_get(c, "a", 1, out));
    assert_int_equal(clip_cache_put(c, "a", 1, v), 0);
    assert_true(clip_cache_get(c, "a", 1, out));
    assert_true(out[0] == 1 && out[1] == 2 && out[2] == 3);
    /* a key that is a prefix of another is a different key */
    assert_false(clip_cache_get(c, "ab", 2, out));
    /* replacing keeps one entry */
    float w[3] = {4, 5, 6};
    assert_int_equal(clip_cache_put(c, "a", 1, w), 0);
    assert_true(clip_cache_get(c, "a", 1, out));
    assert_true(out[0] == 4);
    clip_cache_stats st;
    clip_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 2);
    clip_cache_free(c);
    clip_cache_free(NULL);
    assert_null(clip_cache_new(0, 3));
    assert_null(clip_cache_new(3, 0));
}

static void test_lru_eviction(void **state)
{
    (void)state;
    clip_cache *c = clip_cache_new(2, 1);
    float one = 1, two = 2, three = 3, out;
    clip_cache_put(c, "k1", 2, &one);
    clip_cache_put(c, "k2", 2, &two);
    /* touching k1 makes k2 the least recently used */
    assert_true(clip_cache_get(c, "k1", 2, &out));
    clip_cache_put(c, "k3", 2, &three);
    assert_false(clip_cache_get(c, "k2", 2, &out));
    assert_true(clip_cache_get(c, "k1", 2, &out) && out == 1);
    assert_true(clip_cache_get(c, "k3", 2, &out) && out == 3);
    clip_cache_stats st;
    clip_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.evictions, 1);
    clip_cache_free(c);
}

static void test_many_entries(void **state)
{
    (void)state;
    clip_cache *c = clip_cache_new(100, 2);
    for (int i = 0; i < 1000; i++) {
        float v[2] = {(float)i, (float)-i};
        assert_int_equal(clip_cache_put(c, &i, sizeof(i), v), 0);
    }
    clip_cache_stats st;
    clip_cache_stats_get(c, &st);
    assert_int_equal(st.entries, 100);
    assert_int_equal(st.evictions, 900);
    float out[2];
    for (int i = 0; i < 900; i++)
        assert_false(clip_cache_get(c, &i, sizeof(i), out));
    for (int i = 900; i < 1000; i++) {
        assert_true(clip_cache_get(c, &i, sizeof(i), out));
        assert_true(out[0] == (float)i && out[1] == (float)-i);
    }
    clip_cache_free(c);
}

static clip_cache *shared;

static void *worker(void *arg)
{
    int base = (int)(intptr_t)arg;
    for (int round = 0; round < 2000; round++) {
        int key = (base * 7 + round) % 64;
        float v[4] = {(float)key, (float)key, (float)key, (float)key}, out[4];
        if (clip_cache_get(shared, &key, sizeof(key), out)) {
            /* a value is never torn: all four floats equal the key */
            for (int j = 0; j < 4; j++)
                if (out[j] != (float)key)
                    return (void *)1;
        } else if (clip_cache_put(shared, &key, sizeof(key), v) != 0) {
            return (void *)1;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    shared = clip_cache_new(16, 4);
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 8; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    clip_cache_stats st;
    clip_cache_stats_get(shared, &st);
    assert_true(st.entries <= 16);
    assert_int_equal(st.hits + st.misses, 8 * 2000);
    clip_cache_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_many_entries),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
