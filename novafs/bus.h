/*
 * bus.h - novafs's side of the message bus.
 *
 * FUSE serves requests on several threads and an rpc connection is not
 * thread-safe, so each FUSE thread that needs the bus gets a connection of
 * its own, opened on first use and closed when the thread exits.  A broken
 * connection is reopened on the next request; while the broker is away,
 * requests that need it fail with -ENOTCONN and reads, which never touch
 * the bus, keep working.
 *
 * The conductor thread owns one more connection and applies the state
 * reports compute hosts cast to topic "conductor" to the store.
 */
#ifndef NOVAFS_BUS_H
#define NOVAFS_BUS_H

#include <jansson.h>

struct rpc_error;
struct store;

/* Checks that the broker at url answers (one connection, closed again), so
 * that a wrong URL is reported at startup.  Returns 0 or -errno with e. */
int bus_init(const char *url, const char *exchange, int call_timeout_ms,
	     struct rpc_error *e);
void bus_shutdown(void);

/* As rpc_cast/rpc_call, on the calling thread's own connection, with the
 * timeout given to bus_init. */
int bus_cast(const char *topic, const char *server, const char *method,
	     json_t *args, struct rpc_error *e);
int bus_call(const char *topic, const char *server, const char *method,
	     json_t *args, json_t **result, struct rpc_error *e);

/* Connects and starts the conductor thread; it runs until
 * conductor_stop(), riding out broker outages.  Returns 0 or -errno with
 * e. */
int conductor_start(struct store *st, struct rpc_error *e);
void conductor_stop(void);

#endif
