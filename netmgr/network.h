/*
 * network.h - a network as novafs-network sees it: a definition checked
 * once, and the choice of the next fixed IP to hand out on it.
 *
 * novafs owns the networks' definitions and sends the ones an instance
 * needs with each allocate_for_instance (rpc/methods_network.c); this
 * module turns those strings into addresses and refuses a definition that
 * is not a network one can allocate on.  The choice of an address is a
 * pure function of the range, the gateway, the cursor (the address handed
 * out last) and a "used?" predicate, so that the store (store.h) can ask
 * its database and the unit tests a bitmap.
 */
#ifndef NOVAFS_NETMGR_NETWORK_H
#define NOVAFS_NETMGR_NETWORK_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/netaddr.h"

struct rpc_error;

/* The prefixes a network may have: a /8 at most, a /29 (six hosts) at
 * least. */
#define NETMGR_PREFIX_MIN 8
#define NETMGR_PREFIX_MAX 29

#define NETMGR_NAME_LEN 64 /* RPC_T_NAME: 63 bytes and a NUL */

struct netmgr_network {
	char name[NETMGR_NAME_LEN];
	struct ipv4_net cidr;
	uint32_t gateway;          /* never handed out */
	uint32_t dhcp_start;       /* the range handed out, both ends in */
	uint32_t dhcp_end;
};

/*
 * Fills net from a definition's strings (name is taken as it is: the bus
 * checked it).  Returns 0, or -EINVAL with e ("InvalidInput") saying what
 * is wrong, naming the network: the cidr does not parse or its prefix is
 * outside 8..29; the gateway, dhcp_start or dhcp_end is not an address,
 * not inside the cidr, or is its network or broadcast address;
 * dhcp_start is after dhcp_end.
 */
int netmgr_network_parse(const char *name, const char *cidr,
			 const char *gateway, const char *dhcp_start,
			 const char *dhcp_end, struct netmgr_network *net,
			 struct rpc_error *e);

/*
 * Fills nets[0..*n-1] from allocate_for_instance's "networks" (an array
 * of at most max definitions the bus checked against the contract: each
 * an object of strings).  Returns 0, or -EINVAL with e ("InvalidInput")
 * for the first definition netmgr_network_parse() refuses, or a name
 * given twice.
 */
int netmgr_networks_from_json(json_t *list, struct netmgr_network *nets,
			      size_t max, size_t *n, struct rpc_error *e);

/* Whether address a is taken on the network: 1 (taken), 0 (free) or
 * -errno (could not tell: the choice fails with it). */
typedef int (*netmgr_used_fn)(void *ctx, uint32_t a);

/*
 * The first address after cursor, in the DHCP range, that is not the
 * gateway and that used says is free; after dhcp_end it goes on at
 * dhcp_start, so that an address released is handed out again last.  A
 * cursor outside the range (0: nothing handed out yet) starts at
 * dhcp_start.  Returns 0 with *out, -EADDRNOTAVAIL when every address is
 * taken, or used's -errno.
 */
int netmgr_next_address(const struct netmgr_network *net, uint32_t cursor,
			netmgr_used_fn used, void *ctx, uint32_t *out);

#endif
