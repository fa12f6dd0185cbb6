/*
 * service.h - services/: every novafs service that has sent a heartbeat,
 * as Nova's service list, kept across restarts.
 *
 * Every service fans out update_service_capabilities (at start, every
 * report interval, and with "up": false when it stops); novafs hears the
 * scheduler's fanout (conductor.c) and records each heartbeat here,
 * through the store, so that services/BINARY.HOST/ (binary, host, state,
 * last_heartbeat, report_interval, version) is read from memory, never by
 * asking anybody.  A compute host's heartbeat also updates hosts/HOST
 * (host.h).  A service is up while its last heartbeat said so and is
 * younger than the down time (Nova's service_down_time); service_expire()
 * turns the state files of the silent ones to down.
 */
#ifndef NOVAFS_SERVICE_H
#define NOVAFS_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct obj;
struct rpc_error;

enum {
	S_BINARY,
	S_HOST,
	S_SAID_UP,        /* the last heartbeat said "up": true */
	S_UP,             /* ... and it is younger than the down time */
	S_HEARTBEAT_NS,   /* when it came (CLOCK_REALTIME) */
	S_REPORT_INTERVAL,
	S_VERSION,
	S_NFIELDS
};

extern const struct kind service_kind;

/* How long a service stays up without a heartbeat.  Before the mount. */
void service_set_down_time(long long seconds);

/* Records a heartbeat (args checked against the contract and its sender
 * rule) through the store.  Any thread. */
void service_heartbeat(json_t *args);

/* Marks down the services whose heartbeats stopped (and their hosts).
 * Cheap when none did.  Any thread. */
void service_expire(void);

/* 0 when binary on host (NULL: any host of it) is up or has never been
 * heard from; -EHOSTDOWN with why ("ServiceUnavailable") when it said it
 * stopped or its heartbeats stopped.  Takes the read lock; not under a
 * lock. */
int service_check(const char *binary, const char *host, struct rpc_error *why);

#endif
