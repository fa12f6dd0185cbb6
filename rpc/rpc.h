/*
 * rpc.h - cast and call over RabbitMQ, in oslo.messaging's wire format.
 *
 * Every novafs service talks to the others only through this module.  The
 * model is OpenStack's: one topic exchange ("novafs" by default); a service
 * consumes a queue per topic ("scheduler") and per topic and host
 * ("compute.node1"), plus a fanout queue of its own ("<topic>_fanout_<hex>",
 * not exclusive but expiring 30 minutes after its consumer went, exactly
 * as oslo.messaging declares it) bound to the "<topic>_fanout" exchange;
 * a cast is fire-and-forget, a call waits for the reply on the caller's own
 * reply queue ("reply_<hex>", named in the request as _reply_q) and matches
 * it by _msg_id.  Messages carry oslo.messaging's 2.0 envelope
 * ({"oslo.version": "2.0", "oslo.message": "<json>"}) so that Python
 * OpenStack peers can be added without a redesign.
 *
 * Threading: a struct rpc_conn is one AMQP connection and is NOT
 * thread-safe (librabbitmq-c connections are not).  Use one per thread, or
 * let one thread own it.  A struct rpc_server borrows its connection.
 *
 * Errors: every function returns 0 (or a count) on success and -errno on
 * failure, and fills the optional struct rpc_error with a class and a
 * human-readable message.  A failure raised by a remote handler arrives as
 * that handler's class and message, and the errno its class maps to.  A
 * cast or call to a queue that no process consumes fails at once with
 * -EHOSTDOWN ("ServiceUnavailable"), not after a timeout.  A lost broker is
 * -ENOTCONN; the next operation on the connection reconnects (re-declaring
 * what the connection and its server had declared) before it proceeds.
 *
 * JSON ownership: args are borrowed (the caller keeps its reference);
 * *result is a new reference the caller must json_decref().
 */
#ifndef NOVAFS_RPC_H
#define NOVAFS_RPC_H

#include <stdbool.h>
#include <jansson.h>

#define RPC_DEFAULT_URL "amqp://guest:guest@127.0.0.1:5672/"
#define RPC_DEFAULT_EXCHANGE "novafs"

struct rpc_error {
	int err;             /* -errno, 0 when no error */
	char cls[64];        /* exception class, e.g. "NoValidHost" */
	char message[512];   /* readable reason, no trailing newline */
};

/* Fills e (when not NULL) and returns err, so that a caller can write
 * `return rpc_error_set(e, -EINVAL, "InvalidInput", "bad %s", x);`.
 * A NULL or empty cls is replaced by rpc_class_from_errno(err). */
int rpc_error_set(struct rpc_error *e, int err, const char *cls,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The errno a remote failure class maps to (EREMOTEIO for a class this
 * table does not know), and the class novafs sends for an errno. */
int rpc_errno_from_class(const char *cls);
const char *rpc_class_from_errno(int err);

struct rpc_conn;

/* Connects to url ("amqp://user:pass@host:port/vhost") and declares the
 * exchange.  Fails with -ECONNREFUSED, -EHOSTUNREACH, -EACCES (login) or
 * -EINVAL (malformed URL); e->message names the URL. */
int rpc_connect(const char *url, const char *exchange, struct rpc_conn **out,
		struct rpc_error *e);
/* Closes the connection; accepts NULL. */
void rpc_close(struct rpc_conn *conn);

/* Routing: server == NULL sends to the shared topic queue ("scheduler");
 * otherwise to that server's queue ("compute.node1"). */
int rpc_cast(struct rpc_conn *conn, const char *topic, const char *server,
	     const char *method, json_t *args, struct rpc_error *e);
/* Sends to every server of topic through "<topic>_fanout".  Having no
 * listener is not an error for a fanout. */
int rpc_fanout_cast(struct rpc_conn *conn, const char *topic,
		    const char *method, json_t *args, struct rpc_error *e);
/* Sends a request and waits at most timeout_ms for its reply.  A reply
 * that arrives after the timeout (or for another call) is dropped.
 * Returns -ETIMEDOUT ("MessagingTimeout") when nothing came back. */
int rpc_call(struct rpc_conn *conn, const char *topic, const char *server,
	     const char *method, json_t *args, int timeout_ms,
	     json_t **result, struct rpc_error *e);

/*
 * Server side.  A handler returns 0 and may set *result (a new reference,
 * sent back to a caller; NULL means JSON null), or returns -errno and
 * fills e; its class and message travel back to a caller.  Handlers must be
 * idempotent: a message can be redelivered (a message is acknowledged only
 * after its handler ran, so a crash means redelivery).  Duplicates carrying
 * a recently seen _unique_id are dropped before dispatch.
 */
typedef int (*rpc_handler_fn)(void *ctx, json_t *args, json_t **result,
			      struct rpc_error *e);

struct rpc_method {
	const char *name;
	rpc_handler_fn handler;
};

struct rpc_server;

/* Declares and consumes queue topic, queue "topic.server" when server is
 * not NULL, and a fanout queue for topic.  methods ends with {NULL, NULL};
 * it and ctx must outlive the server.  An unknown method gets a
 * "NoSuchMethod" failure back, as oslo.messaging sends. */
int rpc_server_new(struct rpc_conn *conn, const char *topic,
		   const char *server, const struct rpc_method *methods,
		   void *ctx, struct rpc_server **out, struct rpc_error *e);
/* Waits up to timeout_ms for messages and dispatches every message that
 * arrives in that time, returning as soon as the queue is drained after
 * at least one.  Returns the number dispatched, or -errno (-ENOTCONN when
 * the broker is gone and reconnecting failed: the caller backs off and
 * calls again). */
int rpc_server_poll(struct rpc_server *srv, int timeout_ms,
		    struct rpc_error *e);
/* Cancels the consumers; accepts NULL.  The connection stays open. */
void rpc_server_free(struct rpc_server *srv);

#endif
