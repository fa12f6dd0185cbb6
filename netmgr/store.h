/*
 * store.h - what novafs-network has handed out, in a SQLite database of
 * its own (never novafs's).
 *
 * Two tables: networks (name, the definition novafs sent last, and the
 * cursor: the address handed out last) and allocations (network, ip,
 * mac, instance_uuid; one address per instance and network, each address
 * and each MAC at most once).  Every request is one transaction, BEGIN
 * IMMEDIATE to COMMIT, so an allocation for several networks is all or
 * nothing and two processes sharing the file take turns.  The database is
 * in WAL mode with synchronous=FULL: a function here returns only once
 * its commit is on disk, so that even a power loss right after the answer
 * cannot make the service hand the same address out twice.  Statements
 * are prepared once, at open.
 *
 * Every function is idempotent, as a request redelivered after a crash
 * (the bus acknowledges a message only once its handler is done) must
 * find the work done and answer the same.  A store belongs to one thread.
 */
#ifndef NOVAFS_NETMGR_STORE_H
#define NOVAFS_NETMGR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mac.h"
#include "network.h"

struct rpc_error;
struct netmgr_store;

/* An instance's address and MAC on one network. */
struct netmgr_nic {
	char network[NETMGR_NAME_LEN];
	uint32_t ip;
	uint8_t mac[6];
};

/*
 * Opens (creating it and its tables when missing) the database at path;
 * MACs will be drawn from rnd (netmgr_getrandom, or a test's), which with
 * rnd_ctx must outlive the store.  Returns 0 with *out, or -errno with e
 * naming the file and SQLite's reason.
 */
int netmgr_store_open(const char *path, netmgr_random_fn rnd, void *rnd_ctx,
		      struct netmgr_store **out, struct rpc_error *e);
/* Closes the database and frees s; accepts NULL. */
void netmgr_store_close(struct netmgr_store *s);

/*
 * Gives instance (a UUID, any case) an address and a MAC on each of the n
 * networks, into nics[0..n-1] in the same order, in one transaction:
 * drops what it holds on networks not among them, records each definition (a network seen before keeps its cursor and
 * its allocations), then, per network, returns the instance's allocation
 * if it has one, else takes netmgr_next_address() after the cursor and a
 * new MAC, and moves the cursor there.  Returns 0 once committed; or,
 * with nothing changed, -EADDRNOTAVAIL ("NoMoreFixedIps", "no more fixed
 * IPs on NAME") when a network is full, -EADDRINUSE when no free MAC was
 * drawn, -errno with SQLite's reason when the database fails.
 */
int netmgr_store_allocate(struct netmgr_store *s, const char *instance,
			  const struct netmgr_network *nets, size_t n,
			  struct netmgr_nic *nics, struct rpc_error *e);

/* Called once per NIC released, after the commit. */
typedef void (*netmgr_released_fn)(void *ctx, const struct netmgr_nic *nic);

/*
 * Frees every allocation of instance.  Returns how many there were (0 for
 * an instance it does not know, or one freed already), calling released
 * (when not NULL) for each; or -errno with e, nothing freed.
 */
int netmgr_store_deallocate(struct netmgr_store *s, const char *instance,
			    netmgr_released_fn released, void *ctx,
			    struct rpc_error *e);

/*
 * Forgets network name: its definition, its cursor and whatever
 * allocations are left on it.  Returns how many allocations went (0 for a
 * network it does not know), or -errno with e, nothing changed.
 */
int netmgr_store_delete_network(struct netmgr_store *s, const char *name,
				struct rpc_error *e);

#endif
