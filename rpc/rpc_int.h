/*
 * rpc_int.h - what conn.c, client.c and server.c share; not for callers
 * outside rpc/ (they use rpc.h).
 *
 * One struct rpc_conn is one AMQP connection with two channels: channel 1
 * carries everything that must survive (exchange, consumers, publishes,
 * acks); channel 2 only asks "does this queue have a consumer?" with a
 * passive queue.declare, which the broker answers for a missing queue by
 * closing the channel - so that a 404 never costs us our consumers.
 *
 * Every incoming message, whatever the caller is waiting for, goes through
 * rpc_conn_read(): a reply is matched against the call in progress, a
 * delivery for a server is queued on that server until its next
 * rpc_server_poll().  So a thread may use one connection for a server and
 * for its own calls and casts, even from inside a handler.
 */
#ifndef NOVAFS_RPC_INT_H
#define NOVAFS_RPC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <amqp.h>

#include "rpc.h"
#include "strbuf.h"
#include "uuid.h"

#define RPC_CH_MAIN 1
#define RPC_CH_PROBE 2
#define RPC_HEARTBEAT_S 30
#define RPC_FRAME_MAX 131072
#define RPC_CONNECT_TIMEOUT_MS 5000
#define RPC_RPC_TIMEOUT_MS 10000
/* oslo.messaging's rabbit_transient_queues_ttl: reply and fanout queues
 * outlive a dead consumer by 30 minutes, then the broker drops them. */
#define RPC_QUEUE_TTL_MS 1800000
#define RPC_NAME_MAX 256 /* AMQP short strings: queue, exchange, tag */
#define RPC_SEEN_IDS 256 /* duplicate _unique_id ring per server */
#define RPC_SERVER_QUEUES 3
#define RPC_REPLY_TAG "novafs-reply"

/* A delivery queued for a server: a copy of the body, since librabbitmq
 * reuses its buffers. */
struct rpc_delivery {
	struct rpc_delivery *next;
	uint64_t tag;
	unsigned generation; /* conn->generation when it arrived */
	size_t len;
	char body[];
};

struct rpc_server {
	struct rpc_conn *conn;    /* NULL once the connection was closed */
	struct rpc_server *next;  /* conn->servers */
	char *topic;
	char *server;             /* NULL: topic queue only */
	char fanout_q[RPC_NAME_MAX];
	int nqueues;
	char queues[RPC_SERVER_QUEUES][RPC_NAME_MAX];
	char tags[RPC_SERVER_QUEUES][64];
	const struct rpc_method *methods;
	void *ctx;
	struct rpc_delivery *head, *tail;
	char seen[RPC_SEEN_IDS][64];
	unsigned seen_next;
};

struct rpc_conn {
	amqp_connection_state_t amqp; /* NULL while disconnected */
	bool broken;                  /* reconnect before the next use */
	bool probe_open;              /* channel 2 is open */
	unsigned generation;          /* bumped by every (re)connect */
	char *parse_buf;              /* the URL amqp_parse_url cut up */
	struct amqp_connection_info info;
	char *shown_url;              /* the URL without its password */
	char *exchange;
	char reply_q[64];             /* "" until the first call */
	/* The call waiting in rpc_call(), matched by rpc_conn_read(). */
	const char *call_msg_id;
	bool call_done;
	json_t *call_result;
	struct rpc_error call_err;
	struct rpc_server *servers;
	unsigned server_seq;
};

/* Reconnects a broken (or never connected) conn, re-declaring the
 * exchange, the reply queue and every server's queues and consumers;
 * otherwise reads what has arrived, so that a connection the broker
 * dropped while we were idle is noticed and replaced now.  Returns 0 or
 * -ENOTCONN (e filled). */
int rpc_conn_ensure(struct rpc_conn *c, struct rpc_error *e);
int rpc_conn_reconnect(struct rpc_conn *c, struct rpc_error *e);

/* Waits up to timeout_ms (0: only what is already there) for one message
 * and routes it.  Returns 1 when a delivery was routed, 0 when none came
 * (or a control frame was handled), -ENOTCONN (conn marked broken) when
 * the connection failed. */
int rpc_conn_read(struct rpc_conn *c, int timeout_ms, struct rpc_error *e);

/* Publishes body with oslo.messaging's properties; expiration_ms > 0 adds
 * an expiration (calls).  Returns 0 or -ENOTCONN. */
int rpc_conn_publish(struct rpc_conn *c, const char *exchange,
		     const char *routing_key, const struct strbuf *body,
		     int expiration_ms, struct rpc_error *e);

/* The number of consumers of queue (0 when it does not exist), or
 * -errno. */
int rpc_conn_consumers(struct rpc_conn *c, const char *queue,
		       struct rpc_error *e);

/* Declares (idempotently) what a server or a caller needs, with exactly
 * oslo.messaging's flags.  Each returns 0 or -ENOTCONN. */
int rpc_conn_declare_exchange(struct rpc_conn *c, const char *name,
			      const char *type, bool auto_delete,
			      struct rpc_error *e);
int rpc_conn_declare_queue(struct rpc_conn *c, const char *name, bool ttl,
			   struct rpc_error *e);
int rpc_conn_bind(struct rpc_conn *c, const char *queue, const char *exchange,
		  const char *routing_key, struct rpc_error *e);
int rpc_conn_consume(struct rpc_conn *c, const char *queue, const char *tag,
		     bool no_ack, struct rpc_error *e);

/* Marks the connection broken after a failed librabbitmq call and fills e
 * with a ConnectionError naming what failed.  Returns -ENOTCONN. */
int rpc_conn_fail(struct rpc_conn *c, const char *what, amqp_rpc_reply_t r,
		  struct rpc_error *e);
int rpc_conn_fail_status(struct rpc_conn *c, const char *what, int status,
			 struct rpc_error *e);

/* server.c, for conn.c */
int rpc_server_declare(struct rpc_server *srv, struct rpc_error *e);
void rpc_server_enqueue(struct rpc_server *srv, uint64_t tag,
			const void *body, size_t len);
void rpc_server_drop_pending(struct rpc_server *srv);
struct rpc_server *rpc_server_by_tag(struct rpc_conn *c, const char *tag,
				     size_t taglen);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t rpc_now_ms(void);

#endif
