/*
 * bus.c - the connection a bus owns, on its loop: connecting and
 * reconnecting, publishing with confirms, and routing what the broker
 * sends.  See bus.h for the contract, bus_int.h for how the files split.
 *
 * Publishes live on one list in the order they were sent.  The broker
 * confirms them in that order (possibly several at once, "multiple"), a
 * mandatory one it could not route comes back first as a basic.return,
 * and a connection that dies leaves every unconfirmed one in doubt: those
 * are sent again on the next connection, with the same _unique_id, so a
 * receiver that got the first copy drops the second.
 *
 * The bus logs what no caller can see (connection losses and recoveries,
 * refused or malformed messages); everything a caller asked for is
 * reported to that caller instead.
 */
#include "bus_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/opts.h"

#define RPC_DEFAULT_URL "amqp://127.0.0.1:5672/"

/* A URL names where the broker is, never who we are: credentials in a
 * URL end up in `ps` output and in logs. */
static int check_url(const char *value, enum opt_source from, char *err,
		     size_t errlen)
{
	const char *auth = strstr(value, "://");
	const char *at = auth ? strchr(auth + 3, '@') : NULL;
	const char *slash = auth ? strchr(auth + 3, '/') : NULL;

	if (strncmp(value, "amqp://", 7) != 0) {
		snprintf(err, errlen, "\"%s\" is not an amqp:// URL", value);
		return -EINVAL;
	}
	if (at && (!slash || at < slash)) {
		snprintf(err, errlen,
			 "the URL must not hold credentials: set [amqp] user in the config file, and [amqp] password there or in $NOVAFS_AMQP_PASSWORD");
		return -EINVAL;
	}
	return 0;
}

const struct opt rpc_bus_options[] = {
	{ "amqp", "url", "--amqp", OPT_STR, offsetof(struct rpc_bus_config, url),
	  RPC_DEFAULT_URL, 0, 0, "NOVAFS_AMQP_URL", "URL",
	  "the RabbitMQ broker, amqp://HOST:PORT/VHOST (no credentials)",
	  check_url },
	{ "amqp", "user", "--amqp-user", OPT_STR,
	  offsetof(struct rpc_bus_config, user), NULL, 0, 0, "NOVAFS_AMQP_USER",
	  "USER",
	  "the RabbitMQ user to log in as (default: the service's identity: novafs, scheduler, network or compute-HOST)",
	  NULL },
	{ "amqp", "password", NULL, OPT_SECRET,
	  offsetof(struct rpc_bus_config, password), NULL, 0, 0,
	  "NOVAFS_AMQP_PASSWORD", "PASSWORD",
	  "that user's password (config file or environment only)", NULL },
	{ "amqp", "exchange", "--exchange", OPT_STR,
	  offsetof(struct rpc_bus_config, exchange), "novafs", 0, 0, NULL, "NAME",
	  "the control exchange (oslo.messaging's control_exchange)", NULL },
	{ "amqp", "rpc_timeout", "--rpc-timeout", OPT_INT,
	  offsetof(struct rpc_bus_config, timeout_ms), "10000", 1, 3600000, NULL,
	  "MS", "how long a call waits for its reply, and a cast for the broker's confirm",
	  NULL },
	{ "amqp", "heartbeat", "--amqp-heartbeat", OPT_INT,
	  offsetof(struct rpc_bus_config, heartbeat_s), "30", 2, 600, NULL,
	  "SECONDS", "AMQP heartbeat interval; a silent broker is given up after twice this",
	  NULL },
	{ "amqp", "allow_peers_without_user_id", "--allow-peers-without-user-id",
	  OPT_BOOL, offsetof(struct rpc_bus_config, allow_anonymous), "false", 0,
	  0, NULL, NULL,
	  "accept messages that carry no user_id (oslo.messaging peers), as if from any service",
	  NULL },
	OPT_END
};

struct rpc_publish *rpc_publish_new(struct rpc_bus *bus, const char *exchange,
				    const char *key)
{
	struct rpc_publish *pub = calloc(1, sizeof(*pub));

	if (!pub)
		return NULL;
	pub->bus = bus;
	pub->user_id = bus->user;
	pub->exchange = strdup(exchange);
	pub->key = strdup(key);
	strbuf_init(&pub->body, 0);
	if (!pub->exchange || !pub->key) {
		rpc_bus_drop_publish(bus, pub);
		return NULL;
	}
	return pub;
}

static void unlink_publish(struct rpc_bus *bus, struct rpc_publish *pub)
{
	struct rpc_publish **pp, *prev = NULL;

	for (pp = &bus->pubs; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp == pub) {
			*pp = pub->next;
			if (bus->pubs_tail == pub)
				bus->pubs_tail = prev;
			pub->next = NULL;
			return;
		}
	}
}

void rpc_bus_drop_publish(struct rpc_bus *bus, struct rpc_publish *pub)
{
	if (!pub)
		return;
	unlink_publish(bus, pub);
	loop_timer_cancel(bus->loop, pub->timer);
	strbuf_release(&pub->body);
	free(pub->exchange);
	free(pub->key);
	free(pub);
}

/* Completes pub (the broker took it, refused it, or its time is up) and
 * frees it. */
static void complete_publish(struct rpc_bus *bus, struct rpc_publish *pub,
			     int err, const struct rpc_error *e)
{
	rpc_done_fn done = pub->done;
	void *ctx = pub->ctx;
	struct rpc_error bounced = { 0 };

	if (pub->call) {
		/* A call completes from its reply or its deadline, or here
		 * when its request could not be delivered at all. */
		pub->call->pub = NULL;
		if (err < 0 || pub->returned)
			rpc_client_undelivered(bus, pub, err, e);
		rpc_bus_drop_publish(bus, pub);
		return;
	}
	if (err == 0 && pub->returned) {
		err = rpc_error_set(&bounced, -EHOSTDOWN, "ServiceUnavailable",
				    "no service consumes %s", pub->key);
		e = &bounced;
	}
	rpc_bus_drop_publish(bus, pub);
	if (done)
		done(ctx, err, NULL, e);
}

static long long publish_deadline(struct loop *l, void *ctx)
{
	struct rpc_publish *pub = ctx;
	struct rpc_error e = { 0 };

	pub->timer = 0;
	rpc_error_set(&e, -ETIMEDOUT, "MessagingTimeout",
		      "the broker did not take a message for %s in time%s",
		      pub->key, pub->bus->conn ? "" : " (not connected)");
	complete_publish(pub->bus, pub, e.err, &e);
	return LOOP_TIMER_DONE;
}

/* Sends pub on the current connection.  Returns 0 or -ENETDOWN (the
 * connection is then marked lost). */
static int send_publish(struct rpc_bus *bus, struct rpc_publish *pub)
{
	struct rpc_props props = { pub->user_id, pub->expiration_ms,
				   !pub->transient };
	struct rpc_error e = { 0 };
	int rc = 0;

	pub->returned = false;
	if (pub->declare_fanout)
		rc = rpc_conn_declare_exchange_nowait(bus->conn, pub->exchange,
						      "fanout", false, true, &e);
	if (rc == 0)
		rc = rpc_conn_publish(bus->conn, pub->exchange, pub->key,
				      pub->body.buf, pub->body.len, &props,
				      pub->mandatory, &e);
	if (rc < 0) {
		rpc_bus_lost(bus, &e);
		return rc;
	}
	pub->seq = bus->next_seq++;
	return 0;
}

void rpc_bus_enqueue(struct rpc_bus *bus, struct rpc_publish *pub,
		     long long timeout_ms)
{
	if (bus->pubs_tail)
		bus->pubs_tail->next = pub;
	else
		bus->pubs = pub;
	bus->pubs_tail = pub;
	if (timeout_ms > 0)
		pub->timer = loop_timer(bus->loop, timeout_ms, publish_deadline, pub);
	if (bus->conn)
		send_publish(bus, pub);
}

void rpc_bus_send_untracked(struct rpc_bus *bus, const char *exchange,
			    const char *key, const struct strbuf *body)
{
	struct rpc_props props = { bus->user, 0, true };
	struct rpc_error e = { 0 };

	if (!bus->conn)
		return;
	if (rpc_conn_publish(bus->conn, exchange, key, body->buf, body->len,
			     &props, false, &e) < 0) {
		rpc_bus_lost(bus, &e);
		return;
	}
	bus->next_seq++; /* it takes a confirm number all the same */
}

/* The broker confirmed (ok) or refused every publish up to tag, or just
 * tag. */
static void confirm(struct rpc_bus *bus, uint64_t tag, bool multiple, bool ok)
{
	struct rpc_error e = { 0 };
	struct rpc_publish *pub, *next;

	for (pub = bus->pubs; pub; pub = next) {
		next = pub->next;
		if (!pub->seq || pub->seq > tag)
			break;  /* sent in order: nothing later is confirmed */
		if (pub->seq != tag && !multiple)
			continue;
		memset(&e, 0, sizeof(e));
		if (!ok)
			rpc_error_set(&e, -EIO, "MessageDeliveryFailure",
				      "the broker refused a message for %s",
				      pub->key);
		complete_publish(bus, pub, ok ? 0 : -EIO, &e);
	}
}

/* A mandatory publish came back unroutable; its confirm follows. */
static void returned(struct rpc_bus *bus, const struct rpc_event *ev)
{
	struct rpc_envelope_request req;
	struct rpc_publish *pub;

	if (rpc_envelope_decode_request(ev->body, ev->len, &req, NULL) < 0)
		return;
	for (pub = bus->pubs; pub && req.unique_id; pub = pub->next)
		if (pub->seq && strcmp(pub->unique_id, req.unique_id) == 0)
			pub->returned = true;
	rpc_envelope_request_release(&req);
}

/* The name the broker quoted after what ("topic '", "exchange '") in its
 * reason, into buf; false when there is none. */
static bool quoted(const char *reason, const char *what, char *buf,
		   size_t size)
{
	const char *p = strstr(reason, what), *end;

	if (!p)
		return false;
	p += strlen(what);
	end = strchr(p, '\'');
	if (!end)
		return false;
	snprintf(buf, size, "%.*s", (int)(end - p), p);
	/* The default exchange has a name in permissions and reasons. */
	if (strcmp(buf, "amq.default") == 0)
		buf[0] = '\0';
	return true;
}

/* The first sent publish to what the broker refused: the topic (routing
 * key) and exchange it named, or the exchange alone. */
static struct rpc_publish *refused_publish(struct rpc_bus *bus,
					   const char *topic,
					   const char *exchange)
{
	struct rpc_publish *pub;

	for (pub = bus->pubs; pub && pub->seq; pub = pub->next) {
		if (topic && strcmp(pub->key, topic) != 0)
			continue;
		if (exchange && strcmp(pub->exchange, exchange) != 0)
			continue;
		if (topic || exchange)
			return pub;
	}
	return NULL;
}

/*
 * The broker closed the channel over something we sent: 403 (an exchange,
 * a topic or a user_id we may not use), 404 (no such exchange) or 406 (a
 * declaration with other flags).  Sending those publishes again would fail
 * again, so they fail now; the channel takes every unconfirmed publish
 * down with it, so the others are sent again after the reconnect.  The
 * reason names the exchange or topic refused; when it names neither, the
 * oldest unconfirmed publish is taken as the culprit, so that a refusal
 * can never make the bus send the same message forever.
 */
static void refused(struct rpc_bus *bus, int code, const struct rpc_error *why)
{
	char topic[RPC_NAME_MAX], exchange[RPC_NAME_MAX];
	bool by_topic = quoted(why->message, "topic '", topic, sizeof(topic));
	bool by_exchange = quoted(why->message, "exchange '", exchange,
				  sizeof(exchange));
	struct rpc_publish *pub;
	struct rpc_error e;

	if (code == 403 || strstr(why->message, "user_id"))
		rpc_error_set(&e, -EACCES, "NotAuthorized", "%s", why->message);
	else if (code == 404)
		rpc_error_set(&e, -ENOENT, "NotFound", "%s", why->message);
	else
		rpc_error_set(&e, -EPROTO, "MessageDeliveryFailure", "%s",
			      why->message);
	pub = refused_publish(bus, by_topic ? topic : NULL,
			      by_exchange ? exchange : NULL);
	if (!pub && bus->pubs && bus->pubs->seq)
		pub = bus->pubs;
	while (pub) {
		complete_publish(bus, pub, e.err, &e);
		pub = refused_publish(bus, by_topic ? topic : NULL,
				      by_exchange ? exchange : NULL);
	}
}

/* Reads and routes everything the broker has sent. */
static void drain(struct rpc_bus *bus)
{
	struct rpc_error e = { 0 };
	struct rpc_event ev;
	struct rpc_sub *sub;
	unsigned generation = bus->generation;
	int rc;

	while (bus->conn && bus->generation == generation) {
		rc = rpc_conn_next(bus->conn, &ev, &e);
		if (rc == 0)
			return;
		if (rc < 0) {
			rpc_bus_lost(bus, &e);
			return;
		}
		switch (ev.kind) {
		case RPC_EV_DELIVERY:
			if (strcmp(ev.consumer_tag, RPC_REPLY_TAG) == 0)
				rpc_client_reply(bus, &ev);
			else if ((sub = rpc_server_by_tag(bus, ev.consumer_tag)))
				rpc_server_deliver(bus, sub, &ev);
			break;
		case RPC_EV_RETURN:
			returned(bus, &ev);
			break;
		case RPC_EV_ACK:
		case RPC_EV_NACK:
			confirm(bus, ev.tag, ev.multiple, ev.kind == RPC_EV_ACK);
			break;
		case RPC_EV_CLOSED:
			if (ev.code == 403 || ev.code == 404 || ev.code == 406)
				refused(bus, ev.code, &e);
			rpc_event_release(&ev);
			rpc_bus_lost(bus, &e);
			return;
		}
		rpc_event_release(&ev);
	}
}

static void on_readable(struct loop *l, int fd, unsigned events, void *ctx)
{
	drain(ctx);
}

/* Services the AMQP heartbeat both ways: librabbitmq sends ours only from
 * inside its calls, and notices a silent broker (nothing received for two
 * heartbeats) only while reading. */
static long long heartbeat(struct loop *l, void *ctx)
{
	struct rpc_bus *bus = ctx;
	struct rpc_error e = { 0 };

	if (bus->conn) {
		if (rpc_conn_heartbeat(bus->conn, &e) < 0)
			rpc_bus_lost(bus, &e);
		else
			drain(bus);
	}
	return bus->heartbeat_s * 1000 / 2;
}

static void set_state(struct rpc_bus *bus, bool up, const struct rpc_error *why)
{
	if (bus->up == up)
		return;
	bus->up = up;
	if (up)
		log_info("connected to the message bus at %s", bus->shown_url);
	else
		log_warn("lost the message bus: %s; reconnecting",
			 why && why->message[0] ? why->message : "connection closed");
	if (bus->state_fn)
		bus->state_fn(bus->state_ctx, up, why);
}

/* Connects and declares everything this bus had: the exchange, the reply
 * queue, every subscription; then sends what waits.  0 or -errno. */
static int bus_connect(struct rpc_bus *bus, struct rpc_error *e)
{
	struct rpc_conn_params p = {
		bus->host, bus->port, bus->vhost, bus->user, bus->password,
		bus->shown_url, bus->heartbeat_s, RPC_CONNECT_TIMEOUT_MS,
		RPC_PREFETCH,
	};
	struct rpc_publish *pub;
	struct rpc_sub *sub;
	int rc;

	rc = rpc_conn_open(&p, &bus->conn, e);
	if (rc < 0)
		return rc;
	bus->generation++;
	bus->next_seq = 1;
	rc = rpc_conn_declare_exchange(bus->conn, bus->exchange, "topic", true,
				       false, e);
	if (rc == 0)
		rc = rpc_client_declare(bus, e);
	for (sub = bus->subs; rc == 0 && sub; sub = sub->next)
		rc = rpc_server_declare(bus, sub, e);
	if (rc < 0)
		goto fail;
	bus->watch = loop_watch(bus->loop, rpc_conn_fd(bus->conn), LOOP_READ,
				on_readable, bus);
	if (bus->watch < 0) {
		rc = rpc_error_set(e, (int)bus->watch, NULL, "cannot watch the AMQP socket");
		goto fail;
	}
	bus->backoff_ms = RPC_BACKOFF_MIN_MS;
	set_state(bus, true, NULL);
	for (pub = bus->pubs; pub && bus->conn; pub = pub->next)
		send_publish(bus, pub);
	/* Declarations may have left deliveries in librabbitmq's queue. */
	if (bus->conn)
		drain(bus);
	return 0;
fail:
	rpc_conn_close(bus->conn, false);
	bus->conn = NULL;
	return rc;
}

static long long reconnect(struct loop *l, void *ctx);

static void schedule_reconnect(struct rpc_bus *bus)
{
	if (!bus->reconnect_timer)
		bus->reconnect_timer = loop_timer(bus->loop, bus->backoff_ms,
						  reconnect, bus);
}

static long long reconnect(struct loop *l, void *ctx)
{
	struct rpc_bus *bus = ctx;
	struct rpc_error e = { 0 };

	/* A connection lost again while this one was being set up schedules
	 * the next attempt itself. */
	bus->reconnect_timer = 0;
	if (bus_connect(bus, &e) < 0) {
		log_debug("reconnecting to %s: %s", bus->shown_url, e.message);
		bus->backoff_ms = bus->backoff_ms * 2 > RPC_BACKOFF_MAX_MS ?
				  RPC_BACKOFF_MAX_MS : bus->backoff_ms * 2;
		schedule_reconnect(bus);
	}
	return LOOP_TIMER_DONE;
}

int rpc_bus_down(const struct rpc_bus *bus, struct rpc_error *e)
{
	return rpc_error_set(e, -ENETDOWN, "ConnectionError",
			     "the message bus is not reachable (%s)",
			     bus->shown_url);
}

void rpc_bus_lost(struct rpc_bus *bus, const struct rpc_error *why)
{
	struct rpc_publish *pub;

	if (!bus->conn)
		return;
	loop_unwatch(bus->loop, bus->watch);
	rpc_conn_close(bus->conn, false);
	bus->conn = NULL;
	bus->generation++;
	/* Whatever was not confirmed is in doubt: it goes again. */
	for (pub = bus->pubs; pub; pub = pub->next)
		pub->seq = 0;
	set_state(bus, false, why);
	schedule_reconnect(bus);
}

/* Splits the URL into the parts librabbitmq wants.  0 or -EINVAL. */
static int parse_url(struct rpc_bus *bus, const char *url, struct rpc_error *e)
{
	struct amqp_connection_info info;
	char err[256];

	if (check_url(url, OPT_FROM_FLAG, err, sizeof(err)) < 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput", "%s", err);
	bus->url_buf = strdup(url);
	if (!bus->url_buf)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	amqp_default_connection_info(&info);
	if (amqp_parse_url(bus->url_buf, &info) != AMQP_STATUS_OK || info.ssl)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "malformed AMQP URL %s (want amqp://HOST:PORT/VHOST)",
				     url);
	bus->host = info.host;
	bus->port = info.port;
	/* "amqp://host/" names the empty vhost to librabbitmq, but means the
	 * default one to everybody else (kombu, hence oslo.messaging). */
	bus->vhost = info.vhost && info.vhost[0] ? info.vhost : (char *)"/";
	return 0;
}

int rpc_bus_new(struct loop *loop, const struct rpc_bus_config *cfg,
		const char *default_user, struct rpc_bus **out,
		struct rpc_error *e)
{
	const char *user = cfg->user ? cfg->user : default_user;
	struct rpc_bus *bus;
	int rc;

	*out = NULL;
	/* The user names queues (reply_USER_HEX) and is compared with
	 * user_id properties, which are short strings. */
	if (!user || !*user || strlen(user) >= RPC_USER_MAX)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "the message bus needs a user name of 1 to %d bytes ([amqp] user)",
				     RPC_USER_MAX - 1);
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	bus->loop = loop;
	hash_init(&bus->calls, rpc_call_cmp);
	bus->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
	bus->heartbeat_s = cfg->heartbeat_s > 0 ? (int)cfg->heartbeat_s : 30;
	bus->allow_anonymous = cfg->allow_anonymous;
	bus->backoff_ms = RPC_BACKOFF_MIN_MS;
	rc = parse_url(bus, cfg->url ? cfg->url : RPC_DEFAULT_URL, e);
	if (rc < 0)
		goto fail;
	bus->user = strdup(user);
	bus->password = strdup(cfg->password ? cfg->password : "");
	bus->exchange = strdup(cfg->exchange ? cfg->exchange : "novafs");
	if (asprintf(&bus->shown_url, "amqp://%s@%s:%d/%s", user, bus->host,
		     bus->port, strcmp(bus->vhost, "/") ? bus->vhost : "") < 0)
		bus->shown_url = NULL;
	if (!bus->user || !bus->password || !bus->exchange || !bus->shown_url) {
		rc = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
		goto fail;
	}
	rc = bus_connect(bus, e);
	if (rc < 0)
		goto fail;
	bus->heartbeat_timer = loop_timer(loop, bus->heartbeat_s * 1000 / 2,
					  heartbeat, bus);
	*out = bus;
	return 0;
fail:
	rpc_bus_free(bus);
	return rc;
}

void rpc_bus_cancel(struct rpc_bus *bus)
{
	struct rpc_error e = { 0 };

	rpc_error_set(&e, -ENETDOWN, "ConnectionError",
		      "the message bus is closing");
	/* Calls first: their requests' publishes go with them. */
	rpc_client_fail_all(bus, &e);
	while (bus->pubs)
		complete_publish(bus, bus->pubs, e.err, &e);
}

void rpc_bus_free(struct rpc_bus *bus)
{
	if (!bus)
		return;
	rpc_server_free_all(bus);
	rpc_client_free_all(bus);
	while (bus->pubs)
		rpc_bus_drop_publish(bus, bus->pubs);
	/* After the publishes: a heartbeat in flight points to it. */
	rpc_heartbeat_free(bus->heartbeat);
	if (bus->conn) {
		loop_unwatch(bus->loop, bus->watch);
		rpc_conn_close(bus->conn, true);
	}
	loop_timer_cancel(bus->loop, bus->heartbeat_timer);
	loop_timer_cancel(bus->loop, bus->reconnect_timer);
	hash_release(&bus->calls);
	if (bus->password)
		explicit_bzero(bus->password, strlen(bus->password));
	free(bus->url_buf);
	free(bus->shown_url);
	free(bus->user);
	free(bus->password);
	free(bus->exchange);
	free(bus);
}

void rpc_bus_on_state(struct rpc_bus *bus, rpc_state_fn fn, void *ctx)
{
	bus->state_fn = fn;
	bus->state_ctx = ctx;
}

bool rpc_bus_connected(const struct rpc_bus *bus)
{
	return bus->conn != NULL;
}

const char *rpc_bus_user(const struct rpc_bus *bus)
{
	return bus->user;
}

struct loop *rpc_bus_loop(const struct rpc_bus *bus)
{
	return bus->loop;
}

char *rpc_compute_user(const char *host, char *buf, size_t size)
{
	snprintf(buf, size, "compute-%s", host);
	return buf;
}

unsigned rpc_role_of(const char *user, char host[RPC_HOST_MAX])
{
	host[0] = '\0';
	if (strcmp(user, "novafs") == 0)
		return RPC_ROLE_API;
	if (strcmp(user, "scheduler") == 0)
		return RPC_ROLE_SCHEDULER;
	if (strcmp(user, "network") == 0)
		return RPC_ROLE_NETWORK;
	if (strncmp(user, "compute-", 8) == 0 && rpc_name_valid(user + 8)) {
		snprintf(host, RPC_HOST_MAX, "%s", user + 8);
		return RPC_ROLE_COMPUTE;
	}
	return 0;
}
