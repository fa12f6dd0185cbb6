/*
 * client.c - cast, fanout cast and call (see rpc.h).
 *
 * Before a cast or call, a passive queue.declare asks the broker whether
 * anything consumes the target queue: RabbitMQ would otherwise accept the
 * message and keep it (or drop it, if no queue exists), and the caller
 * would learn of a dead service only from a timeout.  The check costs one
 * round trip, which calls pay anyway.
 */
#include "rpc_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"

/* Writes the queue a (topic, server) pair routes to. */
static int target_queue(const char *topic, const char *server, char *buf,
			size_t len, struct rpc_error *e)
{
	int n;

	if (!topic || !*topic || (server && !*server))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "a topic (and a non-empty server) is required");
	n = server ? snprintf(buf, len, "%s.%s", topic, server)
		   : snprintf(buf, len, "%s", topic);
	if (n < 0 || (size_t)n >= len)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "topic or server name too long");
	return 0;
}

/* Fails with -EHOSTDOWN when nothing consumes queue. */
static int check_consumed(struct rpc_conn *c, const char *queue,
			  struct rpc_error *e)
{
	int n;

	n = rpc_conn_consumers(c, queue, e);
	if (n < 0)
		return n;
	if (n == 0)
		return rpc_error_set(e, -EHOSTDOWN, "ServiceUnavailable",
				     "no server consumes queue %s", queue);
	return 0;
}

/* A cast's body: a request with a fresh _unique_id and no reply queue. */
static int encode_cast(const char *method, json_t *args, struct strbuf *body,
		       struct rpc_error *e)
{
	struct rpc_envelope_request req = { 0 };
	char unique[UUID_HEX_LEN];

	uuid_generate_hex(unique);
	req.method = method;
	req.args = args;
	req.unique_id = unique;
	return rpc_envelope_encode_request(&req, body, e);
}

int rpc_cast(struct rpc_conn *conn, const char *topic, const char *server,
	     const char *method, json_t *args, struct rpc_error *e)
{
	struct strbuf body = STRBUF_INIT;
	char queue[RPC_NAME_MAX];
	int rc;

	rc = target_queue(topic, server, queue, sizeof(queue), e);
	if (rc < 0)
		return rc;
	rc = encode_cast(method, args, &body, e);
	if (rc < 0)
		goto out;
	rc = rpc_conn_ensure(conn, e);
	if (rc < 0)
		goto out;
	rc = check_consumed(conn, queue, e);
	if (rc < 0)
		goto out;
	rc = rpc_conn_publish(conn, conn->exchange, queue, &body, 0, e);
out:
	strbuf_release(&body);
	return rc;
}

int rpc_fanout_cast(struct rpc_conn *conn, const char *topic,
		    const char *method, json_t *args, struct rpc_error *e)
{
	struct strbuf body = STRBUF_INIT;
	char exchange[RPC_NAME_MAX];
	int rc;

	rc = target_queue(topic, NULL, exchange, sizeof(exchange) - 8, e);
	if (rc < 0)
		return rc;
	strcat(exchange, "_fanout");
	rc = encode_cast(method, args, &body, e);
	if (rc < 0)
		goto out;
	rc = rpc_conn_ensure(conn, e);
	if (rc < 0)
		goto out;
	/* Publishing to a missing exchange would close channel 1, so
	 * declare it first (as oslo.messaging does); with no server bound it
	 * routes nowhere, which is fine for a fanout. */
	rc = rpc_conn_declare_exchange(conn, exchange, "fanout", true, e);
	if (rc < 0)
		goto out;
	rc = rpc_conn_publish(conn, exchange, topic, &body, 0, e);
out:
	strbuf_release(&body);
	return rc;
}

/* Declares and consumes this connection's reply queue, once. */
static int ensure_reply_queue(struct rpc_conn *c, struct rpc_error *e)
{
	char hex[UUID_HEX_LEN];
	int rc;

	if (c->reply_q[0])
		return 0;
	uuid_generate_hex(hex);
	snprintf(c->reply_q, sizeof(c->reply_q), "reply_%s", hex);
	rc = rpc_conn_declare_queue(c, c->reply_q, true, e);
	if (rc == 0)
		rc = rpc_conn_consume(c, c->reply_q, RPC_REPLY_TAG, true, e);
	if (rc < 0)
		c->reply_q[0] = '\0'; /* declared again after reconnecting */
	return rc;
}

int rpc_call(struct rpc_conn *conn, const char *topic, const char *server,
	     const char *method, json_t *args, int timeout_ms,
	     json_t **result, struct rpc_error *e)
{
	struct rpc_envelope_request req = { 0 };
	struct strbuf body = STRBUF_INIT;
	char queue[RPC_NAME_MAX], unique[UUID_HEX_LEN], msg_id[UUID_HEX_LEN];
	int64_t deadline, left;
	int rc;

	if (result)
		*result = NULL;
	if (timeout_ms <= 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "rpc_call needs a positive timeout");
	rc = target_queue(topic, server, queue, sizeof(queue), e);
	if (rc < 0)
		return rc;
	rc = rpc_conn_ensure(conn, e);
	if (rc < 0)
		goto out;
	rc = ensure_reply_queue(conn, e);
	if (rc < 0)
		goto out;
	uuid_generate_hex(unique);
	uuid_generate_hex(msg_id);
	req.method = method;
	req.args = args;
	req.unique_id = unique;
	req.msg_id = msg_id;
	req.reply_q = conn->reply_q;
	rc = rpc_envelope_encode_request(&req, &body, e);
	if (rc < 0)
		goto out;
	rc = check_consumed(conn, queue, e);
	if (rc < 0)
		goto out;
	/* The expiration lets the broker drop a request nobody took in
	 * time: its caller has given up on it. */
	deadline = rpc_now_ms() + timeout_ms;
	rc = rpc_conn_publish(conn, conn->exchange, queue, &body, timeout_ms, e);
	if (rc < 0)
		goto out;

	conn->call_msg_id = msg_id;
	conn->call_done = false;
	conn->call_result = NULL;
	memset(&conn->call_err, 0, sizeof(conn->call_err));
	while (!conn->call_done) {
		left = deadline - rpc_now_ms();
		if (left <= 0)
			break;
		rc = rpc_conn_read(conn, (int)left, e);
		if (rc < 0)
			goto out;
	}
	if (!conn->call_done) {
		rc = rpc_error_set(e, -ETIMEDOUT, "MessagingTimeout",
				   "Timed out waiting for a reply to message ID %s"
				   " (%s on %s)", msg_id, method, queue);
		goto out;
	}
	if (conn->call_err.err) {
		rc = conn->call_err.err;
		if (e)
			*e = conn->call_err;
		goto out;
	}
	if (result) {
		*result = conn->call_result;
		conn->call_result = NULL;
	}
	rc = 0;
out:
	conn->call_msg_id = NULL;
	conn->call_done = false;
	json_decref(conn->call_result);
	conn->call_result = NULL;
	strbuf_release(&body);
	return rc;
}
