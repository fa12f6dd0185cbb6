/*
 * network.h - networks/: flat IPv4 networks, as nova-network's
 * FlatDHCP.  `mkdir networks/NAME`, `echo 198.51.100.0/24 >
 * networks/NAME/cidr`, then `echo NAME > instances/X/network` before X's
 * first start: X gets an address and a MAC there, from novafs-network,
 * and its compute host serves them by DHCP on the network's bridge.
 *
 * novafs owns the definitions: cidr, gateway, dhcp_start, dhcp_end, dns
 * and bridge are kept as written (a config tool's second run reads back
 * its own bytes) and validated as a whole on each write; an empty one
 * reads as its default.  novafs-network owns the allocations; novafs
 * learns them from its answers and keeps them with the instance
 * (instance.h: its ip and mac), so `free` and allocations/ are computed
 * from memory, never by asking.  A network's definition is fixed while
 * an instance uses it, and a network an instance names cannot be
 * removed.  A new database has the network `default`, 192.0.2.0/24
 * (reserved for documentation, never routed).
 */
#ifndef NOVAFS_NETWORK_H
#define NOVAFS_NETWORK_H

#include <stdint.h>

#include <jansson.h>

#include "common/netaddr.h"
#include "rpc/methods.h"

struct obj;
struct rpc_error;
struct strbuf;

enum {
	N_CIDR,         /* each file's bytes as written; "" reads as */
	N_GATEWAY,      /* its default */
	N_DHCP_START,
	N_DHCP_END,
	N_DNS,
	N_BRIDGE,
	N_FAULT,        /* why the last write was refused */
	N_NFIELDS
};

#define NETWORK_MAX_DNS 8
#define NETWORK_BRIDGE_MAX 15  /* a Linux interface name: IFNAMSIZ - 1 */

/* A network's definition in force: what was written, defaults filled. */
struct network_def {
	struct ipv4_net cidr;
	uint32_t gateway, dhcp_start, dhcp_end;
	uint32_t dns[NETWORK_MAX_DNS];
	unsigned ndns;
	char bridge[NETWORK_BRIDGE_MAX + 1];
};

extern const struct kind network_kind;

/* The network called name, or NULL.  Under a lock, or on the committer. */
struct obj *network_find(const char *name);

/* n's definition into d: 0, or -EINVAL with e when n has no cidr yet. */
int network_def(const struct obj *n, struct network_def *d, struct rpc_error *e);

/*
 * For a first start of inst, on the committer.  network_check: 0 when
 * every network inst names exists and has a cidr, else -EINVAL with e.
 * network_allocate_args: allocate_for_instance's arguments, or NULL when
 * out of memory.  network_nics: the NICs compute hosts are sent (the
 * instance object's "nics"), from allocated (allocate_for_instance's
 * answer) or, when NULL, from what inst keeps; NULL when out of memory
 * or when inst has no addresses.
 */
int network_check(const struct obj *inst, struct rpc_error *e);
json_t *network_allocate_args(const struct obj *inst);
json_t *network_nics(const struct obj *inst, json_t *allocated);

/* Checks allocate_for_instance's answer for inst (one NIC per network,
 * in order, each address inside its network) and writes its addresses
 * and MACs as lines into ips and macs.  0 or -EPROTO with e. */
int network_read_allocation(const struct obj *inst, json_t *answer,
			    struct strbuf *ips, struct strbuf *macs,
			    struct rpc_error *e);

#endif
