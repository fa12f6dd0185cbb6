/*
 * conn.h - one AMQP 0-9-1 connection over librabbitmq-c, without policy:
 * open and log in, declare, publish with publisher confirms, and read
 * what the broker sends as a stream of events.  Private to rpc/; the bus
 * (bus.c) decides what to do with the events, when to reconnect and what
 * to send again.
 *
 * librabbitmq has three error conventions (NULL plus amqp_get_rpc_reply,
 * a negative status, an amqp_rpc_reply_t); everything here turns them into
 * -errno plus a readable reason.  Nothing here blocks except opening the
 * connection and the declare/consume RPCs, which happen at (re)connect
 * time, and reading the rest of a message whose first frame has come (the
 * broker sends a message's frames together); waiting for the next event
 * never does (rpc_conn_next).
 *
 * Everything uses channel 1, in confirm mode: the broker numbers our
 * publishes 1, 2, 3... and acknowledges each once it has taken
 * responsibility for it (for a persistent message on a durable queue: once
 * it is on disk).
 */
#ifndef NOVAFS_RPC_CONN_H
#define NOVAFS_RPC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <amqp.h>

#include "rpc/rpc.h"

#define RPC_CHANNEL 1
#define RPC_FRAME_MAX 131072
#define RPC_NAME_MAX 256 /* AMQP short strings: queue, exchange, tag */

struct rpc_conn;

struct rpc_conn_params {
	const char *host;
	int port;
	const char *vhost;
	const char *user;
	const char *password;
	const char *shown_url;     /* for messages: never holds the password */
	int heartbeat_s;
	int timeout_ms;            /* connect and RPC timeout */
	uint16_t prefetch;         /* basic.qos, 0: unlimited */
};

/* Connects, logs in, opens channel 1 in confirm mode.  Fails with
 * -ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT, -EACCES (login or vhost
 * refused) or -EPROTO, e naming the URL. */
int rpc_conn_open(const struct rpc_conn_params *p, struct rpc_conn **out,
		  struct rpc_error *e);
/* Closes (politely when graceful and the connection still works) and
 * frees; accepts NULL. */
void rpc_conn_close(struct rpc_conn *c, bool graceful);
int rpc_conn_fd(const struct rpc_conn *c);

/* Declarations, with exactly the flags given.  0 or -errno with e (a
 * refusal closes the channel: the caller must reconnect). */
int rpc_conn_declare_exchange(struct rpc_conn *c, const char *name,
			      const char *type, bool durable, bool auto_delete,
			      struct rpc_error *e);
/* Sends exchange.declare without waiting for the answer (nowait), so that
 * a publish can follow at once. */
int rpc_conn_declare_exchange_nowait(struct rpc_conn *c, const char *name,
				     const char *type, bool durable,
				     bool auto_delete, struct rpc_error *e);
/* expires_ms > 0 adds x-expires (oslo.messaging's transient queues). */
int rpc_conn_declare_queue(struct rpc_conn *c, const char *name, bool durable,
			   int expires_ms, struct rpc_error *e);
int rpc_conn_bind(struct rpc_conn *c, const char *queue, const char *exchange,
		  const char *key, struct rpc_error *e);
int rpc_conn_consume(struct rpc_conn *c, const char *queue, const char *tag,
		     bool no_ack, struct rpc_error *e);

/* What a publish carries besides its body. */
struct rpc_props {
	const char *user_id;       /* NULL: none */
	long long expiration_ms;   /* > 0: the message's TTL */
	bool persistent;
};

/* Publishes.  Returns 0 or -errno (the connection failed: reconnect).
 * Every successful publish takes the channel's next confirm sequence
 * number (1, 2, ...), which the caller counts. */
int rpc_conn_publish(struct rpc_conn *c, const char *exchange,
		     const char *key, const void *body, size_t len,
		     const struct rpc_props *props, bool mandatory,
		     struct rpc_error *e);
int rpc_conn_ack(struct rpc_conn *c, uint64_t tag, struct rpc_error *e);
int rpc_conn_heartbeat(struct rpc_conn *c, struct rpc_error *e);

enum rpc_event_kind {
	RPC_EV_DELIVERY,  /* a message for one of our consumers */
	RPC_EV_RETURN,    /* a mandatory message the broker could not route */
	RPC_EV_ACK,       /* publishes up to / equal to tag were taken */
	RPC_EV_NACK,      /* ... were refused */
	RPC_EV_CLOSED,    /* the broker closed the channel or connection */
};

struct rpc_event {
	enum rpc_event_kind kind;
	uint64_t tag;              /* delivery tag, or confirm sequence */
	bool multiple;             /* ACK/NACK: every tag up to this one */
	char consumer_tag[64];     /* DELIVERY */
	char routing_key[RPC_NAME_MAX]; /* DELIVERY, RETURN */
	char user_id[128];         /* DELIVERY: "" when absent */
	const void *body;          /* DELIVERY, RETURN: valid until release */
	size_t len;
	int code;                  /* CLOSED: the broker's reply code */
	amqp_message_t msg_;
	bool has_msg_;
};

/*
 * Reads the next event without blocking.  Returns 1 with ev filled, 0 when
 * nothing more is there now, or -errno (-ENETDOWN) when the connection
 * failed; a CLOSED event is also final.  Release each event.
 */
int rpc_conn_next(struct rpc_conn *c, struct rpc_event *ev,
		  struct rpc_error *e);
void rpc_event_release(struct rpc_event *ev);

#endif
