/*
 * bus.h - the message bus: one AMQP connection, owned by one event loop.
 *
 * Every novafs service talks to the others only through a struct rpc_bus,
 * in oslo.messaging's RabbitMQ wire format (the 2.0 envelope, _msg_id,
 * _reply_q, _unique_id, failures as {class, module, message, ...}), so
 * Python OpenStack peers interoperate.  The model is OpenStack's: one
 * durable topic exchange ("novafs"); a service consumes a durable queue
 * per topic ("scheduler") and per topic and server ("compute.node1"), and
 * a fanout queue of its own ("<topic>_fanout_<user>_<hex>") bound to the
 * exchange "<topic>_fanout"; a call waits for its reply on the caller's
 * reply queue ("reply_<user>_<hex>", kept across reconnects).  Exchange
 * and queue flags are exactly those of an oslo.messaging peer configured
 * with amqp_durable_queues = true; the user in the names of a process's
 * own queues is what lets broker permissions keep them its own (oslo
 * names them "<topic>_fanout_<hex>" and "reply_<hex>").
 *
 * Threading.  A bus belongs to the loop it was created on, and every
 * function here must be called on that loop's thread.  Other threads hand
 * work to it with loop_post(); that is the only way in.  The loop thread
 * services the connection's heartbeats, so an idle connection stays alive,
 * and nothing here ever blocks waiting for a remote service: requests
 * complete through callbacks.
 *
 * Delivery.  Casts, fanouts and replies are persistent (delivery_mode 2,
 * as oslo.messaging sends everything) and published with publisher
 * confirms: a cast completes when the broker has taken it (its done
 * callback gets 0; for a durable queue, once the message is on disk), and
 * a publish the broker did not take is sent again after a reconnect until
 * its deadline passes, then reported; it is never dropped silently.  A
 * call's request is confirmed too but not persistent (delivery_mode 1):
 * its caller gives up when its timeout passes, so a request that outlived
 * a broker restart would be answered to nobody, and the disk write it
 * would cost is a quarter of a call's round trip (tests/integration/rpc.sh
 * prints the figures).  Casts and calls are mandatory: one the broker
 * cannot route (no queue for that topic or server) completes with
 * -EHOSTDOWN at once, from the broker's own basic.return.  Incoming
 * messages are acknowledged only when their handler has finished, so a
 * crash means redelivery; duplicates (a _unique_id seen recently) are
 * dropped before dispatch.  Handlers must be idempotent.
 *
 * Identities.  Each service connects as its own RabbitMQ user: "novafs",
 * "scheduler", "network", "compute-HOST".  Every message carries that name
 * as its user_id property, which RabbitMQ validates against the
 * connection's login, so a receiver knows who sent it.  Dispatch refuses
 * (logs, acknowledges, and answers a call with a NotAuthorized failure) a
 * message whose sender's role the method's declaration does not allow, or
 * that breaks the declaration's own rule between sender and arguments
 * (rpc_method_decl.check: a heartbeat speaks only for its sender's host);
 * a handler checks what only it can (a compute host reports only the
 * instances it runs).  Messages without a user_id come from oslo.messaging
 * peers (which never set one); they are refused unless the operator
 * allows them ([amqp] allow_peers_without_user_id), in which case they may
 * act as any role.
 *
 * Errors.  Functions return 0 or -errno and fill a struct rpc_error.  A
 * bus that is not connected (the broker is down or unreachable) refuses
 * new requests at once with -ENETDOWN ("MessagingUnavailable"): a distinct
 * errno, so that it is never mistaken for a dead FUSE mount (ENOTCONN).
 */
#ifndef NOVAFS_RPC_BUS_H
#define NOVAFS_RPC_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "common/opts.h"
#include "rpc/contract.h"
#include "rpc/rpc.h"

struct loop;
struct rpc_bus;
struct rpc_request;

/* Filled by opts_load() from rpc_bus_options (config section [amqp]). */
struct rpc_bus_config {
	char *url;                /* amqp://HOST:PORT/VHOST, no credentials */
	char *user;               /* NULL: the service's default identity */
	char *password;           /* secret: config file or environment only */
	char *exchange;           /* the control exchange, "novafs" */
	long long timeout_ms;     /* default deadline of calls and casts */
	long long heartbeat_s;    /* AMQP heartbeat */
	bool allow_anonymous;     /* accept messages without user_id */
};

/* The [amqp] options, for a daemon's option tables (their offsets are
 * into struct rpc_bus_config). */
extern const struct opt rpc_bus_options[];

/* Connection state changes, for a daemon's log: up, or down with why. */
typedef void (*rpc_state_fn)(void *ctx, bool up, const struct rpc_error *why);

/*
 * Creates the bus on loop and connects (as user, or default_user when the
 * config names none), declaring the exchange.  A failure here (broker
 * unreachable, login refused, bad URL) is returned, so that a daemon can
 * refuse to start with one clear line; after a successful start, losses
 * are reconnected in the background with back-off from 100 ms to 5 s and
 * reported through the state callback.
 */
int rpc_bus_new(struct loop *loop, const struct rpc_bus_config *cfg,
		const char *default_user, struct rpc_bus **out,
		struct rpc_error *e);
/* Cancels everything in flight (callbacks are not called), closes the
 * connection, frees the bus; accepts NULL. */
void rpc_bus_free(struct rpc_bus *bus);
/* For an owner that must hear of everything it sent before rpc_bus_free,
 * once its loop has stopped: completes every call and publish in flight
 * now, from the calling thread, with -ENETDOWN (ConnectionError, "the
 * message bus is closing").  Those callbacks must not send on bus. */
void rpc_bus_cancel(struct rpc_bus *bus);
void rpc_bus_on_state(struct rpc_bus *bus, rpc_state_fn fn, void *ctx);
bool rpc_bus_connected(const struct rpc_bus *bus);
/* The user this bus connected as. */
const char *rpc_bus_user(const struct rpc_bus *bus);
struct loop *rpc_bus_loop(const struct rpc_bus *bus);

/*
 * Sending.  done(ctx, err, result, e) is called exactly once when the
 * function returned 0, on the loop thread, never before the function
 * returned; never when it returned -errno.  err is 0 or -errno:
 *   cast, fanout: 0 when the broker took the message; -EHOSTDOWN when it
 *     could not route it (casts only); -ETIMEDOUT when it was not taken
 *     before the deadline (reconnecting all along); -EACCES when the
 *     broker refused it (the user may not publish there).
 *   call: 0 with result (borrowed: done increfs it to keep it; NULL for
 *     JSON null), a remote failure as its class, message and mapped
 *     errno, -EPROTO for a result outside the method's declaration,
 *     -EHOSTDOWN and -EACCES as for casts, -ETIMEDOUT when no reply came
 *     in time.
 * done may be NULL for fire-and-forget (still confirmed and retried).
 */
typedef void (*rpc_done_fn)(void *ctx, int err, json_t *result,
			    const struct rpc_error *e);

struct rpc_send {
	const char *server;   /* NULL: the topic's shared queue */
	long long timeout_ms; /* 0: the bus default */
	long long monitor_ms; /* calls: oslo's call_monitor_timeout (sent as
			       * _timeout); 0: none */
	json_t *context;      /* sent as _context_KEY members; may be NULL */
	/* Casts: while the bus is down, wait for it (until the deadline)
	 * instead of failing with -ENETDOWN at once.  For reports that must
	 * not be lost, with a deadline long enough to outlast a broker
	 * restart. */
	bool wait_for_bus;
};

/* Returns 0, -EINVAL (args break the declaration, or the method is not of
 * that kind), or -ENETDOWN (not connected). */
int rpc_cast(struct rpc_bus *bus, const struct rpc_method_decl *m,
	     const struct rpc_send *s, json_t *args, rpc_done_fn done,
	     void *ctx, struct rpc_error *e);
int rpc_call(struct rpc_bus *bus, const struct rpc_method_decl *m,
	     const struct rpc_send *s, json_t *args, rpc_done_fn done,
	     void *ctx, struct rpc_error *e);
/* To every server of m's topic; having none is not an error. */
int rpc_fanout(struct rpc_bus *bus, const struct rpc_method_decl *m,
	       json_t *args, rpc_done_fn done, void *ctx,
	       struct rpc_error *e);

/*
 * An oslo.messaging notification (priority "info", "error", ...) with
 * event_type ("instance.update") and payload (borrowed), published on the
 * control exchange with routing key "notifications.PRIORITY", as
 * oslo.messaging's Notifier does; publisher_id names this service
 * ("compute.node1").  Completion as for a cast; no listener is not an
 * error.
 */
int rpc_notify(struct rpc_bus *bus, const char *publisher_id,
	       const char *event_type, const char *priority, json_t *payload,
	       rpc_done_fn done, void *ctx, struct rpc_error *e);

/*
 * Receiving.  A subscription consumes one of a service's queues and
 * dispatches to handlers (ending with a NULL method); the table and ctx
 * must outlive the bus.  Before a handler runs, the bus has checked the
 * request's version and namespace against svc (UnsupportedVersion or
 * NoSuchMethod, as oslo.messaging's dispatcher answers), its sender's role
 * and its arguments against the declaration.
 *   RPC_SUB_TOPIC:  the shared durable queue TOPIC (work shared between
 *                   the servers of a topic)
 *   RPC_SUB_SERVER: the durable queue TOPIC.SERVER
 *   RPC_SUB_FANOUT: a queue of this process's own bound to TOPIC_fanout,
 *                   which sees every fanout and nothing else
 * A service that serves a topic subscribes TOPIC, TOPIC.SERVER and FANOUT;
 * one that only listens (novafs hearing compute heartbeats) subscribes
 * FANOUT alone and takes none of the topic's calls.
 */
enum rpc_sub_kind { RPC_SUB_TOPIC, RPC_SUB_SERVER, RPC_SUB_FANOUT };

typedef void (*rpc_handler_fn)(void *ctx, struct rpc_request *req);

struct rpc_handler {
	const struct rpc_method_decl *method;
	rpc_handler_fn fn;
};

int rpc_subscribe(struct rpc_bus *bus, const struct rpc_service_decl *svc,
		  enum rpc_sub_kind kind, const char *server,
		  const struct rpc_handler *handlers, void *ctx,
		  struct rpc_error *e);
/* What a service that serves svc's topic on host does: subscribes TOPIC,
 * TOPIC.host and FANOUT, all with the same handlers. */
int rpc_serve(struct rpc_bus *bus, const struct rpc_service_decl *svc,
	      const char *host, const struct rpc_handler *handlers, void *ctx,
	      struct rpc_error *e);

/*
 * A request being handled.  The handler (or whoever it hands the request
 * to) calls rpc_request_done() exactly once, on the loop thread, now or
 * later; until then the message stays unacknowledged, and a call whose
 * caller asked for call monitoring gets oslo's interim heartbeat replies
 * (ending: false) every _timeout/2 seconds.  result is stolen (NULL: JSON
 * null); with e (err < 0) the caller of a call gets e's class and message.
 * A result outside the method's declaration is a bug: it is logged and
 * the caller gets an InvalidReply failure instead.  The reply is
 * confirmed and sent again after a reconnect like a cast.  After
 * rpc_request_done() the request is gone.
 */
const struct rpc_method_decl *rpc_request_method(const struct rpc_request *req);
json_t *rpc_request_args(const struct rpc_request *req);    /* borrowed */
json_t *rpc_request_context(const struct rpc_request *req); /* borrowed, may be NULL */
/* The validated user_id, or NULL (an oslo peer, when allowed). */
const char *rpc_request_sender(const struct rpc_request *req);
/* True when the sender has one of roles (RPC_ROLE_*), and, when host is
 * not NULL, is compute host host ("compute-HOST"); also true for an
 * allowed anonymous peer. */
bool rpc_request_from(const struct rpc_request *req, unsigned roles,
		      const char *host);
/* rpc_request_from(req, RPC_ROLE_COMPUTE, host). */
bool rpc_request_from_compute(const struct rpc_request *req, const char *host);
void rpc_request_done(struct rpc_request *req, json_t *result,
		      const struct rpc_error *e);

/* Identities: the user name of compute host host ("compute-HOST") into
 * buf; returns buf. */
char *rpc_compute_user(const char *host, char *buf, size_t size);

/*
 * Heartbeats.  Every service but novafs announces itself with
 * scheduler_update_service_capabilities, a fanout the scheduler and novafs
 * hear: {binary, host, up: true, report_interval} at start and every
 * report interval (fill, when not NULL, adds the service's own numbers: a
 * compute host's capacity), and {binary, host, up: false} when it stops.
 * A heartbeat the broker does not take in time is logged once, and so is
 * the first that goes through again; none is sent again, the next one
 * says the same.
 */
struct rpc_service_config {
	char *host;                    /* NULL: gethostname() */
	long long report_interval_s;
};

/* [DEFAULT] host (--host) and report_interval (--report-interval), with
 * offsets into struct rpc_service_config. */
extern const struct opt rpc_service_options[];

/* Sets cfg->host to gethostname() when it is NULL.  Returns 0, or -EINVAL
 * with e when the host name cannot be a queue name (then --host is
 * needed). */
int rpc_service_host(struct rpc_service_config *cfg, struct rpc_error *e);

typedef int (*rpc_report_fn)(void *ctx, json_t *args, struct rpc_error *e);
struct rpc_heartbeat;

/* Starts the heartbeats: the first at the loop's next iteration, then
 * every interval_s.  binary is one of service_binaries (rpc/methods.h);
 * binary, host and ctx must outlive the bus, which owns the heartbeat (one
 * per bus) and frees it.  Returns 0 or -errno with e. */
int rpc_heartbeat_start(struct rpc_bus *bus, const char *binary,
			const char *host, long long interval_s,
			rpc_report_fn fill, void *ctx, struct rpc_heartbeat **out,
			struct rpc_error *e);
/* Sends one now (compute_publish_service_capabilities asked for it). */
void rpc_heartbeat_now(struct rpc_heartbeat *hb);
/* Stops the heartbeats: sends up: false and waits, driving the loop (so:
 * not from a callback), until the broker took it or the bus's timeout
 * passed; as publishes are confirmed in order, everything sent before it
 * is then taken too.  Accepts NULL, and a heartbeat stopped already. */
void rpc_heartbeat_stop(struct rpc_heartbeat *hb);

/*
 * For tools and tests: the same requests, run to completion by driving
 * the loop (which must not be running: call from main, not a callback).
 * *result (calls) is a new reference or NULL.  Returns 0 or -errno with e.
 */
int rpc_call_wait(struct rpc_bus *bus, const struct rpc_method_decl *m,
		  const struct rpc_send *s, json_t *args, json_t **result,
		  struct rpc_error *e);
int rpc_cast_wait(struct rpc_bus *bus, const struct rpc_method_decl *m,
		  const struct rpc_send *s, json_t *args, struct rpc_error *e);
/* Publishes body as is (no envelope, no checks) to exchange with routing
 * key and waits for the broker's confirm: for tests that send malformed or
 * forged messages.  user_id is the user_id property: NULL for none (as an
 * oslo peer sends), rpc_bus_user(bus) for the truth, anything else to see
 * the broker refuse it (-EACCES). */
int rpc_publish_raw_wait(struct rpc_bus *bus, const char *exchange,
			 const char *routing_key, const void *body, size_t len,
			 const char *user_id, struct rpc_error *e);

#endif
