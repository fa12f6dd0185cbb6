/*
 * conn.c - the AMQP connection under the bus; see conn.h.
 *
 * librabbitmq reads frames into its own pools and hands out pointers into
 * them; what an event exposes (the body) stays valid until the event is
 * released, and the pools are recycled only when no frame is waiting
 * (amqp_maybe_release_buffers), as its examples do.
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <amqp_tcp_socket.h>

struct rpc_conn {
	amqp_connection_state_t amqp;
	char *shown_url;
	bool failed;
};

static struct timeval ms_to_tv(int ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* Describes a librabbitmq reply into buf. */
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

/* Marks c failed and describes what failed.  Returns -EACCES when the
 * broker refused it (403: a permission), -ENOENT (404: no such queue or
 * exchange), -EPROTO (406: a declaration with other flags), otherwise
 * -ENETDOWN. */
static int conn_fail(struct rpc_conn *c, const char *what, amqp_rpc_reply_t r,
		     struct rpc_error *e)
{
	char text[256];
	int code = reply_code(r);

	reply_text(r, text, sizeof(text));
	c->failed = true;
	if (code == AMQP_ACCESS_REFUSED)
		return rpc_error_set(e, -EACCES, "NotAuthorized", "%s: %s: %s",
				     c->shown_url, what, text);
	if (code == AMQP_NOT_FOUND)
		return rpc_error_set(e, -ENOENT, "NotFound", "%s: %s: %s",
				     c->shown_url, what, text);
	if (code == AMQP_PRECONDITION_FAILED)
		return rpc_error_set(e, -EPROTO, "MessageDeliveryFailure",
				     "%s: %s: %s", c->shown_url, what, text);
	return rpc_error_set(e, -ENETDOWN, "ConnectionError", "%s: %s: %s",
			     c->shown_url, what, text);
}

static int conn_fail_status(struct rpc_conn *c, const char *what, int status,
			    struct rpc_error *e)
{
	amqp_rpc_reply_t r;

	memset(&r, 0, sizeof(r));
	r.reply_type = AMQP_RESPONSE_LIBRARY_EXCEPTION;
	r.library_error = status;
	return conn_fail(c, what, r, e);
}

/* The errno for a failed socket open: librabbitmq reports only "socket
 * error", so keep the errno it left behind. */
static int open_errno(int status, int saved)
{
	if (status == AMQP_STATUS_TIMEOUT)
		return ETIMEDOUT;
	if (status == AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED)
		return EHOSTUNREACH;
	if (saved == ECONNREFUSED || saved == EHOSTUNREACH ||
	    saved == ENETUNREACH || saved == ETIMEDOUT)
		return saved;
	return ECONNREFUSED;
}

int rpc_conn_open(const struct rpc_conn_params *p, struct rpc_conn **out,
		  struct rpc_error *e)
{
	struct rpc_conn *c = NULL;
	amqp_socket_t *sock;
	amqp_rpc_reply_t r;
	struct timeval tv;
	char text[256];
	int status, saved, code, rc = 0;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->shown_url = strdup(p->shown_url)) ||
	    !(c->amqp = amqp_new_connection()) ||
	    !(sock = amqp_tcp_socket_new(c->amqp))) {
		rc = rpc_error_set(e, -ENOMEM, "ConnectionError",
				   "cannot connect to %s: out of memory",
				   p->shown_url);
		goto out;
	}
	tv = ms_to_tv(p->timeout_ms);
	errno = 0;
	status = amqp_socket_open_noblock(sock, p->host, p->port, &tv);
	saved = errno;
	if (status != AMQP_STATUS_OK) {
		rc = -open_errno(status, saved);
		rpc_error_set(e, rc, "ConnectionError", "cannot connect to %s: %s",
			      p->shown_url, strerror(-rc));
		goto out;
	}
	amqp_set_handshake_timeout(c->amqp, &tv);
	r = amqp_login(c->amqp, p->vhost, 0, RPC_FRAME_MAX, p->heartbeat_s,
		       AMQP_SASL_METHOD_PLAIN, p->user, p->password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		reply_text(r, text, sizeof(text));
		code = reply_code(r);
		/* RabbitMQ answers a bad password with 403 and an unknown or
		 * forbidden vhost with 530, or just hangs up. */
		if (code == AMQP_ACCESS_REFUSED || code == AMQP_NOT_ALLOWED ||
		    (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		     r.library_error == AMQP_STATUS_CONNECTION_CLOSED))
			rc = -EACCES;
		else
			rc = -ECONNREFUSED;
		rpc_error_set(e, rc, "ConnectionError",
			      "cannot log in to %s as %s: %s", p->shown_url,
			      p->user, text);
		goto out;
	}
	tv = ms_to_tv(p->timeout_ms);
	amqp_set_rpc_timeout(c->amqp, &tv);
	amqp_channel_open(c->amqp, RPC_CHANNEL);
	r = amqp_get_rpc_reply(c->amqp);
	if (r.reply_type == AMQP_RESPONSE_NORMAL && p->prefetch) {
		amqp_basic_qos(c->amqp, RPC_CHANNEL, 0, p->prefetch, 0);
		r = amqp_get_rpc_reply(c->amqp);
	}
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		amqp_confirm_select(c->amqp, RPC_CHANNEL);
		r = amqp_get_rpc_reply(c->amqp);
	}
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		reply_text(r, text, sizeof(text));
		rc = rpc_error_set(e, -EPROTO, "ConnectionError",
				   "cannot open a channel on %s: %s",
				   p->shown_url, text);
		goto out;
	}
out:
	if (rc < 0) {
		rpc_conn_close(c, false);
		return rc;
	}
	*out = c;
	return 0;
}

void rpc_conn_close(struct rpc_conn *c, bool graceful)
{
	if (!c)
		return;
	if (c->amqp) {
		if (graceful && !c->failed) {
			amqp_channel_close(c->amqp, RPC_CHANNEL, AMQP_REPLY_SUCCESS);
			amqp_connection_close(c->amqp, AMQP_REPLY_SUCCESS);
		}
		amqp_destroy_connection(c->amqp);
	}
	free(c->shown_url);
	free(c);
}

int rpc_conn_fd(const struct rpc_conn *c)
{
	return amqp_get_sockfd(c->amqp);
}

/* Checks a synchronous method's reply. */
static int conn_check(struct rpc_conn *c, const void *ok, const char *what,
		      const char *name, struct rpc_error *e)
{
	char buf[RPC_NAME_MAX + 32];

	if (ok)
		return 0;
	snprintf(buf, sizeof(buf), "%s %s", what, name);
	return conn_fail(c, buf, amqp_get_rpc_reply(c->amqp), e);
}

int rpc_conn_declare_exchange(struct rpc_conn *c, const char *name,
			      const char *type, bool durable, bool auto_delete,
			      struct rpc_error *e)
{
	amqp_exchange_declare_ok_t *ok;

	ok = amqp_exchange_declare(c->amqp, RPC_CHANNEL, amqp_cstring_bytes(name),
				   amqp_cstring_bytes(type), 0, durable,
				   auto_delete, 0, amqp_empty_table);
	return conn_check(c, ok, "exchange.declare", name, e);
}

int rpc_conn_declare_exchange_nowait(struct rpc_conn *c, const char *name,
				     const char *type, bool durable,
				     bool auto_delete, struct rpc_error *e)
{
	amqp_exchange_declare_t m;
	int status;

	memset(&m, 0, sizeof(m));
	m.exchange = amqp_cstring_bytes(name);
	m.type = amqp_cstring_bytes(type);
	m.durable = durable;
	m.auto_delete = auto_delete;
	m.nowait = 1;
	m.arguments = amqp_empty_table;
	status = amqp_send_method(c->amqp, RPC_CHANNEL,
				  AMQP_EXCHANGE_DECLARE_METHOD, &m);
	if (status != AMQP_STATUS_OK)
		return conn_fail_status(c, "exchange.declare", status, e);
	return 0;
}

int rpc_conn_declare_queue(struct rpc_conn *c, const char *name, bool durable,
			   int expires_ms, struct rpc_error *e)
{
	amqp_queue_declare_ok_t *ok;
	amqp_table_entry_t expires;
	amqp_table_t args = amqp_empty_table;

	if (expires_ms > 0) {
		expires.key = amqp_cstring_bytes("x-expires");
		expires.value.kind = AMQP_FIELD_KIND_I32;
		expires.value.value.i32 = expires_ms;
		args.num_entries = 1;
		args.entries = &expires;
	}
	ok = amqp_queue_declare(c->amqp, RPC_CHANNEL, amqp_cstring_bytes(name),
				0, durable, 0, 0, args);
	return conn_check(c, ok, "queue.declare", name, e);
}

int rpc_conn_bind(struct rpc_conn *c, const char *queue, const char *exchange,
		  const char *key, struct rpc_error *e)
{
	amqp_queue_bind_ok_t *ok;

	ok = amqp_queue_bind(c->amqp, RPC_CHANNEL, amqp_cstring_bytes(queue),
			     amqp_cstring_bytes(exchange),
			     amqp_cstring_bytes(key), amqp_empty_table);
	return conn_check(c, ok, "queue.bind", queue, e);
}

int rpc_conn_consume(struct rpc_conn *c, const char *queue, const char *tag,
		     bool no_ack, struct rpc_error *e)
{
	amqp_basic_consume_ok_t *ok;

	ok = amqp_basic_consume(c->amqp, RPC_CHANNEL, amqp_cstring_bytes(queue),
				amqp_cstring_bytes(tag), 0, no_ack, 0,
				amqp_empty_table);
	return conn_check(c, ok, "basic.consume", queue, e);
}

int rpc_conn_publish(struct rpc_conn *c, const char *exchange,
		     const char *key, const void *body, size_t len,
		     const struct rpc_props *props, bool mandatory,
		     struct rpc_error *e)
{
	amqp_basic_properties_t p;
	amqp_bytes_t b;
	char exp[24];
	int status;

	if (c->failed)
		return rpc_error_set(e, -ENETDOWN, "ConnectionError",
				     "%s: connection lost", c->shown_url);
	/* The properties oslo.messaging sends (see tests/unit/test_envelope.c
	 * against the captures), plus user_id, which RabbitMQ validates. */
	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
		   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		   AMQP_BASIC_PRIORITY_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.content_encoding = amqp_cstring_bytes("utf-8");
	p.headers = amqp_empty_table;
	p.delivery_mode = props->persistent ? 2 : 1;
	p.priority = 0;
	if (props->expiration_ms > 0) {
		snprintf(exp, sizeof(exp), "%lld", props->expiration_ms);
		p._flags |= AMQP_BASIC_EXPIRATION_FLAG;
		p.expiration = amqp_cstring_bytes(exp);
	}
	if (props->user_id) {
		p._flags |= AMQP_BASIC_USER_ID_FLAG;
		p.user_id = amqp_cstring_bytes(props->user_id);
	}
	b.bytes = (void *)body;
	b.len = len;
	status = amqp_basic_publish(c->amqp, RPC_CHANNEL,
				    amqp_cstring_bytes(exchange),
				    amqp_cstring_bytes(key), mandatory, 0, &p, b);
	if (status != AMQP_STATUS_OK)
		return conn_fail_status(c, "publish", status, e);
	return 0;
}

int rpc_conn_ack(struct rpc_conn *c, uint64_t tag, struct rpc_error *e)
{
	int status = amqp_basic_ack(c->amqp, RPC_CHANNEL, tag, 0);

	if (status != AMQP_STATUS_OK)
		return conn_fail_status(c, "basic.ack", status, e);
	return 0;
}

int rpc_conn_heartbeat(struct rpc_conn *c, struct rpc_error *e)
{
	amqp_frame_t f;
	int status;

	memset(&f, 0, sizeof(f));
	f.frame_type = AMQP_FRAME_HEARTBEAT;
	f.channel = 0;
	status = amqp_send_frame(c->amqp, &f);
	if (status != AMQP_STATUS_OK)
		return conn_fail_status(c, "heartbeat", status, e);
	return 0;
}

static void copy_bytes(char *dst, size_t size, amqp_bytes_t b)
{
	size_t n = b.len < size - 1 ? b.len : size - 1;

	memcpy(dst, b.bytes, n);
	dst[n] = '\0';
}

/* Reads the header and body that follow a deliver or return method. */
static int read_content(struct rpc_conn *c, amqp_channel_t channel,
			struct rpc_event *ev, struct rpc_error *e)
{
	amqp_rpc_reply_t r;

	r = amqp_read_message(c->amqp, channel, &ev->msg_, 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return conn_fail(c, "read message", r, e);
	ev->has_msg_ = true;
	ev->body = ev->msg_.body.bytes;
	ev->len = ev->msg_.body.len;
	if (ev->msg_.properties._flags & AMQP_BASIC_USER_ID_FLAG)
		copy_bytes(ev->user_id, sizeof(ev->user_id),
			   ev->msg_.properties.user_id);
	return 0;
}

/* A delivery, or a mandatory message the broker returned: the method's
 * fields, then the message that follows it. */
static int message_event(struct rpc_conn *c, const amqp_frame_t *frame,
			 struct rpc_event *ev, struct rpc_error *e)
{
	amqp_basic_deliver_t *d = frame->payload.method.decoded;
	amqp_basic_return_t *r = frame->payload.method.decoded;

	if (frame->payload.method.id == AMQP_BASIC_DELIVER_METHOD) {
		ev->kind = RPC_EV_DELIVERY;
		ev->tag = d->delivery_tag;
		copy_bytes(ev->consumer_tag, sizeof(ev->consumer_tag),
			   d->consumer_tag);
		copy_bytes(ev->routing_key, sizeof(ev->routing_key),
			   d->routing_key);
	} else {
		ev->kind = RPC_EV_RETURN;
		ev->code = r->reply_code;
		copy_bytes(ev->routing_key, sizeof(ev->routing_key),
			   r->routing_key);
	}
	return read_content(c, frame->channel, ev, e) < 0 ? -ENETDOWN : 1;
}

/* A publisher confirm (ACK) or refusal (NACK) of tag, or of every tag up
 * to it. */
static int confirmed(struct rpc_event *ev, enum rpc_event_kind kind,
		     uint64_t tag, bool multiple)
{
	ev->kind = kind;
	ev->tag = tag;
	ev->multiple = multiple;
	return 1;
}

/* The broker closed the channel or the connection: says close-ok (ok_id),
 * as the protocol wants, and makes a final CLOSED event with the reply
 * code and reason.  close-ok methods have no fields. */
static int closed(struct rpc_conn *c, const amqp_frame_t *frame,
		  amqp_method_number_t ok_id, struct rpc_event *ev,
		  struct rpc_error *e)
{
	amqp_channel_close_ok_t ok;
	amqp_rpc_reply_t r;

	memset(&ok, 0, sizeof(ok));
	amqp_send_method(c->amqp, frame->channel, ok_id, &ok);
	memset(&r, 0, sizeof(r));
	r.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
	r.reply = frame->payload.method;
	ev->kind = RPC_EV_CLOSED;
	ev->code = reply_code(r);
	conn_fail(c, "closed", r, e);
	return 1;
}

int rpc_conn_next(struct rpc_conn *c, struct rpc_event *ev,
		  struct rpc_error *e)
{
	struct timeval zero = { 0, 0 };
	amqp_frame_t frame;
	int status;

	memset(ev, 0, sizeof(*ev));
	if (c->failed)
		return rpc_error_set(e, -ENETDOWN, "ConnectionError",
				     "%s: connection lost", c->shown_url);
	if (!amqp_frames_enqueued(c->amqp) && !amqp_data_in_buffer(c->amqp))
		amqp_maybe_release_buffers(c->amqp);
	/* Heartbeats (librabbitmq accounts for them), stray content frames
	 * and the answers to nowait declarations are skipped. */
	for (;;) {
		status = amqp_simple_wait_frame_noblock(c->amqp, &frame, &zero);
		if (status == AMQP_STATUS_TIMEOUT)
			return 0;
		if (status != AMQP_STATUS_OK)
			return conn_fail_status(c, "read", status, e);
		if (frame.frame_type != AMQP_FRAME_METHOD)
			continue;
		switch (frame.payload.method.id) {
		case AMQP_BASIC_DELIVER_METHOD:
		case AMQP_BASIC_RETURN_METHOD:
			return message_event(c, &frame, ev, e);
		case AMQP_BASIC_ACK_METHOD: {
			amqp_basic_ack_t *m = frame.payload.method.decoded;

			return confirmed(ev, RPC_EV_ACK, m->delivery_tag, m->multiple);
		}
		case AMQP_BASIC_NACK_METHOD: {
			amqp_basic_nack_t *m = frame.payload.method.decoded;

			return confirmed(ev, RPC_EV_NACK, m->delivery_tag, m->multiple);
		}
		case AMQP_CHANNEL_CLOSE_METHOD:
			return closed(c, &frame, AMQP_CHANNEL_CLOSE_OK_METHOD, ev, e);
		case AMQP_CONNECTION_CLOSE_METHOD:
			return closed(c, &frame, AMQP_CONNECTION_CLOSE_OK_METHOD, ev, e);
		case AMQP_BASIC_CANCEL_METHOD:
			/* The broker cancelled a consumer (its queue was
			 * deleted): only a reconnect, which declares it again,
			 * repairs that. */
			ev->kind = RPC_EV_CLOSED;
			c->failed = true;
			rpc_error_set(e, -ENETDOWN, "ConnectionError",
				      "%s: the broker cancelled a consumer",
				      c->shown_url);
			return 1;
		default:
			break;
		}
	}
}

void rpc_event_release(struct rpc_event *ev)
{
	if (ev->has_msg_)
		amqp_destroy_message(&ev->msg_);
	ev->has_msg_ = false;
	ev->body = NULL;
}
