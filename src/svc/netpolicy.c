/*
 * netpolicy.c - which addresses a remote image fetch may connect to
 * (moved here from hailo-vision so hailo-depth's image_url shares it).
 *
 * DESIGN: a fetch is judged by the address libcurl is about to connect to
 * (its open-socket callback, images.c), not by the name in the URL: a name
 * can resolve to 127.0.0.1, and every redirect is a new connection that
 * passes the same check.  Refused by default: everything that is not a
 * public unicast address (RFC 6890 special-purpose blocks: "this network",
 * private, CGNAT, loopback, link-local, IETF protocol assignments,
 * documentation, benchmarking, multicast, reserved, broadcast; IPv6
 * unspecified, loopback, IPv4-mapped and -compatible, NAT64, discard,
 * documentation, 6to4 wrapping a refused IPv4, ULA, link-local, site-local,
 * multicast).  images.remote_allowed_networks lists CIDR blocks that are
 * allowed anyway (a camera on the LAN): images.remote_allowed_networks in
 * hailo-vision, input.remote_allowed_networks in hailo-depth.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/netpolicy.h"

/* Network-order address bytes of sa (4 or 16); 0 for other families. */
static int addr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 16;
    }
    return 0;
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static bool v4_public(const uint8_t a[4])
{
    static const struct {
        uint8_t net[4];
        int bits;
    } refused[] = {
        {{0, 0, 0, 0}, 8},       {{10, 0, 0, 0}, 8},     {{100, 64, 0, 0}, 10},
        {{127, 0, 0, 0}, 8},     {{169, 254, 0, 0}, 16}, {{172, 16, 0, 0}, 12},
        {{192, 0, 0, 0}, 24},    {{192, 0, 2, 0}, 24},   {{192, 88, 99, 0}, 24},
        {{192, 168, 0, 0}, 16},  {{198, 18, 0, 0}, 15},  {{198, 51, 100, 0}, 24},
        {{203, 0, 113, 0}, 24},  {{224, 0, 0, 0}, 4},    {{240, 0, 0, 0}, 4},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (prefix_match(a, refused[i].net, refused[i].bits))
            return false;
    return true; /* 255.255.255.255 is inside 240.0.0.0/4 */
}

static bool v6_public(const uint8_t a[16])
{
    static const struct {
        uint8_t net[16];
        int bits;
    } refused[] = {
        {{0}, 96},                                         /* ::/96: unspecified, loopback, v4-compatible */
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96},  /* ::ffff:0:0/96 IPv4-mapped */
        {{0, 0x64, 0xff, 0x9b}, 96},                       /* 64:ff9b::/96 NAT64 */
        {{0, 0x64, 0xff, 0x9b, 0, 1}, 48},                 /* 64:ff9b:1::/48 local NAT64 */
        {{1, 0, 0, 0, 0, 0, 0, 0}, 64},                    /* 100::/64 discard */
        {{0x20, 0x01, 0, 0}, 23},                          /* 2001::/23 IETF protocol assignments */
        {{0x20, 0x01, 0x0d, 0xb8}, 32},                    /* 2001:db8::/32 documentation */
        {{0x3f, 0xff}, 20},                                /* 3fff::/20 documentation */
        {{0xfc}, 7},                                       /* fc00::/7 unique local */
        {{0xfe, 0x80}, 10},                                /* fe80::/10 link-local */
        {{0xfe, 0xc0}, 10},                                /* fec0::/10 site-local */
        {{0xff}, 8},                                       /* ff00::/8 multicast */
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (prefix_match(a, refused[i].net, refused[i].bits))
            return false;
    /* 6to4 (2002::/16) carries an IPv4 address that must be public too. */
    if (a[0] == 0x20 && a[1] == 0x02)
        return v4_public(a + 2);
    return true;
}

int netpolicy_parse(const char *key, const char *cidr, net_block *out, hdm_err *err)
{
    char text[64];
    const char *slash = strchr(cidr, '/');
    size_t alen = slash != NULL ? (size_t)(slash - cidr) : strlen(cidr);
    if (alen == 0 || alen >= sizeof(text))
        goto bad;
    memcpy(text, cidr, alen);
    text[alen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->addr) == 1)
        out->len = 4;
    else if (inet_pton(AF_INET6, text, out->addr) == 1)
        out->len = 16;
    else
        goto bad;
    out->bits = out->len * 8;
    if (slash != NULL) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || b < 0 || b > out->len * 8)
            goto bad;
        out->bits = (int)b;
    }
    return 0;
bad:
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s: \"%s\" is not an address or CIDR block (e.g. 192.168.1.0/24, fd00::/8)",
                       key, cidr);
}

bool netpolicy_allowed(const net_block *allow, size_t n_allow, const struct sockaddr *sa)
{
    uint8_t a[16];
    int len = addr_bytes(sa, a);
    if (len == 0)
        return false;
    for (size_t i = 0; i < n_allow; i++)
        if (allow[i].len == len && prefix_match(a, allow[i].addr, allow[i].bits))
            return true;
    return len == 4 ? v4_public(a) : v6_public(a);
}
