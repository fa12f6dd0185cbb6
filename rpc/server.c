/*
 * server.c - the handler's side of the bus: subscriptions, dispatch and
 * the life of a request until rpc_request_done() (see bus.h).
 *
 * Dispatch refuses in the order oslo.messaging's dispatcher does: a
 * version or namespace this service does not serve is UnsupportedVersion,
 * an unknown method is NoSuchMethod; then come novafs's own checks, the
 * sender's role (NotAuthorized), the arguments against the contract
 * (InvalidInput), and the method's rule between sender and arguments
 * (NotAuthorized).  A refused message is logged, answered when it is a
 * call, and acknowledged: it would only be refused again.
 *
 * Delivery is at least once: a message is acknowledged when its handler
 * is done, and a duplicate (a _unique_id this subscription has seen, which
 * is what a redelivery after a lost connection, or a publish sent again
 * after a lost confirm, looks like) is dropped before dispatch.
 */
#include "bus_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"

/* oslo's heartbeat interval is half the client's _timeout, and none at
 * all under a second. */
#define RPC_MIN_HEARTBEAT_MS 1000

static const char *kind_name(enum rpc_sub_kind kind)
{
	return kind == RPC_SUB_TOPIC ? "topic" :
	       kind == RPC_SUB_SERVER ? "server" : "fanout";
}

int rpc_server_declare(struct rpc_bus *bus, struct rpc_sub *sub,
		       struct rpc_error *e)
{
	char fanout_x[RPC_NAME_MAX];
	int rc;

	if (sub->kind != RPC_SUB_FANOUT) {
		/* Durable, as oslo's topic queues with amqp_durable_queues:
		 * what waits for a stopped service survives a broker
		 * restart. */
		rc = rpc_conn_declare_queue(bus->conn, sub->queue, true, 0, e);
		if (rc == 0)
			rc = rpc_conn_bind(bus->conn, sub->queue, bus->exchange,
					   sub->queue, e);
	} else {
		snprintf(fanout_x, sizeof(fanout_x), "%s_fanout", sub->svc->topic);
		rc = rpc_conn_declare_exchange(bus->conn, fanout_x, "fanout",
					       false, true, e);
		if (rc == 0)
			rc = rpc_conn_declare_queue(bus->conn, sub->queue, false,
						    RPC_QUEUE_TTL_MS, e);
		if (rc == 0)
			rc = rpc_conn_bind(bus->conn, sub->queue, fanout_x,
					   sub->svc->topic, e);
	}
	if (rc == 0)
		rc = rpc_conn_consume(bus->conn, sub->queue, sub->tag, false, e);
	return rc;
}

int rpc_subscribe(struct rpc_bus *bus, const struct rpc_service_decl *svc,
		  enum rpc_sub_kind kind, const char *server,
		  const struct rpc_handler *handlers, void *ctx,
		  struct rpc_error *e)
{
	struct rpc_sub *sub;
	char hex[UUID_HEX_LEN];
	int n, rc;

	/* The server name ends up in a queue name and a routing key. */
	if (kind == RPC_SUB_SERVER && (!server || !rpc_name_valid(server)))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "a server subscription to %s needs a host name ([A-Za-z0-9._-], 1 to 63 bytes)",
				     svc->topic);
	if (!bus->conn)
		return rpc_bus_down(bus, e);
	sub = calloc(1, sizeof(*sub));
	if (!sub)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	sub->svc = svc;
	sub->kind = kind;
	sub->handlers = handlers;
	sub->ctx = ctx;
	uuid_generate_hex(hex);
	if (kind == RPC_SUB_TOPIC)
		n = snprintf(sub->queue, sizeof(sub->queue), "%s", svc->topic);
	else if (kind == RPC_SUB_SERVER)
		n = snprintf(sub->queue, sizeof(sub->queue), "%s.%s", svc->topic,
			     server);
	else
		n = snprintf(sub->queue, sizeof(sub->queue), "%s_fanout_%s_%s",
			     svc->topic, bus->user, hex);
	if (n < 0 || (size_t)n >= sizeof(sub->queue)) {
		free(sub);
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "topic or server name too long");
	}
	snprintf(sub->tag, sizeof(sub->tag), "novafs-%s-%u", kind_name(kind),
		 ++bus->sub_seq);
	rc = rpc_server_declare(bus, sub, e);
	if (rc < 0) {
		free(sub);
		rpc_bus_lost(bus, e);
		return rc;
	}
	sub->next = bus->subs;
	bus->subs = sub;
	return 0;
}

int rpc_serve(struct rpc_bus *bus, const struct rpc_service_decl *svc,
	      const char *host, const struct rpc_handler *handlers, void *ctx,
	      struct rpc_error *e)
{
	int rc;

	rc = rpc_subscribe(bus, svc, RPC_SUB_TOPIC, NULL, handlers, ctx, e);
	if (rc == 0)
		rc = rpc_subscribe(bus, svc, RPC_SUB_SERVER, host, handlers, ctx, e);
	if (rc == 0)
		rc = rpc_subscribe(bus, svc, RPC_SUB_FANOUT, NULL, handlers, ctx, e);
	return rc;
}

struct rpc_sub *rpc_server_by_tag(struct rpc_bus *bus, const char *tag)
{
	struct rpc_sub *sub;

	for (sub = bus->subs; sub; sub = sub->next)
		if (strcmp(sub->tag, tag) == 0)
			return sub;
	return NULL;
}

static bool seen(const struct rpc_sub *sub, const char *id)
{
	int i;

	for (i = 0; i < RPC_SEEN_IDS; i++)
		if (sub->seen[i][0] == id[0] && strcmp(sub->seen[i], id) == 0)
			return true;
	return false;
}

static void remember(struct rpc_sub *sub, const char *id)
{
	snprintf(sub->seen[sub->seen_next], sizeof(sub->seen[0]), "%s", id);
	sub->seen_next = (sub->seen_next + 1) % RPC_SEEN_IDS;
}

static void ack(struct rpc_bus *bus, uint64_t tag, unsigned generation)
{
	struct rpc_error e = { 0 };

	/* A delivery from a connection that is gone will be redelivered on
	 * the new one: its tag means nothing there. */
	if (!bus->conn || generation != bus->generation)
		return;
	if (rpc_conn_ack(bus->conn, tag, &e) < 0)
		rpc_bus_lost(bus, &e);
}

/* Replies go through the default exchange, straight to the caller's
 * queue, as oslo.messaging's direct_send does; like a cast, a reply is
 * confirmed and sent again after a reconnect, since the request it
 * answers is acknowledged already or will be dropped as a duplicate. */
static void send_reply(struct rpc_bus *bus, const struct rpc_envelope_request *env,
		       json_t *result, const struct rpc_error *failure,
		       const char *module)
{
	struct rpc_publish *pub = rpc_publish_new(bus, "", env->reply_q);
	struct rpc_error e = { 0 };
	char unique[UUID_HEX_LEN];

	if (!pub) {
		log_error("cannot answer %s: out of memory", env->method);
		return;
	}
	uuid_generate_hex(unique);
	if (rpc_envelope_encode_reply(env->msg_id, unique, result, failure,
				      module, &pub->body, &e) < 0) {
		/* A result that cannot be encoded still owes the caller an
		 * answer. */
		rpc_error_set(&e, -EINVAL, "InvalidInput",
			      "%s returned a result that cannot be encoded",
			      env->method);
		strbuf_reset(&pub->body);
		rpc_envelope_encode_reply(env->msg_id, unique, NULL, &e, NULL,
					  &pub->body, NULL);
	}
	rpc_bus_enqueue(bus, pub, bus->timeout_ms);
}

/* Refuses a message before dispatch: logged, answered if it is a call. */
static void refuse(struct rpc_bus *bus, const struct rpc_sub *sub,
		   const struct rpc_envelope_request *env, const char *sender,
		   const struct rpc_error *why, const char *module)
{
	log_warn("refused %s on %s from %s: %s: %s", env->method, sub->queue,
		 sender[0] ? sender : "a sender without user_id", why->cls,
		 why->message);
	if (env->msg_id && env->reply_q)
		send_reply(bus, env, NULL, why, module);
}

static const struct rpc_handler *find_handler(const struct rpc_sub *sub,
					      const char *method)
{
	const struct rpc_handler *h;

	for (h = sub->handlers; h->method; h++)
		if (strcmp(h->method->name, method) == 0)
			return h;
	return NULL;
}

/* The oslo dispatcher's answer to a version, namespace or method this
 * subscription does not serve, or 0 with *h. */
static int check_target(const struct rpc_sub *sub,
			const struct rpc_envelope_request *env,
			const struct rpc_handler **h, struct rpc_error *e)
{
	*h = find_handler(sub, env->method);
	return rpc_target_check(sub->svc, env->method, env->version,
				env->namespace, *h != NULL, e);
}

/* May the request's sender send its method at all?  0, or -EACCES with
 * e. */
static int check_sender(const struct rpc_request *req, struct rpc_error *e)
{
	const struct rpc_method_decl *m = req->method;
	char host[RPC_HOST_MAX];

	if (!req->sender[0]) {
		if (!req->bus->allow_anonymous)
			return rpc_error_set(e, -EACCES, "NotAuthorized",
					     "%s needs a sender: the message carries no user_id",
					     m->name);
	} else if (!(rpc_role_of(req->sender, host) & m->senders)) {
		return rpc_error_set(e, -EACCES, "NotAuthorized",
				     "user %s may not send %s", req->sender,
				     m->name);
	}
	return 0;
}

/* oslo sends a heartbeat every int(_timeout) / 2 seconds, and none when
 * that is under a second. */
static long long heartbeat_interval_ms(const struct rpc_envelope_request *env)
{
	if (!env->msg_id || !env->reply_q ||
	    env->timeout_s * 1000 / 2 < RPC_MIN_HEARTBEAT_MS)
		return 0;
	return env->timeout_s * 1000 / 2;
}

static long long request_heartbeat(struct loop *l, void *ctx)
{
	struct rpc_request *req = ctx;
	struct strbuf body = STRBUF_INIT;
	char unique[UUID_HEX_LEN];

	uuid_generate_hex(unique);
	if (rpc_envelope_encode_heartbeat(req->env.msg_id, unique, &body, NULL) == 0)
		rpc_bus_send_untracked(req->bus, "", req->env.reply_q, &body);
	strbuf_release(&body);
	return heartbeat_interval_ms(&req->env);
}

/* A request still being handled with this _unique_id, or NULL. */
static struct rpc_request *in_flight(struct rpc_bus *bus,
				     const struct rpc_sub *sub, const char *id)
{
	struct rpc_request *req;

	for (req = bus->requests; req; req = req->next)
		if (req->sub == sub && req->env.unique_id &&
		    strcmp(req->env.unique_id, id) == 0)
			return req;
	return NULL;
}

/* A message seen before.  If its handler still runs, it came back because
 * the connection it came on was lost: the handler's acknowledgement goes
 * to this delivery instead, on the connection that can still take it. */
static void duplicate(struct rpc_bus *bus, struct rpc_sub *sub,
		      const struct rpc_envelope_request *env, uint64_t tag)
{
	struct rpc_request *req = in_flight(bus, sub, env->unique_id);

	log_debug("dropped a duplicate of %s (%s)%s", env->method,
		  env->unique_id, req ? ", still being handled" : "");
	if (req && req->generation != bus->generation) {
		req->delivery_tag = tag;
		req->generation = bus->generation;
		return;
	}
	ack(bus, tag, bus->generation);
}

void rpc_server_deliver(struct rpc_bus *bus, struct rpc_sub *sub,
			const struct rpc_event *ev)
{
	const struct rpc_handler *h = NULL;
	struct rpc_request *req;
	struct rpc_error e = { 0 };
	const char *module = NULL;
	long long interval;
	int rc;

	req = calloc(1, sizeof(*req));
	if (!req) {
		/* Left unacknowledged: the broker redelivers it when the
		 * channel goes, which beats losing it. */
		return;
	}
	if (rpc_envelope_decode_request(ev->body, ev->len, &req->env, &e) < 0) {
		struct strbuf shown = STRBUF_INIT;

		strbuf_add_escaped(&shown, ev->body, ev->len > 200 ? 200 : ev->len);
		log_warn("dropped a malformed message on %s from %s: %s: %s",
			 sub->queue, ev->user_id[0] ? ev->user_id : "?",
			 e.message, shown.buf);
		strbuf_release(&shown);
		free(req);
		ack(bus, ev->tag, bus->generation);
		return;
	}
	if (req->env.unique_id && seen(sub, req->env.unique_id)) {
		duplicate(bus, sub, &req->env, ev->tag);
		rpc_envelope_request_release(&req->env);
		free(req);
		return;
	}
	if (req->env.unique_id)
		remember(sub, req->env.unique_id);
	req->bus = bus;
	req->sub = sub;
	req->delivery_tag = ev->tag;
	req->generation = bus->generation;
	snprintf(req->sender, sizeof(req->sender), "%s", ev->user_id);
	rc = check_target(sub, &req->env, &h, &e);
	if (rc < 0)
		module = "oslo_messaging.rpc.dispatcher";
	if (rc == 0) {
		req->method = h->method;
		rc = check_sender(req, &e);
	}
	if (rc == 0)
		rc = rpc_args_check(h->method, req->env.args, &e);
	/* The method's own rule reads arguments the contract has checked. */
	if (rc == 0 && h->method->check)
		rc = h->method->check(req, &e);
	if (rc < 0) {
		refuse(bus, sub, &req->env, req->sender, &e, module);
		rpc_envelope_request_release(&req->env);
		free(req);
		ack(bus, ev->tag, bus->generation);
		return;
	}
	req->next = bus->requests;
	if (bus->requests)
		bus->requests->prev = req;
	bus->requests = req;
	interval = heartbeat_interval_ms(&req->env);
	if (interval)
		req->heartbeat_timer = loop_timer(bus->loop, interval,
						  request_heartbeat, req);
	h->fn(sub->ctx, req);
}

const struct rpc_method_decl *rpc_request_method(const struct rpc_request *req)
{
	return req->method;
}

json_t *rpc_request_args(const struct rpc_request *req)
{
	return req->env.args;
}

json_t *rpc_request_context(const struct rpc_request *req)
{
	return req->env.context;
}

const char *rpc_request_sender(const struct rpc_request *req)
{
	return req->sender[0] ? req->sender : NULL;
}

bool rpc_request_from(const struct rpc_request *req, unsigned roles,
		      const char *host)
{
	char sender_host[RPC_HOST_MAX];

	if (!req->sender[0])
		return req->bus->allow_anonymous;
	if (!(rpc_role_of(req->sender, sender_host) & roles))
		return false;
	return !host || strcmp(sender_host, host) == 0;
}

bool rpc_request_from_compute(const struct rpc_request *req, const char *host)
{
	return rpc_request_from(req, RPC_ROLE_COMPUTE, host);
}

static void request_free(struct rpc_request *req)
{
	struct rpc_bus *bus = req->bus;

	if (req->prev)
		req->prev->next = req->next;
	else
		bus->requests = req->next;
	if (req->next)
		req->next->prev = req->prev;
	loop_timer_cancel(bus->loop, req->heartbeat_timer);
	rpc_envelope_request_release(&req->env);
	free(req);
}

void rpc_request_done(struct rpc_request *req, json_t *result,
		      const struct rpc_error *e)
{
	struct rpc_bus *bus = req->bus;
	const struct rpc_field *declared = req->method->result;
	struct rpc_error invalid = { 0 };
	bool failed = e && e->err < 0;

	if (req->env.msg_id && req->env.reply_q && !failed && declared &&
	    rpc_field_check(declared, result ? result : json_null(),
			    &invalid) < 0) {
		log_error("%s answered outside its contract: %s",
			  req->method->name, invalid.message);
		rpc_error_set(&invalid, -EPROTO, "InvalidReply",
			      "%s answered outside its contract", req->method->name);
		e = &invalid;
		failed = true;
	}
	if (req->env.msg_id && req->env.reply_q)
		send_reply(bus, &req->env, failed ? NULL : result,
			   failed ? e : NULL, NULL);
	ack(bus, req->delivery_tag, req->generation);
	json_decref(result);
	request_free(req);
}

void rpc_server_free_all(struct rpc_bus *bus)
{
	struct rpc_sub *sub;

	/* Requests still in flight stay unacknowledged: the broker gives
	 * them to another server, or to us again after a restart. */
	while (bus->requests)
		request_free(bus->requests);
	while ((sub = bus->subs)) {
		bus->subs = sub->next;
		free(sub);
	}
}
