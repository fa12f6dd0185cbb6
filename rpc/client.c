/*
 * client.c - the caller's side of the bus: casts, calls, fanouts and
 * notifications, and the replies that complete calls (see bus.h).
 *
 * Every request is checked against its declaration before it is encoded:
 * a request that breaks its own contract is a bug in the caller and never
 * leaves the process.  A call's reply is checked too: its result against
 * the declaration, and its sender against the service that was called.
 */
#include "bus_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/loop.h"

int rpc_call_cmp(const struct hash_entry *entry, const void *msg_id)
{
	const struct rpc_call *c = container_of(entry, struct rpc_call, by_id);

	return strcmp(c->msg_id, msg_id);
}

/* The reply queue: a name of its own, kept across reconnects (the queue
 * outlives a lost connection by RPC_QUEUE_TTL_MS, so replies sent while we
 * were away still arrive).  The user in its name lets the broker keep
 * other users from consuming it (tests/lib/broker.sh). */
int rpc_client_declare(struct rpc_bus *bus, struct rpc_error *e)
{
	char hex[UUID_HEX_LEN];
	int rc;

	if (!bus->reply_q[0]) {
		uuid_generate_hex(hex);
		snprintf(bus->reply_q, sizeof(bus->reply_q), "reply_%s_%s",
			 bus->user, hex);
	}
	rc = rpc_conn_declare_queue(bus->conn, bus->reply_q, false,
				    RPC_QUEUE_TTL_MS, e);
	if (rc == 0)
		rc = rpc_conn_consume(bus->conn, bus->reply_q, RPC_REPLY_TAG,
				      true, e);
	return rc;
}

/* The queue (topic, or topic.server) a request for m goes to. */
static int target_key(const struct rpc_method_decl *m, const char *server,
		      char *buf, size_t len, struct rpc_error *e)
{
	int n;

	if (server && !*server)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s: an empty server name", m->name);
	n = server ? snprintf(buf, len, "%s.%s", m->service->topic, server)
		   : snprintf(buf, len, "%s", m->service->topic);
	if (n < 0 || (size_t)n >= len)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s: topic or server name too long", m->name);
	return 0;
}

/* Encodes a request for m into pub's body.  msg_id/reply_q for calls. */
static int encode(struct rpc_bus *bus, const struct rpc_method_decl *m,
		  const struct rpc_send *s, json_t *args, const char *msg_id,
		  struct rpc_publish *pub, struct rpc_error *e)
{
	struct rpc_envelope_request req = { 0 };

	uuid_generate_hex(pub->unique_id);
	req.method = m->name;
	req.args = args;
	/* oslo's clients send the version a method needs; a target without
	 * a version sends none. */
	req.version = m->service->version ? m->version : NULL;
	req.namespace = m->service->namespace;
	req.msg_id = msg_id;
	req.reply_q = msg_id ? bus->reply_q : NULL;
	req.timeout_s = msg_id && s && s->monitor_ms > 0 ?
			(s->monitor_ms + 999) / 1000 : 0;
	req.unique_id = pub->unique_id;
	req.context = s ? s->context : NULL;
	return rpc_envelope_encode_request(&req, &pub->body, e);
}

static long long timeout_of(const struct rpc_bus *bus, const struct rpc_send *s)
{
	return s && s->timeout_ms > 0 ? s->timeout_ms : bus->timeout_ms;
}

/*
 * What every request does before it is queued: checks the kind, the
 * arguments and the connection, and makes the publish, encoded (with
 * msg_id and the reply queue for a call).  Casts and calls are mandatory,
 * so that the broker returns what no queue takes; a fanout is not (nobody
 * listening is fine) and declares its exchange first, as oslo does before
 * each fanout send: the exchange goes with its last queue.
 */
static int prepare(struct rpc_bus *bus, const struct rpc_method_decl *m,
		   enum rpc_kind kind, const struct rpc_send *s, json_t *args,
		   const char *msg_id, rpc_done_fn done, void *ctx,
		   struct rpc_publish **out, struct rpc_error *e)
{
	char key[RPC_NAME_MAX];
	struct rpc_publish *pub;
	int rc;

	*out = NULL;
	if (m->kind != kind)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s is not declared as a %s", m->name,
				     kind == RPC_CALL ? "call" :
				     kind == RPC_CAST ? "cast" : "fanout");
	rc = rpc_args_check(m, args, e);
	if (rc < 0)
		return rc;
	if (!bus->conn && !(kind == RPC_CAST && s && s->wait_for_bus))
		return rpc_bus_down(bus, e);
	if (kind == RPC_FANOUT)
		snprintf(key, sizeof(key), "%s_fanout", m->service->topic);
	else if ((rc = target_key(m, s ? s->server : NULL, key, sizeof(key), e)) < 0)
		return rc;
	pub = rpc_publish_new(bus, kind == RPC_FANOUT ? key : bus->exchange,
			      kind == RPC_FANOUT ? m->service->topic : key);
	if (!pub)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	rc = encode(bus, m, s, args, msg_id, pub, e);
	if (rc < 0) {
		rpc_bus_drop_publish(bus, pub);
		return rc;
	}
	pub->mandatory = kind != RPC_FANOUT;
	pub->declare_fanout = kind == RPC_FANOUT;
	pub->done = done;
	pub->ctx = ctx;
	*out = pub;
	return 0;
}

int rpc_cast(struct rpc_bus *bus, const struct rpc_method_decl *m,
	     const struct rpc_send *s, json_t *args, rpc_done_fn done,
	     void *ctx, struct rpc_error *e)
{
	struct rpc_publish *pub;
	int rc;

	rc = prepare(bus, m, RPC_CAST, s, args, NULL, done, ctx, &pub, e);
	if (rc == 0)
		rpc_bus_enqueue(bus, pub, timeout_of(bus, s));
	return rc;
}

int rpc_fanout(struct rpc_bus *bus, const struct rpc_method_decl *m,
	       json_t *args, rpc_done_fn done, void *ctx,
	       struct rpc_error *e)
{
	struct rpc_publish *pub;
	int rc;

	rc = prepare(bus, m, RPC_FANOUT, NULL, args, NULL, done, ctx, &pub, e);
	if (rc == 0)
		rpc_bus_enqueue(bus, pub, bus->timeout_ms);
	return rc;
}

static void call_free(struct rpc_bus *bus, struct rpc_call *call)
{
	hash_remove(&bus->calls, &call->by_id);
	loop_timer_cancel(bus->loop, call->timer);
	loop_timer_cancel(bus->loop, call->monitor_timer);
	if (call->pub)
		rpc_bus_drop_publish(bus, call->pub);
	free(call);
}

/* Completes call with err/result and forgets it. */
static void call_complete(struct rpc_bus *bus, struct rpc_call *call, int err,
			  json_t *result, const struct rpc_error *e)
{
	rpc_done_fn done = call->done;
	void *ctx = call->ctx;

	call_free(bus, call);
	if (done)
		done(ctx, err, result, e);
}

static long long call_deadline(struct loop *l, void *ctx)
{
	struct rpc_call *call = ctx;
	struct rpc_error e = { 0 };

	/* call_complete cancels both timers, this one included, which the
	 * loop allows from inside the callback. */
	rpc_error_set(&e, -ETIMEDOUT, "MessagingTimeout",
		      "Timed out waiting for a reply to message ID %s (%s on %s%s%s)",
		      call->msg_id, call->m->name, call->m->service->topic,
		      call->server[0] ? "." : "", call->server);
	call_complete(call->bus, call, e.err, NULL, &e);
	return LOOP_TIMER_DONE;
}

int rpc_call(struct rpc_bus *bus, const struct rpc_method_decl *m,
	     const struct rpc_send *s, json_t *args, rpc_done_fn done,
	     void *ctx, struct rpc_error *e)
{
	struct rpc_publish *pub;
	struct rpc_call *call;
	long long timeout = timeout_of(bus, s);
	int rc;

	call = calloc(1, sizeof(*call));
	if (!call)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	uuid_generate_hex(call->msg_id);
	rc = prepare(bus, m, RPC_CALL, s, args, call->msg_id, NULL, NULL, &pub, e);
	if (rc < 0) {
		free(call);
		return rc;
	}
	call->bus = bus;
	call->m = m;
	snprintf(call->server, sizeof(call->server), "%s",
		 s && s->server ? s->server : "");
	call->done = done;
	call->ctx = ctx;
	call->monitor_ms = s ? s->monitor_ms : 0;
	call->pub = pub;
	/* As oslo: the call fails when timeout passes, or, with a call
	 * monitor, when the server shows no life (a heartbeat) for
	 * monitor_ms. */
	call->timer = loop_timer(bus->loop, timeout, call_deadline, call);
	if (call->monitor_ms > 0)
		call->monitor_timer = loop_timer(bus->loop, call->monitor_ms,
						 call_deadline, call);
	hash_add(&bus->calls, &call->by_id, hash_str(call->msg_id));
	/* The broker may drop a request nobody took in time: its caller has
	 * given up on it (oslo sends the same expiration).  For the same
	 * reason it need not survive a broker restart (bus.h, "Delivery"). */
	pub->expiration_ms = timeout;
	pub->transient = true;
	pub->call = call;
	rpc_bus_enqueue(bus, pub, 0);
	return 0;
}

void rpc_client_undelivered(struct rpc_bus *bus, struct rpc_publish *pub,
			    int err, const struct rpc_error *e)
{
	struct rpc_call *call = pub->call;
	struct rpc_error bounced = { 0 };

	pub->call = NULL;
	call->pub = NULL;
	if (err == 0) {
		err = rpc_error_set(&bounced, -EHOSTDOWN, "ServiceUnavailable",
				    "no service consumes %s", pub->key);
		e = &bounced;
	}
	call_complete(bus, call, err, NULL, e);
}

/* The sender a reply to call must come from: the service called. */
static bool reply_sender_ok(const struct rpc_bus *bus,
			    const struct rpc_call *call, const char *user)
{
	char host[RPC_HOST_MAX];
	unsigned role;

	if (!user[0])
		return bus->allow_anonymous;
	role = rpc_role_of(user, host);
	if (!(role & call->m->service->role))
		return false;
	return role != RPC_ROLE_COMPUTE || !call->server[0] ||
	       strcmp(host, call->server) == 0;
}

void rpc_client_reply(struct rpc_bus *bus, const struct rpc_event *ev)
{
	struct rpc_envelope_reply rep;
	struct hash_entry *he;
	struct rpc_call *call;
	struct rpc_error e = { 0 };
	json_t *result = NULL;
	int err = 0;

	if (rpc_envelope_decode_reply(ev->body, ev->len, &rep, &e) < 0) {
		log_warn("dropped a malformed reply: %s", e.message);
		return;
	}
	he = hash_get(&bus->calls, hash_str(rep.msg_id), rep.msg_id);
	if (!he) {
		log_debug("dropped a late reply to %s", rep.msg_id);
		goto out;
	}
	call = container_of(he, struct rpc_call, by_id);
	if (!reply_sender_ok(bus, call, ev->user_id)) {
		log_warn("dropped a reply to %s (%s) from user \"%s\": not the service called",
			 rep.msg_id, call->m->name, ev->user_id);
		goto out;
	}
	if (!rep.ending && !rep.failure_class && !rep.result) {
		/* oslo's call-monitor heartbeat: the server is alive and
		 * still working on it. */
		if (call->monitor_ms > 0)
			loop_timer_reset(bus->loop, call->monitor_timer,
					 call->monitor_ms);
		goto out;
	}
	if (rep.failure_class) {
		err = rpc_error_set(&e, -rpc_errno_from_class(rep.failure_class),
				    rep.failure_class, "%s", rep.failure_message);
	} else if (call->m->result &&
		   rpc_field_check(call->m->result,
				   rep.result ? rep.result : json_null(), &e) < 0) {
		err = rpc_error_set(&e, -EPROTO, "InvalidReply",
				    "%s answered outside its contract: %s",
				    call->m->name, e.message);
	} else {
		result = rep.result ? json_incref(rep.result) : NULL;
	}
	call_complete(bus, call, err, result, err ? &e : NULL);
	json_decref(result);
out:
	rpc_envelope_reply_release(&rep);
}

void rpc_client_free_all(struct rpc_bus *bus)
{
	struct hash_iter it;
	struct hash_entry *he;

	hash_iter_init(&it, &bus->calls);
	while ((he = hash_iter_next(&it)))
		call_free(bus, container_of(he, struct rpc_call, by_id));
}

void rpc_client_fail_all(struct rpc_bus *bus, const struct rpc_error *e)
{
	struct hash_iter it;
	struct hash_entry *he;

	hash_iter_init(&it, &bus->calls);
	while ((he = hash_iter_next(&it)))
		call_complete(bus, container_of(he, struct rpc_call, by_id),
			      e->err, NULL, e);
}

/* oslo's notification timestamp: "2026-11-25 18:39:03.123456", UTC. */
static void oslo_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%.19s.%06ld", sec, ts.tv_nsec / 1000 % 1000000);
}

int rpc_notify(struct rpc_bus *bus, const char *publisher_id,
	       const char *event_type, const char *priority, json_t *payload,
	       rpc_done_fn done, void *ctx, struct rpc_error *e)
{
	struct rpc_publish *pub;
	char key[RPC_NAME_MAX], stamp[48], id[UUID_STR_LEN], upper[16];
	size_t i;
	int rc;

	if (!bus->conn)
		return rpc_bus_down(bus, e);
	snprintf(key, sizeof(key), "notifications.%s", priority);
	pub = rpc_publish_new(bus, bus->exchange, key);
	if (!pub)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	/* As oslo's messagingv2 driver: the priority is lower case in the
	 * routing key and upper case in the message. */
	for (i = 0; priority[i] && i < sizeof(upper) - 1; i++)
		upper[i] = (char)(priority[i] >= 'a' && priority[i] <= 'z' ?
				  priority[i] - 'a' + 'A' : priority[i]);
	upper[i] = '\0';
	uuid_generate_str(id);
	uuid_generate_hex(pub->unique_id);
	oslo_timestamp(stamp, sizeof(stamp));
	rc = rpc_envelope_encode_notification(id, publisher_id, event_type,
					      upper, payload, stamp,
					      pub->unique_id, &pub->body, e);
	if (rc < 0) {
		rpc_bus_drop_publish(bus, pub);
		return rc;
	}
	pub->done = done;
	pub->ctx = ctx;
	rpc_bus_enqueue(bus, pub, bus->timeout_ms);
	return 0;
}

/* The synchronous wrappers: a completion flag the loop is driven on. */
struct waiter {
	bool done;
	int err;
	json_t *result;
	struct rpc_error e;
};

static void wake(void *ctx, int err, json_t *result, const struct rpc_error *e)
{
	struct waiter *w = ctx;

	w->done = true;
	w->err = err;
	w->result = result ? json_incref(result) : NULL;
	if (e)
		w->e = *e;
}

static int wait_for(struct rpc_bus *bus, struct waiter *w, json_t **result,
		    struct rpc_error *e)
{
	while (!w->done)
		if (loop_run_once(bus->loop, -1) < 0)
			break;
	if (!w->done)
		return rpc_error_set(e, -EIO, NULL, "the loop failed");
	if (result)
		*result = w->result;
	else
		json_decref(w->result);
	if (w->err < 0 && e)
		*e = w->e;
	return w->err;
}

int rpc_call_wait(struct rpc_bus *bus, const struct rpc_method_decl *m,
		  const struct rpc_send *s, json_t *args, json_t **result,
		  struct rpc_error *e)
{
	struct waiter w = { 0 };
	int rc;

	if (result)
		*result = NULL;
	rc = rpc_call(bus, m, s, args, wake, &w, e);
	return rc < 0 ? rc : wait_for(bus, &w, result, e);
}

int rpc_cast_wait(struct rpc_bus *bus, const struct rpc_method_decl *m,
		  const struct rpc_send *s, json_t *args, struct rpc_error *e)
{
	struct waiter w = { 0 };
	int rc;

	rc = m->kind == RPC_FANOUT ? rpc_fanout(bus, m, args, wake, &w, e) :
				     rpc_cast(bus, m, s, args, wake, &w, e);
	return rc < 0 ? rc : wait_for(bus, &w, NULL, e);
}

int rpc_publish_raw_wait(struct rpc_bus *bus, const char *exchange,
			 const char *routing_key, const void *body, size_t len,
			 const char *user_id, struct rpc_error *e)
{
	struct waiter w = { 0 };
	struct rpc_publish *pub;

	if (!bus->conn)
		return rpc_bus_down(bus, e);
	pub = rpc_publish_new(bus, exchange, routing_key);
	if (!pub)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	strbuf_add(&pub->body, body, len);
	pub->done = wake;
	pub->ctx = &w;
	pub->user_id = user_id;
	rpc_bus_enqueue(bus, pub, bus->timeout_ms);
	return wait_for(bus, &w, NULL, e);
}
