/*
 * netpolicy.h - which addresses a service's remote fetch (an image URL a
 * client named) may connect to: public unicast addresses, plus the blocks
 * the operator lists.  Shared by hailo-vision and hailo-depth (svc/fetch.h).
 */
#ifndef HDM_SVC_NETPOLICY_H
#define HDM_SVC_NETPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct sockaddr;

/* An address block: addr (network order, len 4 or 16 bytes) / bits. */
typedef struct net_block {
    uint8_t addr[16];
    int len;
    int bits;
} net_block;

/* Parses "192.168.1.0/24", "fd00::/8" or a bare address.  Returns 0 or
 * -HDM_E_BAD_REQUEST naming `key` (the config key it came from) and the
 * text. */
int netpolicy_parse(const char *key, const char *cidr, net_block *out, hdm_err *err);
/* True when a fetch may connect to sa: a public unicast address, or one in
 * `allow`.  Loopback, private, link-local, CGNAT, multicast, IPv6 ULA,
 * IPv4-mapped and the other special-purpose blocks are refused. */
bool netpolicy_allowed(const net_block *allow, size_t n_allow, const struct sockaddr *sa);

#endif
