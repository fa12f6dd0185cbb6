/*
 * conductor.h - novafs on the message bus.
 *
 * One thread owns the bus (rpc/bus.h) and its loop; nothing else touches
 * it.  Other threads (FUSE workers, the committer) hand it requests with
 * conductor_cast/conductor_call and are answered through a callback on the
 * bus thread, so no thread ever waits on the network.  The thread also
 * serves topic conductor (instance_update, sync_power_states and
 * console_output from compute hosts, applied through the store and
 * acknowledged once durable), runs the stuck-task sweep (sync.h) and listens to the
 * services' heartbeats on the scheduler fanout, without taking any of the
 * scheduler's calls, recording them in services/ and hosts/ (service.h).
 */
#ifndef NOVAFS_CONDUCTOR_H
#define NOVAFS_CONDUCTOR_H

#include <stdbool.h>

#include <jansson.h>

#include "rpc/bus.h"

struct loop;

struct rpc_error;
struct rpc_method_decl;

struct conductor_config {
	struct rpc_bus_config bus;
	long long service_down_time_s; /* a service is down after this
					* long without a heartbeat */
	long long task_timeout_s;      /* see sync.h */
};

/* Connects on loop (a broker that cannot be reached or refuses our login
 * is an error here, so that novafs does not mount without its bus),
 * subscribes and asks every service to report.  The loop is the bus
 * thread's from conductor_run() on.  0 or -errno. */
int conductor_start(struct loop *loop, const struct conductor_config *cfg,
		    struct rpc_error *e);
/* Starts the bus thread (after fuse_daemonize: a fork keeps no thread).
 * 0 or -errno. */
int conductor_run(void);
void conductor_stop(void);

/* Called on the bus thread with the outcome (see rpc_done_fn). */
typedef void (*conductor_done_fn)(void *ctx, int err, json_t *result,
				  const struct rpc_error *e);

/* Any thread: sends m to server (NULL: the topic's queue) with args
 * (stolen), for request_id (sent as _context_request_id; may be NULL).
 * done is called exactly once, on the bus thread, also when the bus is
 * down (-ENETDOWN). */
void conductor_cast(const struct rpc_method_decl *m, const char *server,
		    const char *request_id, json_t *args,
		    conductor_done_fn done, void *ctx);
void conductor_call(const struct rpc_method_decl *m, const char *server,
		    const char *request_id, json_t *args,
		    conductor_done_fn done, void *ctx);

/* Any thread: publishes an oslo.messaging notification of event_type
 * ("instance.update") with payload (stolen), priority info, from
 * publisher "novafs", on the control exchange: routing key
 * notifications.info.  Best effort, as oslo's notifier: a notification
 * nobody listens to, or that the bus cannot take, is dropped (logged at
 * debug level). */
void conductor_notify(const char *event_type, json_t *payload);

/* Any thread: 0 when binary on host (NULL: any host of it) is up or has
 * not been heard from yet; -EHOSTDOWN with why when it said it stopped or
 * its heartbeats stopped; -ENETDOWN when the bus itself is down. */
int conductor_check_service(const char *binary, const char *host,
			    struct rpc_error *why);

#endif
