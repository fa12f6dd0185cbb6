/*
 * bus_int.h - what bus.c, client.c and server.c share; private to rpc/.
 *
 * bus.c owns the connection: it connects and reconnects, keeps the list of
 * publishes the broker has not confirmed yet (sending them again on a new
 * connection), and routes what the broker sends.  client.c is the caller's
 * side (casts, calls and their replies); server.c the handler's side
 * (subscriptions, dispatch, acknowledgements).
 */
#ifndef NOVAFS_RPC_BUS_INT_H
#define NOVAFS_RPC_BUS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/hash.h"
#include "common/strbuf.h"
#include "common/uuid.h"
#include "rpc/bus.h"
#include "conn.h"
#include "envelope.h"

#define RPC_CONNECT_TIMEOUT_MS 5000
#define RPC_BACKOFF_MIN_MS 100
#define RPC_BACKOFF_MAX_MS 5000
/* oslo.messaging's rabbit_transient_queues_ttl: reply and fanout queues
 * outlive a dead consumer by 30 minutes, then the broker drops them. */
#define RPC_QUEUE_TTL_MS 1800000
#define RPC_PREFETCH 256
#define RPC_SEEN_IDS 512        /* duplicate _unique_id memory per subscription */
#define RPC_REPLY_TAG "novafs-reply"
#define RPC_USER_MAX 128        /* a user name and its NUL */

/* A message on its way to the broker: sent and waiting for its confirm,
 * or waiting for a connection to be sent on.  The list of them is in send
 * order, and so in confirm order: first those sent on the current
 * connection (seq > 0, increasing), then those waiting (seq 0). */
struct rpc_publish {
	struct rpc_publish *next;
	struct rpc_bus *bus;
	uint64_t seq;              /* confirm number on the current connection; 0: unsent */
	char *exchange;
	char *key;
	struct strbuf body;
	bool mandatory;
	bool transient;            /* delivery_mode 1: a call's request */
	const char *user_id;       /* the user_id property (borrowed: the bus's
				    * user, or a raw publish's); NULL: none */
	bool declare_fanout;       /* declare the fanout exchange first */
	long long expiration_ms;
	char unique_id[UUID_HEX_LEN]; /* to match a basic.return; "" for raw */
	bool returned;
	long long timer;           /* deadline; 0 for a call's (its call times it) */
	rpc_done_fn done;
	void *ctx;
	struct rpc_call *call;     /* a call's request */
};

/* A call waiting for its reply. */
struct rpc_call {
	struct hash_entry by_id;
	struct rpc_bus *bus;
	char msg_id[UUID_HEX_LEN];
	const struct rpc_method_decl *m;
	char server[64];           /* "" for the topic queue */
	rpc_done_fn done;
	void *ctx;
	long long timer;           /* the deadline */
	long long monitor_ms;      /* > 0: oslo's call monitor: the server must */
	long long monitor_timer;   /* show life (a heartbeat) this often */
	struct rpc_publish *pub;   /* until the broker confirmed the request */
};

struct rpc_sub {
	struct rpc_sub *next;
	const struct rpc_service_decl *svc;
	enum rpc_sub_kind kind;
	const struct rpc_handler *handlers;
	void *ctx;
	char queue[RPC_NAME_MAX];
	char tag[32];
	char seen[RPC_SEEN_IDS][UUID_HEX_LEN];
	unsigned seen_next;
};

struct rpc_request {
	struct rpc_request *prev, *next;  /* bus->requests */
	struct rpc_bus *bus;
	struct rpc_sub *sub;
	const struct rpc_method_decl *method;
	struct rpc_envelope_request env;
	char sender[RPC_USER_MAX]; /* "" when the message had no user_id */
	uint64_t delivery_tag;
	unsigned generation;       /* of the connection it came on */
	long long heartbeat_timer;
};

struct rpc_bus {
	struct loop *loop;
	char *url_buf;             /* amqp_parse_url cuts this up */
	char *shown_url;
	char *host, *vhost, *user, *password, *exchange;
	int port;
	long long timeout_ms;
	int heartbeat_s;
	bool allow_anonymous;

	struct rpc_conn *conn;     /* NULL while disconnected */
	long long watch;
	unsigned generation;       /* bumped by every connect */
	uint64_t next_seq;
	struct rpc_publish *pubs, *pubs_tail; /* in send order */
	bool up;
	int backoff_ms;
	long long heartbeat_timer;
	long long reconnect_timer;
	rpc_state_fn state_fn;
	void *state_ctx;

	char reply_q[RPC_NAME_MAX]; /* "reply_USER_HEX", kept across reconnects */
	struct hash_table calls;   /* struct rpc_call by msg_id */
	struct rpc_sub *subs;
	unsigned sub_seq;
	struct rpc_request *requests;
	struct rpc_heartbeat *heartbeat; /* this service's, or NULL */
};

/* bus.c */
/* A publish to exchange with routing key, carrying this bus's user_id, for
 * rpc_bus_enqueue(); NULL when out of memory. */
struct rpc_publish *rpc_publish_new(struct rpc_bus *bus, const char *exchange,
				    const char *key);
/* Queues pub, sending it now if connected, with a deadline of timeout_ms
 * (0: none, for a call's request, which its call times).  Takes ownership
 * of pub. */
void rpc_bus_enqueue(struct rpc_bus *bus, struct rpc_publish *pub,
		     long long timeout_ms);
/* Removes pub from the queue and frees it (without calling done); accepts
 * NULL. */
void rpc_bus_drop_publish(struct rpc_bus *bus, struct rpc_publish *pub);
/* The refusal of a request while the bus is down: -ENETDOWN with e. */
int rpc_bus_down(const struct rpc_bus *bus, struct rpc_error *e);
/* Marks the connection lost: reconnects in the background. */
void rpc_bus_lost(struct rpc_bus *bus, const struct rpc_error *why);
/* Publishes a message nobody waits for (a call-monitor heartbeat) if
 * connected: it is not confirmed, and not sent again. */
void rpc_bus_send_untracked(struct rpc_bus *bus, const char *exchange,
			    const char *key, const struct strbuf *body);

/* client.c */
int rpc_call_cmp(const struct hash_entry *entry, const void *msg_id);
int rpc_client_declare(struct rpc_bus *bus, struct rpc_error *e);
void rpc_client_reply(struct rpc_bus *bus, const struct rpc_event *ev);
/* The request of pub's call was refused (err < 0, e says why) or came back
 * unroutable (err 0): the call fails now. */
void rpc_client_undelivered(struct rpc_bus *bus, struct rpc_publish *pub,
			    int err, const struct rpc_error *e);
void rpc_client_free_all(struct rpc_bus *bus);
/* Completes every call waiting for its reply with e (rpc_bus_cancel). */
void rpc_client_fail_all(struct rpc_bus *bus, const struct rpc_error *e);

/* heartbeat.c: frees what rpc_heartbeat_start() made; accepts NULL. */
void rpc_heartbeat_free(struct rpc_heartbeat *hb);

/* server.c */
int rpc_server_declare(struct rpc_bus *bus, struct rpc_sub *sub,
		       struct rpc_error *e);
struct rpc_sub *rpc_server_by_tag(struct rpc_bus *bus, const char *tag);
void rpc_server_deliver(struct rpc_bus *bus, struct rpc_sub *sub,
			const struct rpc_event *ev);
void rpc_server_free_all(struct rpc_bus *bus);

/* The role and, for compute hosts, the host a user name stands for; 0 for
 * a name that is no service's (or a compute-HOST whose HOST is not a host
 * name).  host (RPC_HOST_MAX bytes) receives "" for other roles. */
#define RPC_HOST_MAX 64
unsigned rpc_role_of(const char *user, char host[RPC_HOST_MAX]);

#endif
