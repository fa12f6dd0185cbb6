/*
 * conn.c - the AMQP connection under rpc.h: connect, reconnect, the read
 * loop that routes every incoming message, and thin declare/publish
 * wrappers that turn librabbitmq's three error conventions (NULL plus
 * amqp_get_rpc_reply, negative status, amqp_rpc_reply_t) into -errno.
 *
 * librabbitmq services heartbeats only inside its own calls, so nothing
 * here ever blocks outside one: waits go through amqp_consume_message with
 * a timeout.  Reconnection is manual (librabbitmq has none): a failure
 * marks the connection broken, and the next rpc_conn_ensure() builds a new
 * one and re-declares everything the old one had.
 */
#include "rpc_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <amqp_tcp_socket.h>

#include "envelope.h"

int64_t rpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval ms_to_tv(int ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* Describes a failed librabbitmq reply into buf. */
static void reply_text(amqp_rpc_reply_t r, char *buf, size_t len)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(buf, len, "no error");
		break;
	case AMQP_RESPONSE_NONE:
		snprintf(buf, len, "no reply");
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(buf, len, "%s", amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;
			snprintf(buf, len, "broker closed the connection: %u %.*s",
				 m->reply_code, (int)m->reply_text.len,
				 (const char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;
			snprintf(buf, len, "broker closed the channel: %u %.*s",
				 m->reply_code, (int)m->reply_text.len,
				 (const char *)m->reply_text.bytes);
		} else {
			snprintf(buf, len, "unexpected method 0x%08x", r.reply.id);
		}
		break;
	}
}

/* The broker's reply code in a server exception, 0 otherwise. */
static int reply_code(amqp_rpc_reply_t r)
{
	if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION || !r.reply.decoded)
		return 0;
	if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
		return ((amqp_connection_close_t *)r.reply.decoded)->reply_code;
	if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
		return ((amqp_channel_close_t *)r.reply.decoded)->reply_code;
	return 0;
}

/* Drops the AMQP state without a close handshake: it is only called on a
 * connection that already failed, or after a close. */
static void conn_teardown(struct rpc_conn *c)
{
	struct rpc_server *s;

	if (c->amqp)
		amqp_destroy_connection(c->amqp);
	c->amqp = NULL;
	c->probe_open = false;
	/* Unacknowledged deliveries go back to their queues with the old
	 * channel; our copies of them are void. */
	for (s = c->servers; s; s = s->next)
		rpc_server_drop_pending(s);
}

int rpc_conn_fail(struct rpc_conn *c, const char *what, amqp_rpc_reply_t r,
		  struct rpc_error *e)
{
	char text[256];

	reply_text(r, text, sizeof(text));
	c->broken = true;
	return rpc_error_set(e, -ENOTCONN, "ConnectionError", "%s: %s: %s",
			     c->shown_url, what, text);
}

int rpc_conn_fail_status(struct rpc_conn *c, const char *what, int status,
			 struct rpc_error *e)
{
	amqp_rpc_reply_t r;

	memset(&r, 0, sizeof(r));
	r.reply_type = AMQP_RESPONSE_LIBRARY_EXCEPTION;
	r.library_error = status;
	return rpc_conn_fail(c, what, r, e);
}

/* The errno for a failed socket open: librabbitmq reports only "socket
 * error", but leaves connect(2)'s errno behind in the common cases. */
static int open_errno(int status, int saved_errno)
{
	switch (status) {
	case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED:
	case AMQP_STATUS_TIMEOUT:
		return EHOSTUNREACH;
	default:
		break;
	}
	switch (saved_errno) {
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ETIMEDOUT:
		return EHOSTUNREACH;
	default:
		return ECONNREFUSED;
	}
}

/*
 * Opens the socket, logs in and declares the exchange.  Returns 0, or
 * -errno with e naming the URL: -ECONNREFUSED / -EHOSTUNREACH for the
 * socket, -EACCES for a refused login or vhost, -EPROTO when the broker
 * refuses the exchange (declared elsewhere with other flags).
 */
static int conn_open(struct rpc_conn *c, struct rpc_error *e)
{
	struct timeval tv;
	amqp_socket_t *sock;
	amqp_rpc_reply_t r;
	char text[256];
	int status, saved, code, rc = 0;

	conn_teardown(c);
	c->broken = true;
	c->amqp = amqp_new_connection();
	if (!c->amqp)
		return rpc_error_set(e, -ENOMEM, "ConnectionError",
				     "cannot connect to %s: out of memory",
				     c->shown_url);
	sock = amqp_tcp_socket_new(c->amqp);
	if (!sock) {
		rc = rpc_error_set(e, -ENOMEM, "ConnectionError",
				   "cannot connect to %s: out of memory",
				   c->shown_url);
		goto out;
	}
	tv = ms_to_tv(RPC_CONNECT_TIMEOUT_MS);
	errno = 0;
	status = amqp_socket_open_noblock(sock, c->info.host, c->info.port, &tv);
	saved = errno;
	if (status != AMQP_STATUS_OK) {
		rc = -open_errno(status, saved);
		rpc_error_set(e, rc, "ConnectionError", "cannot connect to %s: %s",
			      c->shown_url, strerror(-rc));
		goto out;
	}
	amqp_set_handshake_timeout(c->amqp, &tv);
	r = amqp_login(c->amqp, c->info.vhost, 0, RPC_FRAME_MAX, RPC_HEARTBEAT_S,
		       AMQP_SASL_METHOD_PLAIN, c->info.user, c->info.password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		reply_text(r, text, sizeof(text));
		code = reply_code(r);
		/* RabbitMQ answers a bad password with 403 and an unknown or
		 * forbidden vhost with 530; an older broker just hangs up. */
		if (code == AMQP_ACCESS_REFUSED || code == AMQP_NOT_ALLOWED ||
		    (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		     r.library_error == AMQP_STATUS_CONNECTION_CLOSED))
			rc = -EACCES;
		else
			rc = -ECONNREFUSED;
		rpc_error_set(e, rc, "ConnectionError", "cannot log in to %s: %s",
			      c->shown_url, text);
		goto out;
	}
	tv = ms_to_tv(RPC_RPC_TIMEOUT_MS);
	amqp_set_rpc_timeout(c->amqp, &tv);
	amqp_channel_open(c->amqp, RPC_CH_MAIN);
	r = amqp_get_rpc_reply(c->amqp);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		reply_text(r, text, sizeof(text));
		rc = rpc_error_set(e, -EPROTO, "ConnectionError",
				   "cannot open a channel on %s: %s", c->shown_url, text);
		goto out;
	}
	c->broken = false;
	c->generation++;
	rc = rpc_conn_declare_exchange(c, c->exchange, "topic", false, e);
	if (rc < 0) {
		/* Keep the broker's reason, say where it came from. */
		rc = -EPROTO;
		if (e)
			e->err = rc;
		goto out;
	}
out:
	if (rc < 0) {
		conn_teardown(c);
		c->broken = true;
	}
	return rc;
}

/* Re-declares what the connection had before it broke.  Returns 0 or
 * -ENOTCONN. */
static int conn_redeclare(struct rpc_conn *c, struct rpc_error *e)
{
	struct rpc_server *s;
	int rc;

	if (c->reply_q[0]) {
		rc = rpc_conn_declare_queue(c, c->reply_q, true, e);
		if (rc < 0)
			return rc;
		rc = rpc_conn_consume(c, c->reply_q, RPC_REPLY_TAG, true, e);
		if (rc < 0)
			return rc;
	}
	for (s = c->servers; s; s = s->next) {
		rc = rpc_server_declare(s, e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int rpc_conn_reconnect(struct rpc_conn *c, struct rpc_error *e)
{
	int rc;

	rc = conn_open(c, e);
	if (rc == 0)
		rc = conn_redeclare(c, e);
	if (rc < 0) {
		conn_teardown(c);
		c->broken = true;
		/* Whatever the cause, to a caller the broker is unreachable. */
		rc = -ENOTCONN;
		if (e) {
			e->err = rc;
			snprintf(e->cls, sizeof(e->cls), "ConnectionError");
		}
	}
	return rc;
}

int rpc_conn_ensure(struct rpc_conn *c, struct rpc_error *e)
{
	int i, rc;

	if (!c->amqp || c->broken)
		return rpc_conn_reconnect(c, e);
	/* Bounded, so that a flood of deliveries cannot hold a caller. */
	for (i = 0; i < 256; i++) {
		rc = rpc_conn_read(c, 0, NULL);
		if (rc == 0)
			return 0;
		if (rc < 0)
			return rpc_conn_reconnect(c, e);
	}
	return 0;
}

/* A reply on our reply queue: completes the call in progress when it
 * carries its _msg_id; any other (a late reply to a call that timed out)
 * is dropped. */
static void conn_route_reply(struct rpc_conn *c, const amqp_envelope_t *env)
{
	struct rpc_envelope_reply rep;

	if (rpc_envelope_decode_reply(env->message.body.bytes,
				      env->message.body.len, &rep, NULL) < 0)
		return;
	if (c->call_msg_id && !c->call_done &&
	    strcmp(rep.msg_id, c->call_msg_id) == 0) {
		c->call_done = true;
		if (rep.failure_class) {
			rpc_error_set(&c->call_err,
				      -rpc_errno_from_class(rep.failure_class),
				      rep.failure_class, "%s", rep.failure_message);
		} else {
			c->call_result = rep.result ? json_incref(rep.result)
						    : json_null();
		}
	}
	rpc_envelope_reply_release(&rep);
}

/* A method frame that amqp_consume_message would not take.  Returns 0, or
 * -ENOTCONN when it ends the connection. */
static int conn_handle_frame(struct rpc_conn *c, struct rpc_error *e)
{
	amqp_channel_close_ok_t chok;
	amqp_connection_close_ok_t cok;
	amqp_rpc_reply_t r;
	amqp_message_t msg;
	amqp_frame_t frame;
	int status;

	status = amqp_simple_wait_frame(c->amqp, &frame);
	if (status != AMQP_STATUS_OK)
		return rpc_conn_fail_status(c, "read", status, e);
	if (frame.frame_type != AMQP_FRAME_METHOD)
		return 0;
	memset(&r, 0, sizeof(r));
	r.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
	r.reply = frame.payload.method;
	switch (frame.payload.method.id) {
	case AMQP_BASIC_ACK_METHOD:
		return 0;
	case AMQP_BASIC_RETURN_METHOD:
		/* We never publish mandatory; read the message to stay in
		 * step with the stream, and drop it. */
		r = amqp_read_message(c->amqp, frame.channel, &msg, 0);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			return rpc_conn_fail(c, "read returned message", r, e);
		amqp_destroy_message(&msg);
		return 0;
	case AMQP_CHANNEL_CLOSE_METHOD:
		memset(&chok, 0, sizeof(chok));
		amqp_send_method(c->amqp, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD,
				 &chok);
		if (frame.channel == RPC_CH_PROBE) {
			c->probe_open = false;
			return 0;
		}
		return rpc_conn_fail(c, "channel", r, e);
	case AMQP_CONNECTION_CLOSE_METHOD:
		memset(&cok, 0, sizeof(cok));
		amqp_send_method(c->amqp, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &cok);
		return rpc_conn_fail(c, "connection", r, e);
	case AMQP_BASIC_CANCEL_METHOD:
		/* The broker cancelled a consumer (its queue was deleted):
		 * reconnecting re-declares the queue and consumes again. */
		return rpc_conn_fail_status(c, "consumer cancelled by the broker",
					    AMQP_STATUS_UNEXPECTED_STATE, e);
	default:
		return 0;
	}
}

int rpc_conn_read(struct rpc_conn *c, int timeout_ms, struct rpc_error *e)
{
	struct rpc_server *srv;
	amqp_envelope_t env;
	amqp_rpc_reply_t r;
	struct timeval tv;
	const char *tag;
	size_t taglen;

	if (!c->amqp || c->broken)
		return rpc_error_set(e, -ENOTCONN, "ConnectionError",
				     "not connected to %s", c->shown_url);
	/* Frames queued by an RPC live in librabbitmq's pools: release only
	 * when none is waiting. */
	if (!amqp_frames_enqueued(c->amqp))
		amqp_maybe_release_buffers(c->amqp);
	tv = ms_to_tv(timeout_ms);
	r = amqp_consume_message(c->amqp, &env, &tv, 0);
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
		if (r.library_error == AMQP_STATUS_TIMEOUT)
			return 0;
		if (r.library_error == AMQP_STATUS_UNEXPECTED_STATE)
			return conn_handle_frame(c, e);
	}
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return rpc_conn_fail(c, "read", r, e);

	tag = env.consumer_tag.bytes;
	taglen = env.consumer_tag.len;
	if (taglen == strlen(RPC_REPLY_TAG) &&
	    memcmp(tag, RPC_REPLY_TAG, taglen) == 0) {
		conn_route_reply(c, &env);
	} else if ((srv = rpc_server_by_tag(c, tag, taglen))) {
		rpc_server_enqueue(srv, env.delivery_tag, env.message.body.bytes,
				   env.message.body.len);
	} else {
		/* A consumer we cancelled had this in flight: give it back. */
		amqp_basic_reject(c->amqp, env.channel, env.delivery_tag, 1);
	}
	amqp_destroy_envelope(&env);
	return 1;
}

int rpc_conn_publish(struct rpc_conn *c, const char *exchange,
		     const char *routing_key, const struct strbuf *body,
		     int expiration_ms, struct rpc_error *e)
{
	amqp_basic_properties_t p;
	amqp_bytes_t b;
	char exp[16];
	int status;

	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
		   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		   AMQP_BASIC_PRIORITY_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.content_encoding = amqp_cstring_bytes("utf-8");
	p.headers.num_entries = 0;
	p.headers.entries = NULL;
	p.delivery_mode = 2; /* persistent, as oslo.messaging sends */
	p.priority = 0;
	if (expiration_ms > 0) {
		snprintf(exp, sizeof(exp), "%d", expiration_ms);
		p._flags |= AMQP_BASIC_EXPIRATION_FLAG;
		p.expiration = amqp_cstring_bytes(exp);
	}
	b.bytes = body->buf;
	b.len = body->len;
	status = amqp_basic_publish(c->amqp, RPC_CH_MAIN, amqp_cstring_bytes(exchange),
				    amqp_cstring_bytes(routing_key), 0, 0, &p, b);
	if (status != AMQP_STATUS_OK)
		return rpc_conn_fail_status(c, "publish", status, e);
	return 0;
}

int rpc_conn_consumers(struct rpc_conn *c, const char *queue,
		       struct rpc_error *e)
{
	amqp_queue_declare_ok_t *ok;
	amqp_channel_close_ok_t chok;
	amqp_rpc_reply_t r;
	char text[256];
	int code, status;

	if (!c->probe_open) {
		amqp_channel_open(c->amqp, RPC_CH_PROBE);
		r = amqp_get_rpc_reply(c->amqp);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			return rpc_conn_fail(c, "channel.open", r, e);
		c->probe_open = true;
	}
	ok = amqp_queue_declare(c->amqp, RPC_CH_PROBE, amqp_cstring_bytes(queue),
				1, 0, 0, 0, amqp_empty_table);
	if (ok)
		return ok->consumer_count > INT32_MAX ? INT32_MAX
						      : (int)ok->consumer_count;
	r = amqp_get_rpc_reply(c->amqp);
	if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
	    r.reply.id != AMQP_CHANNEL_CLOSE_METHOD)
		return rpc_conn_fail(c, "queue.declare", r, e);
	/* The broker closed the probe channel: acknowledge, reopen later. */
	code = reply_code(r);
	reply_text(r, text, sizeof(text));
	c->probe_open = false;
	memset(&chok, 0, sizeof(chok));
	status = amqp_send_method(c->amqp, RPC_CH_PROBE,
				  AMQP_CHANNEL_CLOSE_OK_METHOD, &chok);
	if (status != AMQP_STATUS_OK)
		return rpc_conn_fail_status(c, "channel.close-ok", status, e);
	if (code == AMQP_NOT_FOUND)
		return 0;
	return rpc_error_set(e, code == AMQP_ACCESS_REFUSED ? -EACCES : -EPROTO,
			     "ConnectionError", "queue %s: %s", queue, text);
}

/* Checks a declare's reply; a refusal (406: declared elsewhere with other
 * flags) closed channel 1, so the connection counts as broken either
 * way. */
static int conn_check(struct rpc_conn *c, const void *ok, const char *what,
		      const char *name, struct rpc_error *e)
{
	char buf[RPC_NAME_MAX + 32];

	if (ok)
		return 0;
	snprintf(buf, sizeof(buf), "%s %s", what, name);
	return rpc_conn_fail(c, buf, amqp_get_rpc_reply(c->amqp), e);
}

int rpc_conn_declare_exchange(struct rpc_conn *c, const char *name,
			      const char *type, bool auto_delete,
			      struct rpc_error *e)
{
	amqp_exchange_declare_ok_t *ok;

	ok = amqp_exchange_declare(c->amqp, RPC_CH_MAIN, amqp_cstring_bytes(name),
				   amqp_cstring_bytes(type), 0, 0, auto_delete, 0,
				   amqp_empty_table);
	return conn_check(c, ok, "exchange.declare", name, e);
}

int rpc_conn_declare_queue(struct rpc_conn *c, const char *name, bool ttl,
			   struct rpc_error *e)
{
	amqp_queue_declare_ok_t *ok;
	amqp_table_entry_t expires;
	amqp_table_t args = amqp_empty_table;

	if (ttl) {
		expires.key = amqp_cstring_bytes("x-expires");
		expires.value.kind = AMQP_FIELD_KIND_I32;
		expires.value.value.i32 = RPC_QUEUE_TTL_MS;
		args.num_entries = 1;
		args.entries = &expires;
	}
	ok = amqp_queue_declare(c->amqp, RPC_CH_MAIN, amqp_cstring_bytes(name),
				0, 0, 0, 0, args);
	return conn_check(c, ok, "queue.declare", name, e);
}

int rpc_conn_bind(struct rpc_conn *c, const char *queue, const char *exchange,
		  const char *routing_key, struct rpc_error *e)
{
	amqp_queue_bind_ok_t *ok;

	ok = amqp_queue_bind(c->amqp, RPC_CH_MAIN, amqp_cstring_bytes(queue),
			     amqp_cstring_bytes(exchange),
			     amqp_cstring_bytes(routing_key), amqp_empty_table);
	return conn_check(c, ok, "queue.bind", queue, e);
}

int rpc_conn_consume(struct rpc_conn *c, const char *queue, const char *tag,
		     bool no_ack, struct rpc_error *e)
{
	amqp_basic_consume_ok_t *ok;

	ok = amqp_basic_consume(c->amqp, RPC_CH_MAIN, amqp_cstring_bytes(queue),
				amqp_cstring_bytes(tag), 0, no_ack, 0,
				amqp_empty_table);
	return conn_check(c, ok, "basic.consume", queue, e);
}

/* Builds "amqp://user@host:port/vhost" for messages: never the password. */
static char *shown_url(const struct amqp_connection_info *info)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "amqp://%s@%s:%d/", info->user, info->host, info->port);
	if (strcmp(info->vhost, "/") != 0)
		strbuf_addstr(&sb, info->vhost);
	return strbuf_detach(&sb, NULL);
}

/* The URL as given, with any password replaced by "***": for messages
 * about a URL amqp_parse_url refused. */
static char *masked_url(const char *url)
{
	struct strbuf sb = STRBUF_INIT;
	const char *auth = strstr(url, "://"), *at, *colon;

	auth = auth ? auth + 3 : url;
	at = strchr(auth, '@');
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		strbuf_add(&sb, url, (size_t)(colon - url) + 1);
		strbuf_addstr(&sb, "***");
		strbuf_addstr(&sb, at);
	} else {
		strbuf_addstr(&sb, url);
	}
	return strbuf_detach(&sb, NULL);
}

int rpc_connect(const char *url, const char *exchange, struct rpc_conn **out,
		struct rpc_error *e)
{
	struct rpc_conn *c = NULL;
	int rc;

	*out = NULL;
	if (!url)
		url = RPC_DEFAULT_URL;
	if (!exchange || !*exchange)
		exchange = RPC_DEFAULT_EXCHANGE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return rpc_error_set(e, -ENOMEM, "ConnectionError", "out of memory");
	c->broken = true;
	c->parse_buf = strdup(url);
	c->exchange = strdup(exchange);
	if (!c->parse_buf || !c->exchange) {
		rc = rpc_error_set(e, -ENOMEM, "ConnectionError", "out of memory");
		goto out;
	}
	/* amqp_parse_url cuts parse_buf up in place; info points into it. */
	amqp_default_connection_info(&c->info);
	if (amqp_parse_url(c->parse_buf, &c->info) != AMQP_STATUS_OK) {
		c->shown_url = masked_url(url);
		rc = rpc_error_set(e, -EINVAL, "InvalidInput",
				   "malformed AMQP URL %s (want amqp://user:pass@host:port/vhost)",
				   c->shown_url);
		goto out;
	}
	if (c->info.ssl) {
		rc = rpc_error_set(e, -EINVAL, "InvalidInput",
				   "amqps:// URLs are not supported");
		goto out;
	}
	/* "amqp://host/" names the empty vhost to librabbitmq, but means the
	 * default one to everybody else (kombu, hence oslo.messaging). */
	if (!c->info.vhost || !c->info.vhost[0])
		c->info.vhost = (char *)"/";
	c->shown_url = shown_url(&c->info);
	rc = conn_open(c, e);
out:
	if (rc < 0) {
		rpc_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void rpc_close(struct rpc_conn *c)
{
	struct rpc_server *s, *next;

	if (!c)
		return;
	/* Servers borrow the connection: detach them, so that a later
	 * rpc_server_free() is still safe. */
	for (s = c->servers; s; s = next) {
		next = s->next;
		rpc_server_drop_pending(s);
		s->conn = NULL;
		s->next = NULL;
	}
	c->servers = NULL;
	if (c->amqp && !c->broken) {
		amqp_channel_close(c->amqp, RPC_CH_MAIN, AMQP_REPLY_SUCCESS);
		amqp_connection_close(c->amqp, AMQP_REPLY_SUCCESS);
	}
	conn_teardown(c);
	json_decref(c->call_result);
	free(c->shown_url);
	free(c->exchange);
	free(c->parse_buf);
	free(c);
}
