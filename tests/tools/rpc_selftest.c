/*
 * rpc_selftest - the rpc/ bus against a real RabbitMQ, in TAP.
 *
 *   rpc_selftest [URL [ETC]]        the tests
 *   rpc_selftest serve [URL [ETC]]  serves the test service as compute
 *                                   host node1 until SIGTERM, for Python
 *                                   peers (tests/integration/oslo_interop.sh)
 *
 * URL (default $AMQP_URL) names the vhost; ETC (default $BROKER_ETC) holds
 * the identities tests/lib/broker.sh made, USER.conf each.  Every bus runs
 * on one event loop, in this one thread, as the services do: a client
 * (user novafs), compute hosts node1 and node2 serving a test service on
 * topic compute (their permissions allow nothing else), node3 listening to
 * its fanout only, and buses as other users to be refused.  A raw
 * librabbitmq connection (user oslo-peer) reads the wire and re-declares
 * our queues with oslo.messaging's flags, which the broker refuses if ours
 * differ; a TCP proxy whose connections the test cuts, mutes or freezes
 * stands between some buses and the broker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <jansson.h>

#include "common/clock.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/strbuf.h"
#include "common/uuid.h"
#include "rpc/bus.h"
#include "rpc/methods.h"
#include "../unit/testhelp.h"

static const char *g_url, *g_etc;
static char g_host[256], g_vhost[128];
static int g_port;
static struct loop *g_loop;

/* ---- the test service: topic compute, version 1.3 ---- */

extern const struct rpc_service_decl st_service;

static const struct rpc_field echo_args[] = {
	{ "text", RPC_T_STRING, RPC_OPTIONAL | RPC_NULLABLE },
	{ NULL },
};
static const struct rpc_field echo_result_members[] = {
	{ "echoed", RPC_T_ANY },
	{ "by", RPC_T_HOST },
	{ NULL },
};
static const struct rpc_field echo_result = {
	NULL, RPC_T_OBJECT, 0, 0, 0, NULL, echo_result_members,
};
static const struct rpc_field ms_args[] = {
	{ "ms", RPC_T_INT, 0, 0, 60000 },
	{ NULL },
};
static const struct rpc_field n_args[] = {
	{ "n", RPC_T_INT, 0, 0, 1000000 },
	{ NULL },
};
static const struct rpc_field no_args[] = { { NULL } };
static const struct rpc_field any_result = { NULL, RPC_T_ANY, RPC_NULLABLE };

#define ST_METHOD(var, name, kind, args, result) \
	static const struct rpc_method_decl var = { &st_service, name, kind, \
		"1.0", RPC_ROLE_API, args, result, "" }
ST_METHOD(st_echo, "echo", RPC_CALL, echo_args, &echo_result);
ST_METHOD(st_fail, "fail", RPC_CALL, no_args, &any_result);
ST_METHOD(st_errno_only, "errno_only", RPC_CALL, no_args, &any_result);
ST_METHOD(st_sleep, "sleep", RPC_CALL, ms_args, &any_result);
ST_METHOD(st_bad_result, "bad_result", RPC_CALL, no_args, &echo_result);
ST_METHOD(st_note, "note", RPC_CAST, n_args, NULL);
ST_METHOD(st_ping, "ping", RPC_FANOUT, no_args, NULL);

static const struct rpc_method_decl *const st_methods[] = {
	&st_echo, &st_fail, &st_errno_only, &st_sleep, &st_bad_result,
	&st_note, &st_ping, NULL,
};

const struct rpc_service_decl st_service = {
	"compute", "1.3", NULL, RPC_ROLE_COMPUTE, st_methods, "",
};

/* A server's counters. */
struct server {
	const char *host;
	struct rpc_bus *bus;
	int calls, notes, pings, dup_hits, last_n;
};

static void h_echo(void *ctx, struct rpc_request *req)
{
	struct server *s = ctx;
	json_t *text = json_object_get(rpc_request_args(req), "text");

	s->calls++;
	rpc_request_done(req, json_pack("{s:O, s:s}", "echoed",
					text ? text : json_null(), "by", s->host),
			 NULL);
}

static void h_fail(void *ctx, struct rpc_request *req)
{
	struct rpc_error e;

	rpc_error_set(&e, -EHOSTUNREACH, "NoValidHost", "no host");
	rpc_request_done(req, NULL, &e);
}

static void h_errno_only(void *ctx, struct rpc_request *req)
{
	struct rpc_error e;

	/* No class: the errno's. */
	rpc_error_set(&e, -ENOENT, NULL, "%s", strerror(ENOENT));
	rpc_request_done(req, NULL, &e);
}

/* Answers later, from a timer: the handler has returned, the loop runs,
 * and the bus sends the call monitor's heartbeats meanwhile. */
static long long sleep_done(struct loop *l, void *ctx)
{
	struct rpc_request *req = ctx;

	rpc_request_done(req, json_pack("{s:I}", "slept", json_integer_value(
		json_object_get(rpc_request_args(req), "ms"))), NULL);
	return LOOP_TIMER_DONE;
}

static void h_sleep(void *ctx, struct rpc_request *req)
{
	loop_timer(g_loop, json_integer_value(json_object_get(
		rpc_request_args(req), "ms")), sleep_done, req);
}

static void h_bad_result(void *ctx, struct rpc_request *req)
{
	rpc_request_done(req, json_pack("{s:i}", "echoed", 1), NULL);
}

static void h_note(void *ctx, struct rpc_request *req)
{
	struct server *s = ctx;
	int n = (int)json_integer_value(json_object_get(rpc_request_args(req), "n"));

	s->notes++;
	if (n == 100)
		s->dup_hits++;
	s->last_n = n;
	rpc_request_done(req, NULL, NULL);
}

static void h_ping(void *ctx, struct rpc_request *req)
{
	struct server *s = ctx;

	s->pings++;
	rpc_request_done(req, NULL, NULL);
}

static const struct rpc_handler st_handlers[] = {
	{ &st_echo, h_echo }, { &st_fail, h_fail },
	{ &st_errno_only, h_errno_only }, { &st_sleep, h_sleep },
	{ &st_bad_result, h_bad_result }, { &st_note, h_note },
	{ &st_ping, h_ping }, { NULL, NULL },
};

/* ---- identities and buses ---- */

/* The identity USER, as broker.sh wrote it, pointed at url. */
struct identity {
	struct rpc_bus_config cfg;
	const struct opt *tables[2];
	struct opts_spec spec;
};

static int identity_load(struct identity *id, const char *user,
			 const char *url)
{
	char path[512], err[512], prog[] = "rpc_selftest", *argv[] = { prog, NULL };
	int argc = 1;

	memset(id, 0, sizeof(*id));
	id->tables[0] = rpc_bus_options;
	id->spec.prog = "rpc_selftest";
	id->spec.tables = id->tables;
	snprintf(path, sizeof(path), "%s/%s.conf", g_etc, user);
	id->spec.default_config = path;
	if (opts_load(&id->spec, &id->cfg, &argc, argv, 0, err, sizeof(err)) != 0 ||
	    !id->cfg.user) {
		printf("# %s: %s\n", path, err[0] ? err : "no [amqp] user");
		return -1;
	}
	free(id->cfg.url);
	id->cfg.url = strdup(url);
	return id->cfg.url ? 0 : -1;
}

static void identity_release(struct identity *id)
{
	opts_release(&id->spec, &id->cfg);
}

/* State changes of a bus, counted. */
struct watch {
	int downs, ups;
};

static void on_state(void *ctx, bool up, const struct rpc_error *why)
{
	struct watch *w = ctx;

	if (up)
		w->ups++;
	else
		w->downs++;
}

/* A bus for user at url (NULL: the test's URL), heartbeat_s if > 0. */
static struct rpc_bus *bus_for(const char *user, const char *url,
			       long long heartbeat_s, bool anonymous_ok,
			       struct rpc_error *e)
{
	struct identity id;
	struct rpc_bus *bus = NULL;

	if (identity_load(&id, user, url ? url : g_url) < 0) {
		rpc_error_set(e, -EINVAL, NULL, "no identity %s", user);
		return NULL;
	}
	if (heartbeat_s > 0)
		id.cfg.heartbeat_s = heartbeat_s;
	id.cfg.allow_anonymous = anonymous_ok;
	id.cfg.timeout_ms = 5000;
	rpc_bus_new(g_loop, &id.cfg, NULL, &bus, e);
	identity_release(&id);
	return bus;
}

/* Drives the loop until cond holds or ms pass; the value of cond. */
#define RUN_UNTIL(ms, cond) ({                                           \
	long long dl_ = clock_mono_ms() + (ms);                          \
	while (!(cond) && clock_mono_ms() < dl_)                         \
		loop_run_once(g_loop, 10);                               \
	(cond);                                                          \
})

static void run_for(long long ms)
{
	long long deadline = clock_mono_ms() + ms;

	while (clock_mono_ms() < deadline)
		loop_run_once(g_loop, (int)(deadline - clock_mono_ms()));
}

/* A copy of a declaration that sends what the options say. */
struct variant {
	struct rpc_service_decl svc;
	struct rpc_method_decl m;
};

static const struct rpc_method_decl *variant(struct variant *v,
					     const struct rpc_method_decl *m,
					     const char *name, const char *version,
					     const char *ns, bool unchecked)
{
	v->svc = *m->service;
	v->m = *m;
	v->m.service = &v->svc;
	if (name)
		v->m.name = name;
	if (version)
		v->svc.version = v->m.version = version;
	if (ns)
		v->svc.namespace = ns;
	if (unchecked)
		v->m.args = NULL;
	return &v->m;
}

static const struct rpc_send to_node1 = { .server = "node1" };

/* An oslo envelope around a request, by hand: tools see only the public
 * headers, and these must be exactly what a peer sends. */
static char *envelope(const char *method, json_t *args, const char *unique_id,
		      bool with_version)
{
	json_t *msg = json_pack("{s:s, s:O, s:s}", "method", method, "args",
				args, "_unique_id", unique_id);
	char *inner, *outer;
	json_t *env;

	if (with_version)
		json_object_set_new(msg, "version", json_string("1.3"));
	inner = json_dumps(msg, JSON_ENSURE_ASCII);
	env = json_pack("{s:s, s:s}", "oslo.version", "2.0", "oslo.message", inner);
	outer = json_dumps(env, JSON_ENSURE_ASCII);
	free(inner);
	json_decref(env);
	json_decref(msg);
	return outer;
}

/* ---- raw librabbitmq, to see the wire ---- */

static amqp_connection_state_t raw_open(void)
{
	struct identity id;
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *s = amqp_tcp_socket_new(c);
	amqp_rpc_reply_t r;
	bool ok = false;

	if (identity_load(&id, "oslo-peer", g_url) < 0)
		goto out;
	if (!s || amqp_socket_open(s, g_host, g_port) != AMQP_STATUS_OK)
		goto out;
	r = amqp_login(c, g_vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
		       id.cfg.user, id.cfg.password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		goto out;
	amqp_channel_open(c, 1);
	ok = amqp_get_rpc_reply(c).reply_type == AMQP_RESPONSE_NORMAL;
out:
	identity_release(&id);
	if (!ok) {
		amqp_destroy_connection(c);
		return NULL;
	}
	return c;
}

static void raw_close(amqp_connection_state_t c)
{
	if (!c)
		return;
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
}

static bool bytes_is(amqp_bytes_t b, const char *s)
{
	return b.len == strlen(s) && memcmp(b.bytes, s, b.len) == 0;
}

/* Re-declares a queue with the flags tests/data shows for oslo with
 * amqp_durable_queues; the broker refuses (406) when ours differ. */
static bool raw_queue_like_oslo(const char *queue, bool durable, bool ttl)
{
	amqp_connection_state_t c = raw_open();
	amqp_table_entry_t ent;
	amqp_table_t args = amqp_empty_table;
	bool ok;

	if (!c)
		return false;
	if (ttl) {
		ent.key = amqp_cstring_bytes("x-expires");
		ent.value.kind = AMQP_FIELD_KIND_I32;
		ent.value.value.i32 = 1800000;
		args.num_entries = 1;
		args.entries = &ent;
	}
	ok = amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 0, durable, 0,
				0, args) != NULL;
	raw_close(c);
	return ok;
}

static bool raw_exchange_like_oslo(const char *name, const char *type,
				   bool durable, bool auto_delete)
{
	amqp_connection_state_t c = raw_open();
	bool ok;

	if (!c)
		return false;
	ok = amqp_exchange_declare(c, 1, amqp_cstring_bytes(name),
				   amqp_cstring_bytes(type), 0, durable,
				   auto_delete, 0, amqp_empty_table) != NULL;
	raw_close(c);
	return ok;
}

/* ---- a TCP proxy whose connections the test can cut or freeze ---- */

struct proxy {
	pthread_t th;
	int lfd, port;
	int fds[64];        /* pairs: fds[2i] client side, fds[2i+1] broker */
	int nfds;
	_Atomic int cut;    /* request: close every relayed connection */
	_Atomic int refuse; /* close new connections at once */
	_Atomic int mute;   /* drop what the broker sends (confirms, replies) */
	_Atomic int freeze; /* relay nothing either way */
	_Atomic int stop;
};

static void proxy_drop_pair(struct proxy *p, int i)
{
	int base = i & ~1;

	close(p->fds[base]);
	close(p->fds[base + 1]);
	memmove(&p->fds[base], &p->fds[base + 2],
		(size_t)(p->nfds - base - 2) * sizeof(int));
	p->nfds -= 2;
}

static void proxy_accept(struct proxy *p)
{
	struct sockaddr_in a;
	int cfd, bfd;

	cfd = accept(p->lfd, NULL, NULL);
	if (cfd < 0)
		return;
	if (p->refuse || p->nfds + 2 > 64) {
		close(cfd);
		return;
	}
	bfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)g_port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bfd < 0 || connect(bfd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(cfd);
		if (bfd >= 0)
			close(bfd);
		return;
	}
	p->fds[p->nfds++] = cfd;
	p->fds[p->nfds++] = bfd;
}

static void *proxy_main(void *arg)
{
	struct proxy *p = arg;
	struct pollfd pfd[65];
	char buf[65536];
	ssize_t n;
	int i, np;

	while (!p->stop) {
		if (p->cut) {
			while (p->nfds)
				proxy_drop_pair(p, 0);
			p->cut = 0;
		}
		np = 0;
		for (i = 0; i < p->nfds; i++)
			pfd[np++] = (struct pollfd){ .fd = p->fds[i],
				.events = p->freeze ? 0 : POLLIN };
		pfd[np++] = (struct pollfd){ .fd = p->lfd, .events = POLLIN };
		if (poll(pfd, (nfds_t)np, 10) <= 0)
			continue;
		if (pfd[np - 1].revents)
			proxy_accept(p);
		for (i = 0; i < p->nfds; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p->fds[i], buf, sizeof(buf));
			if (n > 0 && (i & 1) && p->mute)
				continue;       /* the broker's words are lost */
			if (n <= 0 || write(p->fds[i ^ 1], buf, (size_t)n) != n) {
				proxy_drop_pair(p, i);
				break; /* indexes moved: poll again */
			}
		}
	}
	while (p->nfds)
		proxy_drop_pair(p, 0);
	close(p->lfd);
	return NULL;
}

static int proxy_start(struct proxy *p)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(p, 0, sizeof(*p));
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(p->lfd, 16) < 0 ||
	    getsockname(p->lfd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	p->port = ntohs(a.sin_port);
	return pthread_create(&p->th, NULL, proxy_main, p) == 0 ? 0 : -1;
}

/* Cuts every relayed connection, and waits until the proxy has. */
static void proxy_cut(struct proxy *p)
{
	p->cut = 1;
	while (p->cut)
		usleep(1000);
}

static void proxy_stop(struct proxy *p)
{
	p->stop = 1;
	pthread_join(p->th, NULL);
}

static char *url_with_port(int port)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "amqp://%s:%d/%s", g_host, port,
		    strcmp(g_vhost, "/") ? g_vhost : "");
	return strbuf_detach(&sb, NULL);
}

/* A port nothing listens on (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- completions ---- */

/* The outcome of an asynchronous request. */
struct outcome {
	bool done;
	int err;
	json_t *result;
	struct rpc_error e;
};

static void record(void *ctx, int err, json_t *result, const struct rpc_error *e)
{
	struct outcome *o = ctx;

	o->done = true;
	o->err = err;
	o->result = result ? json_incref(result) : NULL;
	if (e)
		o->e = *e;
}

/* ---- the tests ---- */

struct world {
	struct rpc_bus *client;       /* novafs */
	struct server a, b, f;        /* node1, node2, node3 (fanout only) */
};

static void test_calls(struct world *w)
{
	struct rpc_error e = { 0 };
	struct variant v;
	json_t *args, *res = NULL;
	long long t0;
	int rc;

	args = json_pack("{s:s}", "text", "h\xc3\xa9llo \xe2\x98\x83 \xe6\x97\xa5\xe6\x9c\xac");
	rc = rpc_call_wait(w->client, &st_echo, &to_node1, args, &res, &e);
	CHECK_MSG(rc == 0, "call echo to compute.node1: %d %s", rc, e.message);
	CHECK_STR(json_string_value(json_object_get(res, "echoed")),
		  "h\xc3\xa9llo \xe2\x98\x83 \xe6\x97\xa5\xe6\x9c\xac");
	CHECK_STR(json_string_value(json_object_get(res, "by")), "node1");
	json_decref(res);
	res = NULL;
	rc = rpc_call_wait(w->client, &st_echo, NULL, args, &res, &e);
	CHECK_MSG(rc == 0 && json_is_object(res), "call to the shared queue compute");
	json_decref(res);
	res = NULL;
	json_decref(args);
	rc = rpc_call_wait(w->client, &st_echo, &to_node1, NULL, &res, &e);
	CHECK_MSG(rc == 0 && json_is_null(json_object_get(res, "echoed")),
		  "call with NULL args: %s", e.message);
	json_decref(res);
	res = NULL;

	rc = rpc_call_wait(w->client, &st_fail, &to_node1, NULL, &res, &e);
	CHECK_INT(rc, -EHOSTUNREACH);
	CHECK_INT(e.err, -EHOSTUNREACH);
	CHECK_STR(e.cls, "NoValidHost");
	CHECK_STR(e.message, "no host");
	CHECK(res == NULL);
	rc = rpc_call_wait(w->client, &st_errno_only, &to_node1, NULL, &res, &e);
	CHECK_INT(rc, -ENOENT);
	CHECK_STR(e.cls, "NotFound");
	CHECK_STR(e.message, strerror(ENOENT));

	/* The dispatcher's refusals, as oslo's. */
	rc = rpc_call_wait(w->client, variant(&v, &st_echo, "nosuch", NULL, NULL,
					      false), &to_node1, NULL, &res, &e);
	CHECK_INT(rc, -EOPNOTSUPP);
	CHECK_STR(e.cls, "NoSuchMethod");
	CHECK_STR(e.message, "Endpoint does not support RPC method nosuch");
	rc = rpc_call_wait(w->client, variant(&v, &st_echo, NULL, "2.0", NULL,
					      false), &to_node1, NULL, &res, &e);
	CHECK_INT(rc, -EPROTONOSUPPORT);
	CHECK_STR(e.cls, "UnsupportedVersion");
	CHECK_STR(e.message, "Endpoint does not support RPC version 2.0. Attempted method: echo");
	rc = rpc_call_wait(w->client, variant(&v, &st_echo, NULL, "1.4", NULL,
					      false), &to_node1, NULL, &res, &e);
	CHECK_STR(e.message, "Endpoint does not support RPC version 1.4. Attempted method: echo");
	rc = rpc_call_wait(w->client, variant(&v, &st_echo, NULL, "1.3", NULL,
					      false), &to_node1, NULL, &res, &e);
	CHECK_MSG(rc == 0, "version 1.3 is served: %s", e.message);
	json_decref(res);
	res = NULL;
	rc = rpc_call_wait(w->client, variant(&v, &st_echo, NULL, NULL, "baseapi",
					      false), &to_node1, NULL, &res, &e);
	CHECK_STR(e.message, "Endpoint does not support RPC version 1.0. Attempted method: echo");
	rc = rpc_call_wait(w->client, variant(&v, &st_echo, "nosuch", "2.1", NULL,
					      false), &to_node1, NULL, &res, &e);
	CHECK_MSG(rc == -EPROTONOSUPPORT, "an unknown method in an unserved version is UnsupportedVersion: %s",
		  e.message);

	/* Contracts both ways. */
	args = json_pack("{s:i}", "text", 5);
	rc = rpc_call_wait(w->client, &st_echo, &to_node1, args, &res, &e);
	CHECK_MSG(rc == -EINVAL && strcmp(e.message, "echo: text: must be a string") == 0,
		  "bad args never leave: %s", e.message);
	rc = rpc_call_wait(w->client, variant(&v, &st_echo, NULL, NULL, NULL, true),
			   &to_node1, args, &res, &e);
	CHECK_MSG(rc == -EINVAL && strcmp(e.cls, "InvalidInput") == 0,
		  "bad args are refused by the server: %s", e.message);
	json_decref(args);
	rc = rpc_call_wait(w->client, &st_bad_result, &to_node1, NULL, &res, &e);
	CHECK_MSG(rc == -EPROTO && strcmp(e.cls, "InvalidReply") == 0,
		  "a result outside the declaration is not sent: %s: %s", e.cls,
		  e.message);
	variant(&v, &st_echo, NULL, NULL, NULL, false);
	v.m.result = &(const struct rpc_field){ NULL, RPC_T_STRING };
	rc = rpc_call_wait(w->client, &v.m, &to_node1, NULL, &res, &e);
	CHECK_MSG(rc == -EPROTO && strcmp(e.cls, "InvalidReply") == 0,
		  "nor taken: %s", e.message);
	rc = rpc_cast_wait(w->client, &st_echo, &to_node1, NULL, &e);
	CHECK_MSG(rc == -EINVAL, "a call method is not cast");

	/* Nothing consumes: the broker says so at once. */
	t0 = clock_mono_ms();
	rc = rpc_call_wait(w->client, &st_echo,
			   &(const struct rpc_send){ .server = "nobody" }, NULL,
			   &res, &e);
	CHECK_INT(rc, -EHOSTDOWN);
	CHECK_STR(e.cls, "ServiceUnavailable");
	CHECK_MSG(clock_mono_ms() - t0 < 1000, "a call to nobody fails at once (%lld ms)",
		  clock_mono_ms() - t0);
	t0 = clock_mono_ms();
	args = json_pack("{s:i}", "n", 1);
	rc = rpc_cast_wait(w->client, &st_note,
			   &(const struct rpc_send){ .server = "nobody" }, args, &e);
	json_decref(args);
	CHECK_INT(rc, -EHOSTDOWN);
	CHECK_MSG(clock_mono_ms() - t0 < 1000, "a cast to nobody fails at once (%lld ms)",
		  clock_mono_ms() - t0);
	rc = rpc_call_wait(w->client, &st_echo, &to_node1, NULL, &res, &e);
	CHECK_MSG(rc == 0, "and the connection is fine after: %s", e.message);
	json_decref(res);
	res = NULL;
}

static void test_timeouts(struct world *w)
{
	struct rpc_send s = { .server = "node1", .timeout_ms = 500 };
	struct rpc_error e = { 0 };
	json_t *args, *res = NULL;
	long long t0;
	int rc;

	/* Timeout, then the late reply must not answer the next call. */
	args = json_pack("{s:i}", "ms", 1500);
	t0 = clock_mono_ms();
	rc = rpc_call_wait(w->client, &st_sleep, &s, args, &res, &e);
	CHECK_INT(rc, -ETIMEDOUT);
	CHECK_STR(e.cls, "MessagingTimeout");
	CHECK_MSG(clock_mono_ms() - t0 >= 490 && clock_mono_ms() - t0 < 1400,
		  "timed out after 500 ms (%lld ms)", clock_mono_ms() - t0);
	json_decref(args);
	run_for(1200);
	args = json_pack("{s:s}", "text", "after-timeout");
	rc = rpc_call_wait(w->client, &st_echo, &to_node1, args, &res, &e);
	CHECK_MSG(rc == 0, "a call after a timeout: %s", e.message);
	CHECK_STR(json_string_value(json_object_get(res, "echoed")), "after-timeout");
	json_decref(res);
	res = NULL;
	json_decref(args);

	/* oslo's call monitor: a handler busy for 3.5 s sends heartbeats
	 * every second to a caller that gives up after 2 s of silence. */
	s = (struct rpc_send){ .server = "node1", .timeout_ms = 10000,
			       .monitor_ms = 2000 };
	args = json_pack("{s:i}", "ms", 3500);
	t0 = clock_mono_ms();
	rc = rpc_call_wait(w->client, &st_sleep, &s, args, &res, &e);
	CHECK_MSG(rc == 0 && clock_mono_ms() - t0 >= 3400,
		  "heartbeats keep a monitored call alive (%d %s, %lld ms)", rc,
		  e.message, clock_mono_ms() - t0);
	json_decref(res);
	res = NULL;
	/* _timeout 1: oslo sends none under a second, so the monitor fires. */
	s.monitor_ms = 1000;
	t0 = clock_mono_ms();
	rc = rpc_call_wait(w->client, &st_sleep, &s, args, &res, &e);
	CHECK_MSG(rc == -ETIMEDOUT && clock_mono_ms() - t0 < 2000,
		  "no heartbeat under a second: the monitor gives up (%d, %lld ms)",
		  rc, clock_mono_ms() - t0);
	json_decref(args);
	run_for(2600); /* the late reply comes and is dropped */
}

static void test_casts_and_fanouts(struct world *w)
{
	struct rpc_error e = { 0 };
	json_t *args, *res = NULL;
	int rc, before = w->a.notes, i, calls_ab;

	args = json_pack("{s:i}", "n", 1);
	rc = rpc_cast_wait(w->client, &st_note, &to_node1, args, &e);
	CHECK_MSG(rc == 0, "cast note, confirmed: %s", e.message);
	CHECK_MSG(RUN_UNTIL(5000, w->a.notes == before + 1), "cast delivered");
	json_decref(args);

	rc = rpc_cast_wait(w->client, &st_ping, NULL, NULL, &e);
	CHECK_MSG(rc == 0, "fanout, confirmed: %s", e.message);
	CHECK_MSG(RUN_UNTIL(5000, w->a.pings == 1 && w->b.pings == 1 && w->f.pings == 1),
		  "the fanout reached node1, node2 and the fanout-only node3 (%d %d %d)",
		  w->a.pings, w->b.pings, w->f.pings);

	/* node3 listens to the fanout only: the topic's calls are not its. */
	calls_ab = w->a.calls + w->b.calls;
	for (i = 0; i < 20; i++) {
		rc = rpc_call_wait(w->client, &st_echo, NULL, NULL, &res, &e);
		json_decref(res);
		res = NULL;
		if (rc < 0)
			break;
	}
	CHECK_MSG(rc == 0, "20 calls to the shared queue: %s", e.message);
	CHECK_INT(w->a.calls + w->b.calls - calls_ab, 20);
	CHECK_INT(w->f.calls, 0);
	CHECK_MSG(w->a.calls > 1 && w->b.calls > 1, "the shared queue is shared (%d, %d)",
		  w->a.calls, w->b.calls);
}

/* A note for node1 as a peer would publish it: a fresh _unique_id. */
static char *note_body(int n)
{
	char id[UUID_HEX_LEN];
	json_t *args = json_pack("{s:i}", "n", n);
	char *body;

	uuid_generate_hex(id);
	body = envelope("note", args, id, true);
	json_decref(args);
	return body;
}

static int publish(struct rpc_bus *bus, const char *exchange, const char *body,
		   const char *user_id, struct rpc_error *e)
{
	return rpc_publish_raw_wait(bus, exchange, "compute.node1", body,
				    strlen(body), user_id, e);
}

/* Raw publishes: duplicates, garbage, and senders that may not. */
static void test_raw(struct world *w, struct rpc_bus *scheduler,
		     struct rpc_bus *peer, struct rpc_bus *node2)
{
	char *dup = note_body(100), *next = note_body(101), *forged[3];
	const char *novafs = rpc_bus_user(w->client);
	struct rpc_error e = { 0 };
	json_t *args;
	int rc, notes, i;

	for (i = 0; i < 3; i++)
		forged[i] = note_body(102 + i);
	notes = w->a.notes;
	rc = publish(w->client, "novafs", dup, novafs, &e);
	rc |= publish(w->client, "novafs", dup, novafs, &e);
	rc |= publish(w->client, "novafs", "not json", novafs, &e);
	/* Refused by node1, not by the broker: the default exchange reaches
	 * any queue, whatever topic permissions say. */
	rc |= publish(scheduler, "", forged[0], rpc_bus_user(scheduler), &e);
	rc |= publish(node2, "", forged[1], rpc_bus_user(node2), &e);
	rc |= publish(peer, "", forged[2], NULL, &e);
	rc |= publish(w->client, "novafs", next, novafs, &e);
	CHECK_MSG(rc == 0, "raw publishes taken: %s", e.message);
	CHECK_MSG(RUN_UNTIL(5000, w->a.last_n == 101), "messages after the duplicate arrived");
	run_for(200);
	CHECK_INT(w->a.dup_hits, 1);
	CHECK_MSG(w->a.notes - notes == 2,
		  "a duplicate, garbage and three forgeries changed nothing (%d notes)",
		  w->a.notes - notes);

	/* The broker refuses a user_id that is not the publisher's. */
	rc = publish(scheduler, "", forged[0], "novafs", &e);
	CHECK_MSG(rc == -EACCES && strstr(e.message, "user_id"),
		  "a forged user_id: %d %s", rc, e.message);
	CHECK_MSG(RUN_UNTIL(5000, rpc_bus_connected(scheduler)),
		  "the refused bus reconnects");
	/* And an exchange, or a routing key, the user may not publish to. */
	args = json_pack("{s:i}", "n", 7);
	rc = rpc_cast_wait(scheduler, &st_note, &to_node1, args, &e);
	CHECK_MSG(rc == -EACCES && strcmp(e.cls, "NotAuthorized") == 0 &&
		  strstr(e.message, "exchange 'novafs'"),
		  "scheduler may not publish to novafs: %d %s", rc, e.message);
	rc = rpc_cast_wait(node2, &st_note, &to_node1, args, &e);
	CHECK_MSG(rc == -EACCES && strstr(e.message, "topic 'compute.node1'"),
		  "node2 may not use the key compute.node1: %d %s", rc, e.message);
	json_decref(args);
	CHECK_MSG(RUN_UNTIL(5000, rpc_bus_connected(scheduler) &&
				  rpc_bus_connected(node2)),
		  "and both reconnect");
	run_for(200);
	CHECK_MSG(w->a.notes - notes == 2, "and nothing reached node1");
	free(dup);
	free(next);
	for (i = 0; i < 3; i++)
		free(forged[i]);
}

/* Our messages and queues, seen from the wire. */
static void test_wire(struct world *w, struct rpc_bus *peer)
{
	amqp_connection_state_t raw = raw_open();
	amqp_basic_properties_t *p;
	struct rpc_send sniff = { .server = "sniff", .timeout_ms = 300 };
	struct rpc_error e = { 0 };
	struct outcome noted = { 0 };
	amqp_envelope_t env;
	amqp_rpc_reply_t r;
	struct timeval tv = { 5, 0 };
	char reply_q[256] = "", want[64];
	json_t *outer, *msg, *payload, *args;
	int rc, i;

	CHECK(raw != NULL);
	if (!raw)
		return;
	CHECK(amqp_queue_declare(raw, 1, amqp_cstring_bytes("compute.sniff"), 0, 0,
				 0, 1, amqp_empty_table) != NULL);
	CHECK(amqp_queue_bind(raw, 1, amqp_cstring_bytes("compute.sniff"),
			      amqp_cstring_bytes("novafs"),
			      amqp_cstring_bytes("compute.sniff"), amqp_empty_table) != NULL);
	CHECK(amqp_queue_bind(raw, 1, amqp_cstring_bytes("compute.sniff"),
			      amqp_cstring_bytes("novafs"),
			      amqp_cstring_bytes("notifications.info"),
			      amqp_empty_table) != NULL);
	CHECK(amqp_basic_consume(raw, 1, amqp_cstring_bytes("compute.sniff"),
				 amqp_empty_bytes, 0, 1, 0, amqp_empty_table) != NULL);

	args = json_pack("{s:i}", "n", 1);
	rc = rpc_cast_wait(w->client, &st_note, &sniff, args, &e);
	json_decref(args);
	CHECK_MSG(rc == 0, "cast to a raw consumer: %s", e.message);
	rc = rpc_call_wait(w->client, &st_echo, &sniff, NULL, NULL, &e);
	CHECK_INT(rc, -ETIMEDOUT);
	payload = json_pack("{s:s}", "state", "active");
	rc = rpc_notify(peer, "compute.node1", "instance.update", "info", payload,
			record, &noted, &e);
	json_decref(payload);
	CHECK_MSG(rc == 0 && RUN_UNTIL(5000, noted.done) && noted.err == 0,
		  "notify: %s", rc ? e.message : noted.e.message);
	for (i = 0; i < 3; i++) {
		bool call = i == 1, note = i == 2;

		r = amqp_consume_message(raw, &env, &tv, 0);
		CHECK_MSG(r.reply_type == AMQP_RESPONSE_NORMAL, "raw consume %d", i);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			break;
		p = &env.message.properties;
		CHECK(bytes_is(env.exchange, "novafs"));
		CHECK(bytes_is(env.routing_key, note ? "notifications.info" : "compute.sniff"));
		CHECK((p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG) &&
		      bytes_is(p->content_type, "application/json"));
		CHECK((p->_flags & AMQP_BASIC_CONTENT_ENCODING_FLAG) &&
		      bytes_is(p->content_encoding, "utf-8"));
		CHECK_MSG((p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG) &&
			  p->delivery_mode == (call ? 1 : 2),
			  "delivery_mode %d: persistent but for a call's request",
			  p->delivery_mode);
		CHECK((p->_flags & AMQP_BASIC_PRIORITY_FLAG) && p->priority == 0);
		CHECK((p->_flags & AMQP_BASIC_HEADERS_FLAG) && p->headers.num_entries == 0);
		CHECK_MSG((p->_flags & AMQP_BASIC_USER_ID_FLAG) &&
			  bytes_is(p->user_id, note ? "oslo-peer" : "novafs"),
			  "user_id is the sender's login");
		if (call)
			CHECK_MSG((p->_flags & AMQP_BASIC_EXPIRATION_FLAG) &&
				  bytes_is(p->expiration, "300"), "call expiration \"300\"");
		else
			CHECK_MSG(!(p->_flags & AMQP_BASIC_EXPIRATION_FLAG),
				  "no expiration on a cast or notification");
		outer = json_loadb(env.message.body.bytes, env.message.body.len, 0, NULL);
		msg = json_loads(json_string_value(json_object_get(outer, "oslo.message")),
				 0, NULL);
		CHECK_STR(json_string_value(json_object_get(outer, "oslo.version")), "2.0");
		if (note) {
			CHECK_STR(json_string_value(json_object_get(msg, "event_type")),
				  "instance.update");
			CHECK_STR(json_string_value(json_object_get(msg, "priority")), "INFO");
			CHECK_STR(json_string_value(json_object_get(msg, "publisher_id")),
				  "compute.node1");
		} else {
			CHECK_STR(json_string_value(json_object_get(msg, "version")), "1.0");
			CHECK(json_object_get(msg, "namespace") == NULL);
			CHECK((json_object_get(msg, "_msg_id") != NULL) == call);
			CHECK((json_object_get(msg, "_reply_q") != NULL) == call);
		}
		if (call)
			snprintf(reply_q, sizeof(reply_q), "%s", json_string_value(
				json_object_get(msg, "_reply_q")));
		json_decref(msg);
		json_decref(outer);
		amqp_destroy_envelope(&env);
	}
	raw_close(raw);

	/* Declared with oslo.messaging's exact flags (amqp_durable_queues),
	 * and the broker does refuse others. */
	snprintf(want, sizeof(want), "reply_%s_", rpc_bus_user(w->client));
	CHECK_MSG(strncmp(reply_q, want, strlen(want)) == 0 &&
		  strlen(reply_q) == strlen(want) + 32, "reply queue %s", reply_q);
	CHECK_MSG(raw_queue_like_oslo(reply_q, false, true), "reply queue flags as oslo's");
	CHECK_MSG(raw_queue_like_oslo("compute", true, false), "topic queue flags as oslo's");
	CHECK_MSG(raw_queue_like_oslo("compute.node1", true, false),
		  "server queue flags as oslo's");
	CHECK_MSG(!raw_queue_like_oslo("compute.node1", false, false),
		  "(the broker refuses a non-durable one)");
	CHECK_MSG(raw_exchange_like_oslo("novafs", "topic", true, false),
		  "durable topic exchange as oslo's");
	CHECK_MSG(!raw_exchange_like_oslo("novafs", "topic", false, false),
		  "(the broker refuses a non-durable one)");
	CHECK_MSG(raw_exchange_like_oslo("compute_fanout", "fanout", false, true),
		  "fanout exchange flags as oslo's");
}

static void test_connect_errors(void)
{
	struct identity id;
	struct rpc_bus *bus = NULL;
	struct rpc_error e = { 0 };
	char *url, want[512];
	int rc, port = closed_port();

	if (identity_load(&id, "novafs", g_url) < 0) {
		CHECK_MSG(0, "identity novafs");
		return;
	}
	url = url_with_port(port);
	free(id.cfg.url);
	id.cfg.url = url;
	rc = rpc_bus_new(g_loop, &id.cfg, NULL, &bus, &e);
	CHECK_INT(rc, -ECONNREFUSED);
	CHECK(bus == NULL);
	snprintf(want, sizeof(want), "amqp://novafs@%s:%d/", g_host, port);
	CHECK_MSG(strstr(e.message, want) != NULL, "names %s: %s", want, e.message);
	CHECK_STR(e.cls, "ConnectionError");

	id.cfg.url = strdup(g_url);
	free(url);
	free(id.cfg.password);
	id.cfg.password = strdup("wrong-password");
	rc = rpc_bus_new(g_loop, &id.cfg, NULL, &bus, &e);
	CHECK_MSG(rc == -EACCES && !strstr(e.message, "wrong-password"),
		  "a bad password: %d %s", rc, e.message);

	free(id.cfg.url);
	id.cfg.url = strdup("amqp://novafs:secret@127.0.0.1:5672/");
	rc = rpc_bus_new(g_loop, &id.cfg, NULL, &bus, &e);
	CHECK_MSG(rc == -EINVAL && !strstr(e.message, "secret"),
		  "a URL with credentials is refused: %s", e.message);
	free(id.cfg.url);
	id.cfg.url = strdup("amqp://no-such-host.invalid:5672/");
	rc = rpc_bus_new(g_loop, &id.cfg, NULL, &bus, &e);
	CHECK_MSG(rc == -EHOSTUNREACH, "unknown host: %d %s", rc, e.message);
	free(id.cfg.user);
	id.cfg.user = NULL;
	rc = rpc_bus_new(g_loop, &id.cfg, NULL, &bus, &e);
	CHECK_MSG(rc == -EINVAL, "no user: %d %s", rc, e.message);
	identity_release(&id);
}

/* An idle connection with a 2 s heartbeat, left alone for 7 s: the loop
 * services the heartbeat, so the broker keeps it, and the next call needs
 * no reconnect. */
static void test_idle(struct world *w)
{
	struct watch st = { 0 };
	struct rpc_error e = { 0 };
	struct rpc_bus *bus;
	json_t *res = NULL;
	long long t0;
	int rc;

	bus = bus_for("novafs", NULL, 2, false, &e);
	CHECK_MSG(bus != NULL, "a bus with a 2 s heartbeat: %s", e.message);
	if (!bus)
		return;
	rpc_bus_on_state(bus, on_state, &st);
	run_for(7000);
	CHECK_MSG(st.downs == 0 && rpc_bus_connected(bus),
		  "idle for 7 s (3.5 heartbeats), still connected");
	t0 = clock_mono_ms();
	rc = rpc_call_wait(bus, &st_echo, &to_node1, NULL, &res, &e);
	CHECK_MSG(rc == 0 && st.downs == 0 && st.ups == 0,
		  "the next call needs no reconnect (%lld ms): %s",
		  clock_mono_ms() - t0, e.message);
	json_decref(res);
	rpc_bus_free(bus);
}

/* Through the proxy: connection losses, and what survives them. */
static void test_reconnect(struct world *w)
{
	struct rpc_send slow = { .server = "node1", .timeout_ms = 10000 };
	struct rpc_send held = { .server = "node1", .timeout_ms = 300,
				 .wait_for_bus = true };
	struct outcome casts[5], call = { 0 }, late = { 0 }, waited = { 0 };
	struct watch st = { 0 }, hb = { 0 };
	struct rpc_error e = { 0 };
	struct rpc_bus *bus = NULL, *quiet = NULL;
	struct proxy p;
	json_t *args, *res = NULL;
	int rc, i, notes;
	char *url;

	if (proxy_start(&p) < 0) {
		CHECK_MSG(0, "proxy started");
		return;
	}
	url = url_with_port(p.port);
	bus = bus_for("novafs", url, 0, false, &e);
	CHECK_MSG(bus != NULL, "a bus through the proxy: %s", e.message);
	if (!bus)
		goto out;
	rpc_bus_on_state(bus, on_state, &st);
	rc = rpc_call_wait(bus, &st_echo, &to_node1, NULL, &res, &e);
	CHECK_MSG(rc == 0, "call through the proxy: %s", e.message);
	json_decref(res);
	res = NULL;

	/* Cut: the bus reconnects, declares its queues again, works. */
	proxy_cut(&p);
	CHECK_MSG(RUN_UNTIL(3000, st.downs == 1 && st.ups == 1),
		  "down and up again after a cut (%d, %d)", st.downs, st.ups);
	rc = rpc_call_wait(bus, &st_echo, &to_node1, NULL, &res, &e);
	CHECK_MSG(rc == 0, "call after the cut: %s", e.message);
	json_decref(res);
	res = NULL;

	/* Casts the broker took but whose confirms were lost are sent again
	 * on the next connection, and node1 drops the second copies. */
	notes = w->a.notes;
	p.mute = 1;
	for (i = 0; i < 5; i++) {
		casts[i] = (struct outcome){ 0 };
		args = json_pack("{s:i}", "n", 200 + i);
		rc = rpc_cast(bus, &st_note, &to_node1, args, record, &casts[i], &e);
		json_decref(args);
		CHECK_MSG(rc == 0, "cast %d sent", i);
	}
	CHECK_MSG(RUN_UNTIL(3000, w->a.notes == notes + 5), "node1 got all five");
	run_for(200);
	CHECK_MSG(!casts[0].done && !casts[4].done, "their confirms are lost");
	proxy_cut(&p);
	p.mute = 0;
	CHECK_MSG(RUN_UNTIL(5000, casts[4].done), "confirmed after the reconnect");
	for (i = 0, rc = 0; i < 5; i++)
		rc |= casts[i].err;
	CHECK_INT(rc, 0);
	run_for(300);
	CHECK_MSG(w->a.notes == notes + 5, "each handled once (%d)", w->a.notes - notes);

	/* A reply sent while the caller is away waits in its reply queue. */
	args = json_pack("{s:i}", "ms", 600);
	rc = rpc_call(bus, &st_sleep, &slow, args, record, &call, &e);
	json_decref(args);
	run_for(100);
	p.refuse = 1;
	proxy_cut(&p);
	run_for(1000);
	CHECK_MSG(!call.done && !rpc_bus_connected(bus), "the caller is away");
	p.refuse = 0;
	CHECK_MSG(RUN_UNTIL(8000, call.done), "the call completes after the reconnect");
	CHECK_MSG(call.err == 0 && json_integer_value(json_object_get(call.result,
			"slept")) == 600, "with the reply sent meanwhile: %d %s",
		  call.err, call.e.message);
	json_decref(call.result);

	/* The bus down: requests fail at once with ENETDOWN, except casts
	 * that wait for the bus, until their deadline. */
	p.refuse = 1;
	proxy_cut(&p);
	CHECK_MSG(RUN_UNTIL(2000, !rpc_bus_connected(bus)), "disconnected");
	args = json_pack("{s:i}", "n", 300);
	rc = rpc_cast(bus, &st_note, &to_node1, args, record, &late, &e);
	CHECK_MSG(rc == -ENETDOWN && strcmp(e.cls, "ConnectionError") == 0,
		  "a cast fails at once: %d %s", rc, e.message);
	rc = rpc_call(bus, &st_echo, &to_node1, NULL, record, &late, &e);
	CHECK_INT(rc, -ENETDOWN);
	rc = rpc_cast(bus, &st_note, &held, args, record, &late, &e);
	CHECK_MSG(rc == 0, "a cast that waits for the bus is taken");
	CHECK_MSG(RUN_UNTIL(2000, late.done) && late.err == -ETIMEDOUT,
		  "and times out while the bus is down: %d %s", late.err,
		  late.e.message);
	held.timeout_ms = 10000;
	notes = w->a.notes;
	rc = rpc_cast(bus, &st_note, &held, args, record, &waited, &e);
	json_decref(args);
	run_for(300);
	p.refuse = 0;
	CHECK_MSG(RUN_UNTIL(8000, waited.done) && waited.err == 0,
		  "or is sent once the bus is back: %d %s", waited.err,
		  waited.e.message);
	CHECK_MSG(RUN_UNTIL(2000, w->a.notes == notes + 1), "and delivered");

	/* A broker that falls silent is given up after two heartbeats. */
	quiet = bus_for("novafs", url, 2, false, &e);
	CHECK_MSG(quiet != NULL, "a bus with a 2 s heartbeat: %s", e.message);
	if (quiet) {
		rpc_bus_on_state(quiet, on_state, &hb);
		p.freeze = 1;
		CHECK_MSG(RUN_UNTIL(8000, hb.downs == 1),
			  "a silent broker is given up (%d)", hb.downs);
		p.freeze = 0;
		proxy_cut(&p);
		CHECK_MSG(RUN_UNTIL(8000, hb.ups == 1), "and found again");
	}
out:
	rpc_bus_free(quiet);
	rpc_bus_free(bus);
	proxy_stop(&p);
	free(url);
}

/* ---- every declared method, through its declaration ---- */

/* A value that keeps field's declaration: the least it allows. */
static json_t *example(const struct rpc_field *f)
{
	const struct rpc_field *m;
	char text[64];
	json_t *v;
	long long i;

	switch (f->type) {
	case RPC_T_STRING:
		i = f->min < (long long)sizeof(text) ? f->min : (long long)sizeof(text) - 1;
		memset(text, 'x', (size_t)i);
		text[i] = '\0';
		return json_string(text);
	case RPC_T_INT:
		return json_integer(f->min);
	case RPC_T_BOOL:
		return json_true();
	case RPC_T_ENUM:
		return json_string(f->values[0]);
	case RPC_T_UUID:
		return json_string("6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6b");
	case RPC_T_NAME:
	case RPC_T_HOST:
		/* The host that serves below, so that sender rules hold. */
		return json_string("node5");
	case RPC_T_OBJECT:
		v = json_object();
		for (m = f->members; m && m->name; m++)
			if (!(m->flags & RPC_OPTIONAL))
				json_object_set_new(v, m->name, example(m));
		return v;
	case RPC_T_ARRAY:
		v = json_array();
		for (i = 0; i < f->min; i++)
			json_array_append_new(v, example(&f->members[0]));
		return v;
	case RPC_T_ANY:
	case RPC_T_NULL:
		break;
	}
	return json_null();
}

/* What the walk's servers saw. */
struct walk {
	const struct rpc_method_decl *last;
	json_t *args;
	int handled;
};

static void walked(void *ctx, struct rpc_request *req)
{
	struct walk *w = ctx;
	const struct rpc_method_decl *m = rpc_request_method(req);
	json_t *result = m->result ? example(m->result) : NULL;

	w->last = m;
	json_decref(w->args);
	w->args = json_incref(rpc_request_args(req));
	w->handled++;
	if (json_is_null(result)) {
		json_decref(result);
		result = NULL;
	}
	rpc_request_done(req, result, NULL);
}

/* The user who sends m: novafs when it may, else a compute host. */
static const char *sender_of(const struct rpc_method_decl *m)
{
	if (m->senders & RPC_ROLE_API)
		return "novafs";
	if (m->senders & RPC_ROLE_COMPUTE)
		return "compute-node5";
	return m->senders & RPC_ROLE_SCHEDULER ? "scheduler" : "network";
}

/* The user that serves svc on host node5. */
static const char *server_of(const struct rpc_service_decl *svc)
{
	if (svc->role & RPC_ROLE_COMPUTE)
		return "compute-node5";
	if (svc->role & RPC_ROLE_NETWORK)
		return "network";
	return svc->role & RPC_ROLE_SCHEDULER ? "scheduler" : "novafs";
}

#define WALK_SERVICES 8
#define WALK_METHODS 16

/* Sends m as its sender would, through its declaration, and checks that
 * the server got exactly that through the same declaration. */
static void walk_one(const struct rpc_method_decl *m, struct walk *w)
{
	const struct rpc_field all = { NULL, RPC_T_OBJECT, 0, 0, 0, NULL, m->args };
	/* As the services send: to a compute host by name, to the others'
	 * shared queues. */
	const struct rpc_send s = {
		.server = m->service->role & RPC_ROLE_COMPUTE ? "node5" : NULL,
	};
	json_t *args = example(&all), *res = NULL, *want;
	struct rpc_error e = { 0 };
	struct rpc_bus *bus;
	int before = w->handled, rc;

	bus = bus_for(sender_of(m), NULL, 0, false, &e);
	if (!bus) {
		CHECK_MSG(0, "%s: a bus as %s: %s", m->name, sender_of(m), e.message);
		json_decref(args);
		return;
	}
	if (m->kind == RPC_CALL)
		rc = rpc_call_wait(bus, m, &s, args, &res, &e);
	else
		rc = rpc_cast_wait(bus, m, m->kind == RPC_FANOUT ? NULL : &s, args, &e);
	CHECK_MSG(rc == 0, "%s.%s sent by %s: %s", m->service->topic, m->name,
		  sender_of(m), e.message);
	CHECK_MSG(RUN_UNTIL(5000, w->handled > before) && w->last == m &&
		  json_equal(w->args, args), "%s handled through its declaration",
		  m->name);
	if (m->kind == RPC_CALL) {
		want = example(m->result);
		CHECK_MSG(json_is_null(want) ? res == NULL : json_equal(res, want),
			  "%s: its result came back", m->name);
		json_decref(want);
	}
	json_decref(res);
	json_decref(args);
	rpc_bus_free(bus);
}

/* Every method of rpc_services, each service served on node5 by its own
 * user. */
static void test_every_method(void)
{
	static struct rpc_handler tables[WALK_SERVICES][WALK_METHODS];
	const struct rpc_service_decl *const *svc;
	const struct rpc_method_decl *const *m;
	struct rpc_bus *servers[WALK_SERVICES] = { NULL };
	struct walk w = { 0 };
	struct rpc_error e = { 0 };
	size_t i, n, methods = 0;
	int rc = 0;

	for (i = 0, svc = rpc_services; *svc && i < WALK_SERVICES && rc == 0;
	     svc++, i++) {
		for (n = 0, m = (*svc)->methods; *m && n < WALK_METHODS - 1; m++, n++)
			tables[i][n] = (struct rpc_handler){ *m, walked };
		tables[i][n] = (struct rpc_handler){ NULL, NULL };
		servers[i] = bus_for(server_of(*svc), NULL, 0, false, &e);
		rc = servers[i] ? rpc_serve(servers[i], *svc, "node5", tables[i],
					    &w, &e) : -1;
		CHECK_MSG(rc == 0, "%s serves %s as node5: %s", server_of(*svc),
			  (*svc)->topic, e.message);
	}
	for (svc = rpc_services; *svc && rc == 0; svc++)
		for (m = (*svc)->methods; *m; m++, methods++)
			walk_one(*m, &w);
	CHECK_MSG(rc < 0 || (methods > 0 && w.handled == (int)methods),
		  "every declared method was walked (%zu)", methods);
	for (i = 0; i < WALK_SERVICES; i++)
		rpc_bus_free(servers[i]);
	json_decref(w.args);
}

static int by_value(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

#define MEASURE_N 500

/* Prints the p50, p99 and mean of n durations (ns) as one TAP comment. */
static void print_figures(const char *what, long long *ns, int n)
{
	long long sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += ns[i];
	qsort(ns, (size_t)n, sizeof(*ns), by_value);
	printf("# %s: p50=%.1f p99=%.1f mean=%.1f us n=%d\n", what,
	       ns[n / 2] / 1e3, ns[n * 99 / 100] / 1e3, sum / 1e3 / n, n);
}

/* Measures a call round trip and a confirmed cast, one at a time, as
 * bench/amqp_floor measures the raw floors; printed as TAP comments. */
static void measure(struct world *w)
{
	static long long ns[MEASURE_N];
	struct rpc_error e = { 0 };
	json_t *args = json_pack("{s:i}", "n", 1), *res = NULL;
	long long t0;
	int i, rc = 0;

	for (i = 0; i < MEASURE_N && rc == 0; i++) {
		t0 = clock_mono_ns();
		rc = rpc_call_wait(w->client, &st_echo, &to_node1, NULL, &res, &e);
		ns[i] = clock_mono_ns() - t0;
		json_decref(res);
		res = NULL;
	}
	CHECK_MSG(rc == 0, "%d calls: %s", MEASURE_N, e.message);
	print_figures("call round trip", ns, i);
	for (i = 0; i < MEASURE_N && rc == 0; i++) {
		t0 = clock_mono_ns();
		rc = rpc_cast_wait(w->client, &st_note, &to_node1, args, &e);
		ns[i] = clock_mono_ns() - t0;
	}
	CHECK_MSG(rc == 0, "%d confirmed casts: %s", MEASURE_N, e.message);
	print_figures("confirmed cast", ns, i);
	json_decref(args);
	run_for(200);
}

static int parse_url(const char *url)
{
	struct amqp_connection_info info;
	char *copy = strdup(url);
	int rc;

	rc = amqp_parse_url(copy, &info);
	if (rc == AMQP_STATUS_OK) {
		snprintf(g_host, sizeof(g_host), "%s", info.host);
		snprintf(g_vhost, sizeof(g_vhost), "%s",
			 info.vhost && info.vhost[0] ? info.vhost : "/");
		g_port = info.port;
	}
	free(copy);
	return rc;
}

static int serve(struct server *s, const char *host, const char *user,
		 bool anonymous_ok, bool fanout_only)
{
	struct rpc_error e = { 0 };
	int rc;

	s->host = host;
	s->bus = bus_for(user, NULL, 0, anonymous_ok, &e);
	if (!s->bus) {
		printf("# %s: %s\n", user, e.message);
		return -1;
	}
	rc = fanout_only ?
	     rpc_subscribe(s->bus, &st_service, RPC_SUB_FANOUT, NULL, st_handlers,
			   s, &e) :
	     rpc_serve(s->bus, &st_service, host, st_handlers, s, &e);
	if (rc < 0)
		printf("# %s: %s\n", user, e.message);
	return rc;
}

/* rpc_selftest serve: node1's test service for Python peers, which send
 * no user_id, until SIGTERM. */
static int serve_forever(void)
{
	struct server a = { 0 };
	sigset_t set;
	int rc;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	rc = serve(&a, "node1", "compute-node1", true, false);
	if (rc == 0) {
		fprintf(stderr, "serving\n");
		while (sigtimedwait(&set, NULL, &(struct timespec){ 0, 0 }) < 0)
			loop_run_once(g_loop, 100);
	}
	rpc_bus_free(a.bus);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct world w = { 0 };
	struct rpc_bus *scheduler = NULL, *peer = NULL, *node2 = NULL;
	struct rpc_error e = { 0 };
	bool serving = argc > 1 && strcmp(argv[1], "serve") == 0;
	int rc, status;

	if (serving) {
		argc--;
		argv++;
	}
	g_url = argc > 1 ? argv[1] : getenv("AMQP_URL");
	g_etc = argc > 2 ? argv[2] : getenv("BROKER_ETC");
	if (!g_url || !g_etc || parse_url(g_url) != AMQP_STATUS_OK) {
		printf("# usage: rpc_selftest [serve] [AMQP_URL [ETC_DIR]]\n");
		printf("not ok 1 - an AMQP URL and the identities' directory\n1..1\n");
		return 1;
	}
	log_setup("rpc_selftest", getenv("RPC_SELFTEST_DEBUG") ? LOG_LVL_DEBUG :
		  LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	if (loop_new(&g_loop) < 0)
		return 1;
	if (serving) {
		status = serve_forever();
		loop_free(g_loop);
		return status;
	}

	w.client = bus_for("novafs", NULL, 0, false, &e);
	CHECK_MSG(w.client != NULL, "connect as novafs to %s: %s", g_url, e.message);
	rc = w.client ? 0 : -1;
	if (rc == 0)
		rc = serve(&w.a, "node1", "compute-node1", false, false);
	if (rc == 0)
		rc = serve(&w.b, "node2", "compute-node2", false, false);
	if (rc == 0)
		rc = serve(&w.f, "node3", "compute-node3", false, true);
	CHECK_MSG(rc == 0, "node1 and node2 serve, node3 listens to the fanout");
	scheduler = bus_for("scheduler", NULL, 0, false, &e);
	peer = bus_for("oslo-peer", NULL, 0, false, &e);
	node2 = bus_for("compute-node2", NULL, 0, false, &e);
	CHECK_MSG(scheduler && peer && node2, "buses as scheduler, oslo-peer, node2");
	if (rc == 0 && scheduler && peer && node2) {
		test_calls(&w);
		test_timeouts(&w);
		test_casts_and_fanouts(&w);
		test_raw(&w, scheduler, peer, node2);
		test_wire(&w, peer);
		test_every_method();
		test_idle(&w);
		test_reconnect(&w);
		measure(&w);
	}
	test_connect_errors();
	rpc_bus_free(scheduler);
	rpc_bus_free(peer);
	rpc_bus_free(node2);
	rpc_bus_free(w.f.bus);
	rpc_bus_free(w.b.bus);
	rpc_bus_free(w.a.bus);
	rpc_bus_free(w.client);
	loop_free(g_loop);
	return test_done();
}
