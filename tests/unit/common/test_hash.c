/* test_hash.c - the published FNV-1a 64 vectors, continuation, and the mixer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/hash.h"

static void test_fnv1a_vectors(void **state)
{
    (void)state;
    assert_true(hash_fnv1a(HASH_FNV1A_SEED, "", 0) == 0xcbf29ce484222325ull);
    assert_true(hash_fnv1a(HASH_FNV1A_SEED, "a", 1) == 0xaf63dc4c8601ec8cull);
    assert_true(hash_fnv1a(HASH_FNV1A_SEED, "foobar", 6) == 0x85944171f73967e8ull);
    /* Hashing in pieces continues where the last piece left off. */
    uint64_t h = hash_fnv1a(HASH_FNV1A_SEED, "foo", 3);
    assert_true(hash_fnv1a(h, "bar", 3) == 0x85944171f73967e8ull);
}

static void test_mix64(void **state)
{
    (void)state;
    assert_true(hash_mix64(0) == 0);
    /* Neighbouring keys land far apart: about half the bits differ. */
    int differing = __builtin_popcountll(hash_mix64(1) ^ hash_mix64(2));
    assert_in_range(differing, 16, 48);
    assert_true(hash_mix64(1) == 0xb456bcfc34c2cb2cull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a_vectors),
        cmocka_unit_test(test_mix64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
