/*
 * test_netpolicy.c - which addresses a remote fetch may reach: public
 * unicast only, plus the blocks the operator lists; CIDR parsing.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "svc/netpolicy.h"

static bool allowed4(const net_block *allow, size_t n, const char *ip)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return netpolicy_allowed(allow, n, (struct sockaddr *)&sa);
}

static bool allowed6(const net_block *allow, size_t n, const char *ip)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, ip, &sa.sin6_addr), 1);
    return netpolicy_allowed(allow, n, (struct sockaddr *)&sa);
}

static void test_public_only(void **state)
{
    (void)state;
    static const char *const refused4[] = {"127.0.0.1",       "10.1.2.3",     "172.16.0.1",
                                           "172.31.255.255",  "192.168.1.10", "169.254.169.254",
                                           "100.64.0.1",      "0.0.0.0",      "224.0.0.1",
                                           "255.255.255.255", "198.18.0.1",   "192.0.2.7"};
    for (size_t i = 0; i < sizeof(refused4) / sizeof(refused4[0]); i++)
        assert_false(allowed4(NULL, 0, refused4[i]));
    assert_true(allowed4(NULL, 0, "8.8.8.8"));
    assert_true(allowed4(NULL, 0, "172.32.0.1"));
    static const char *const refused6[] = {
        "::1",     "::",          "::ffff:127.0.0.1", "fe80::1",        "fd00::1",
        "ff02::1", "2001:db8::1", "2002:7f00:1::1",   "64:ff9b::7f00:1"};
    for (size_t i = 0; i < sizeof(refused6) / sizeof(refused6[0]); i++)
        assert_false(allowed6(NULL, 0, refused6[i]));
    assert_true(allowed6(NULL, 0, "2606:4700:4700::1111"));
    assert_true(allowed6(NULL, 0, "2002:0808:0808::1")); /* 6to4 of a public address */
}

static void test_allowed_blocks(void **state)
{
    (void)state;
    net_block b[2];
    hdm_err err = {0};
    assert_int_equal(netpolicy_parse("k", "192.168.1.0/24", &b[0], &err), 0);
    assert_int_equal(netpolicy_parse("k", "fd00::/8", &b[1], &err), 0);
    assert_true(allowed4(b, 2, "192.168.1.77"));
    assert_false(allowed4(b, 2, "192.168.2.1"));
    assert_true(allowed6(b, 2, "fd12::1"));
    net_block one;
    assert_int_equal(netpolicy_parse("k", "127.0.0.2", &one, &err), 0);
    assert_int_equal(one.bits, 32);
    assert_true(allowed4(&one, 1, "127.0.0.2"));
    assert_false(allowed4(&one, 1, "127.0.0.3"));
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {"",       "10.0.0.0/33", "10.0.0.0/", "nonsense",
                                      "::/129", "1.2.3.4/x",   "/8"};
    net_block b;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hdm_err err = {0};
        assert_int_equal(netpolicy_parse("input.remote_allowed_networks", bad[i], &b, &err),
                         -HDM_E_BAD_REQUEST);
        /* The sentence names the key the value came from. */
        assert_non_null(strstr(err.msg, "input.remote_allowed_networks"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_only),
        cmocka_unit_test(test_allowed_blocks),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
