/*
 * server.c - the consuming side of rpc.h: queues, dispatch, replies.
 *
 * Deliveries reach a server through rpc_conn_read() (conn.c), which queues
 * them here; rpc_server_poll() runs the handlers.  A delivery is
 * acknowledged only after its handler ran and its reply was sent, so a
 * crash redelivers it; a redelivery within this process is recognised by
 * its _unique_id (as oslo.messaging's AMQPDestinationChecker does) and
 * dropped.
 */
#include "rpc_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

/* At most this many messages per rpc_server_poll(), so that a busy queue
 * cannot keep a caller's loop from its other duties for long. */
#define RPC_POLL_MAX 256

int rpc_server_declare(struct rpc_server *srv, struct rpc_error *e)
{
	struct rpc_conn *c = srv->conn;
	char fanout_x[RPC_NAME_MAX];
	int i, rc;

	snprintf(fanout_x, sizeof(fanout_x), "%s_fanout", srv->topic);
	rc = rpc_conn_declare_exchange(c, fanout_x, "fanout", true, e);
	for (i = 0; rc == 0 && i < srv->nqueues; i++) {
		bool fanout = strcmp(srv->queues[i], srv->fanout_q) == 0;

		rc = rpc_conn_declare_queue(c, srv->queues[i], fanout, e);
		if (rc == 0)
			rc = rpc_conn_bind(c, srv->queues[i],
					   fanout ? fanout_x : c->exchange,
					   fanout ? srv->topic : srv->queues[i], e);
	}
	for (i = 0; rc == 0 && i < srv->nqueues; i++)
		rc = rpc_conn_consume(c, srv->queues[i], srv->tags[i], false, e);
	return rc;
}

void rpc_server_enqueue(struct rpc_server *srv, uint64_t tag,
			const void *body, size_t len)
{
	struct rpc_delivery *d;

	d = malloc(sizeof(*d) + len + 1);
	if (!d) {
		/* Leave it unacknowledged: the broker redelivers it when the
		 * channel goes, which beats losing it. */
		return;
	}
	d->next = NULL;
	d->tag = tag;
	d->generation = srv->conn->generation;
	d->len = len;
	memcpy(d->body, body, len);
	d->body[len] = '\0';
	if (srv->tail)
		srv->tail->next = d;
	else
		srv->head = d;
	srv->tail = d;
}

void rpc_server_drop_pending(struct rpc_server *srv)
{
	struct rpc_delivery *d, *next;

	for (d = srv->head; d; d = next) {
		next = d->next;
		free(d);
	}
	srv->head = srv->tail = NULL;
}

struct rpc_server *rpc_server_by_tag(struct rpc_conn *c, const char *tag,
				     size_t taglen)
{
	struct rpc_server *s;
	int i;

	for (s = c->servers; s; s = s->next)
		for (i = 0; i < s->nqueues; i++)
			if (strlen(s->tags[i]) == taglen &&
			    memcmp(s->tags[i], tag, taglen) == 0)
				return s;
	return NULL;
}

static bool srv_seen(const struct rpc_server *srv, const char *id)
{
	int i;

	for (i = 0; i < RPC_SEEN_IDS; i++)
		if (srv->seen[i][0] && strcmp(srv->seen[i], id) == 0)
			return true;
	return false;
}

static void srv_remember(struct rpc_server *srv, const char *id)
{
	snprintf(srv->seen[srv->seen_next], sizeof(srv->seen[0]), "%s", id);
	srv->seen_next = (srv->seen_next + 1) % RPC_SEEN_IDS;
}

/* Acknowledges d unless the connection it came on is gone (the broker
 * then redelivers it on the new one). */
static int srv_ack(struct rpc_server *srv, const struct rpc_delivery *d,
		   struct rpc_error *e)
{
	struct rpc_conn *c = srv->conn;
	int status;

	if (!c || c->broken || !c->amqp || d->generation != c->generation)
		return 0;
	status = amqp_basic_ack(c->amqp, RPC_CH_MAIN, d->tag, 0);
	if (status != AMQP_STATUS_OK)
		return rpc_conn_fail_status(c, "basic.ack", status, e);
	return 0;
}

static const struct rpc_method *srv_method(const struct rpc_server *srv,
					   const char *name)
{
	const struct rpc_method *m;

	for (m = srv->methods; m->name; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

/*
 * Runs one delivery: decode, drop duplicates, call the handler, reply to
 * a call, acknowledge.  Returns 1 when a handler ran (or an unknown method
 * was answered), 0 when the message was dropped, -ENOTCONN when the reply
 * or the acknowledgement could not be sent.
 */
static int srv_dispatch(struct rpc_server *srv, struct rpc_delivery *d,
			struct rpc_error *e)
{
	struct rpc_envelope_request req;
	struct rpc_error herr, *failure = NULL;
	const struct rpc_method *m;
	struct strbuf body = STRBUF_INIT;
	const char *module = NULL;
	char unique[UUID_HEX_LEN];
	json_t *result = NULL;
	int hrc, rc;

	if (rpc_envelope_decode_request(d->body, d->len, &req, NULL) < 0) {
		/* Garbage is not redelivered: it would fail again. */
		return srv_ack(srv, d, e);
	}
	if (req.unique_id && srv_seen(srv, req.unique_id)) {
		rc = srv_ack(srv, d, e);
		goto out;
	}

	memset(&herr, 0, sizeof(herr));
	m = srv_method(srv, req.method);
	if (!m) {
		rpc_error_set(&herr, -EOPNOTSUPP, "NoSuchMethod",
			      "Endpoint does not support RPC method %s", req.method);
		module = "oslo_messaging.rpc.dispatcher";
		failure = &herr;
	} else {
		hrc = m->handler(srv->ctx, req.args, &result, &herr);
		if (hrc < 0) {
			if (!herr.cls[0])
				snprintf(herr.cls, sizeof(herr.cls), "%s",
					 rpc_class_from_errno(hrc));
			if (!herr.message[0])
				snprintf(herr.message, sizeof(herr.message), "%s",
					 strerror(-hrc));
			herr.err = hrc;
			failure = &herr;
		}
	}

	if (req.msg_id && req.reply_q && srv->conn) {
		uuid_generate_hex(unique);
		rc = rpc_envelope_encode_reply(req.msg_id, unique, result, failure,
					       module, &body, NULL);
		if (rc < 0) {
			/* A result that cannot be encoded still owes the
			 * caller an answer. */
			rpc_error_set(&herr, -EINVAL, "InvalidInput",
				      "%s returned a result that cannot be encoded",
				      req.method);
			strbuf_reset(&body);
			rc = rpc_envelope_encode_reply(req.msg_id, unique, NULL,
						       &herr, NULL, &body, NULL);
		}
		if (rc == 0 && !srv->conn->broken && srv->conn->amqp) {
			/* Replies go through the default exchange, straight to
			 * the caller's queue, as oslo.messaging's direct_send. */
			rc = rpc_conn_publish(srv->conn, "", req.reply_q, &body, 0, e);
			if (rc < 0)
				goto out;
		}
	}
	if (req.unique_id)
		srv_remember(srv, req.unique_id);
	rc = srv_ack(srv, d, e);
	if (rc == 0)
		rc = 1;
out:
	strbuf_release(&body);
	json_decref(result);
	rpc_envelope_request_release(&req);
	return rc;
}

int rpc_server_new(struct rpc_conn *conn, const char *topic,
		   const char *server, const struct rpc_method *methods,
		   void *ctx, struct rpc_server **out, struct rpc_error *e)
{
	struct rpc_server *srv = NULL;
	char hex[UUID_HEX_LEN];
	int i, rc;

	*out = NULL;
	if (!conn || !topic || !*topic || !methods ||
	    strlen(topic) + (server ? strlen(server) : 0) + 48 > RPC_NAME_MAX ||
	    (server && !*server))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "rpc_server_new: bad topic, server or methods");
	rc = rpc_conn_ensure(conn, e);
	if (rc < 0)
		return rc;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return rpc_error_set(e, -ENOMEM, "", "out of memory");
	srv->conn = conn;
	srv->methods = methods;
	srv->ctx = ctx;
	srv->topic = strdup(topic);
	srv->server = server ? strdup(server) : NULL;
	if (!srv->topic || (server && !srv->server)) {
		rc = rpc_error_set(e, -ENOMEM, "", "out of memory");
		goto out;
	}
	uuid_generate_hex(hex);
	snprintf(srv->fanout_q, sizeof(srv->fanout_q), "%s_fanout_%s", topic, hex);
	snprintf(srv->queues[srv->nqueues++], RPC_NAME_MAX, "%s", topic);
	if (server)
		snprintf(srv->queues[srv->nqueues++], RPC_NAME_MAX, "%s.%s",
			 topic, server);
	snprintf(srv->queues[srv->nqueues++], RPC_NAME_MAX, "%s", srv->fanout_q);
	conn->server_seq++;
	for (i = 0; i < srv->nqueues; i++)
		snprintf(srv->tags[i], sizeof(srv->tags[i]), "novafs-s%u-%d",
			 conn->server_seq, i);
	rc = rpc_server_declare(srv, e);
	if (rc < 0)
		goto out;
	srv->next = conn->servers;
	conn->servers = srv;
	*out = srv;
out:
	if (rc < 0) {
		free(srv->topic);
		free(srv->server);
		free(srv);
	}
	return rc;
}

static struct rpc_delivery *srv_pop(struct rpc_server *srv)
{
	struct rpc_delivery *d = srv->head;

	if (d) {
		srv->head = d->next;
		if (!srv->head)
			srv->tail = NULL;
	}
	return d;
}

int rpc_server_poll(struct rpc_server *srv, int timeout_ms,
		    struct rpc_error *e)
{
	struct rpc_conn *c = srv->conn;
	struct rpc_delivery *d;
	int64_t deadline, left;
	int n = 0, rc;

	if (!c)
		return rpc_error_set(e, -ENOTCONN, "ConnectionError",
				     "the server's connection was closed");
	rc = rpc_conn_ensure(c, e);
	if (rc < 0)
		return rc;
	deadline = rpc_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		while (n < RPC_POLL_MAX && (d = srv_pop(srv))) {
			rc = srv_dispatch(srv, d, e);
			free(d);
			if (rc < 0)
				return n > 0 ? n : rc;
			n += rc;
		}
		if (n >= RPC_POLL_MAX)
			break;
		if (n > 0) {
			/* Drain what has already arrived, then return. */
			rc = rpc_conn_read(c, 0, e);
			if (rc == 0 && !srv->head)
				break;
		} else {
			left = deadline - rpc_now_ms();
			if (left <= 0)
				break;
			rc = rpc_conn_read(c, left > INT32_MAX ? INT32_MAX : (int)left, e);
		}
		if (rc < 0) {
			/* Dispatched work stands; the error shows next time. */
			if (n > 0)
				break;
			rc = rpc_conn_reconnect(c, e);
			if (rc < 0)
				return rc;
		}
	}
	return n;
}

void rpc_server_free(struct rpc_server *srv)
{
	struct rpc_conn *c;
	struct rpc_server **pp;
	struct rpc_delivery *d;
	int i;

	if (!srv)
		return;
	c = srv->conn;
	if (c) {
		if (c->amqp && !c->broken) {
			for (i = 0; i < srv->nqueues && !c->broken; i++)
				if (!amqp_basic_cancel(c->amqp, RPC_CH_MAIN,
						       amqp_cstring_bytes(srv->tags[i])))
					rpc_conn_fail(c, "basic.cancel",
						      amqp_get_rpc_reply(c->amqp), NULL);
			/* What we held goes back to the queue for others. */
			while ((d = srv_pop(srv))) {
				if (!c->broken && d->generation == c->generation)
					amqp_basic_reject(c->amqp, RPC_CH_MAIN, d->tag, 1);
				free(d);
			}
		}
		for (pp = &c->servers; *pp; pp = &(*pp)->next) {
			if (*pp == srv) {
				*pp = srv->next;
				break;
			}
		}
	}
	rpc_server_drop_pending(srv);
	free(srv->topic);
	free(srv->server);
	free(srv);
}
