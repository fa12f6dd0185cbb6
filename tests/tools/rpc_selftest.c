/*
 * rpc_selftest - the rpc/ library against a real RabbitMQ, in TAP.
 *
 *   rpc_selftest [AMQP_URL]      (default: $AMQP_URL)
 *
 * One process: server threads, each owning its own connection and
 * rpc_server (as the daemons do), and the main thread as the client.  It
 * checks what unit tests cannot: routing, replies, remote failures, the
 * at-once ServiceUnavailable, timeouts and late replies, fanout, duplicate
 * suppression, the AMQP properties and queue flags on the wire (read back
 * with raw librabbitmq, and re-declared with oslo.messaging's flags, which
 * the broker refuses if ours differ), connect errors, and reconnection
 * through a TCP proxy whose connections the test cuts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
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

#include "../unit/testhelp.h"
#include "envelope.h"
#include "rpc.h"
#include "strbuf.h"
#include "uuid.h"

#define TOPIC "selftest"

static const char *g_url;
static char g_host[256], g_user[128], g_pass[128], g_vhost[128];
static int g_port;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Polls cond every 10 ms for up to ms; true when it held. */
#define WAIT_FOR(ms, cond) ({                                            \
	long long dl_ = now_ms() + (ms);                                 \
	while (!(cond) && now_ms() < dl_)                                \
		sleep_ms(10);                                            \
	(cond);                                                          \
})

/* ---- a server thread ---- */

struct srv_ctx {
	const char *name;
	_Atomic int notes;       /* "note" casts */
	_Atomic int fanouts;     /* "ping" fanout casts */
	_Atomic int dup_hits;    /* "note" with n == 100 */
	_Atomic int last_n;
	_Atomic int calls;
};

static int h_echo(void *ctx, json_t *args, json_t **result, struct rpc_error *e)
{
	struct srv_ctx *s = ctx;

	s->calls++;
	*result = json_pack("{s:O, s:s}", "echoed",
			    json_object_get(args, "text") ?
			    json_object_get(args, "text") : json_null(),
			    "by", s->name);
	return 0;
}

static int h_fail(void *ctx, json_t *args, json_t **result, struct rpc_error *e)
{
	return rpc_error_set(e, -EHOSTUNREACH, "NoValidHost", "no host");
}

static int h_errno_only(void *ctx, json_t *args, json_t **result,
			struct rpc_error *e)
{
	return -ENOENT; /* no class, no message: both derived */
}

static int h_sleep(void *ctx, json_t *args, json_t **result, struct rpc_error *e)
{
	int ms = (int)json_integer_value(json_object_get(args, "ms"));

	sleep_ms(ms);
	*result = json_pack("{s:i}", "slept", ms);
	return 0;
}

static int h_note(void *ctx, json_t *args, json_t **result, struct rpc_error *e)
{
	struct srv_ctx *s = ctx;
	int n = (int)json_integer_value(json_object_get(args, "n"));

	s->notes++;
	if (n == 100)
		s->dup_hits++;
	s->last_n = n;
	return 0;
}

static int h_ping(void *ctx, json_t *args, json_t **result, struct rpc_error *e)
{
	struct srv_ctx *s = ctx;

	s->fanouts++;
	return 0;
}

static const struct rpc_method methods[] = {
	{ "echo", h_echo },
	{ "fail", h_fail },
	{ "errno_only", h_errno_only },
	{ "sleep", h_sleep },
	{ "note", h_note },
	{ "ping", h_ping },
	{ NULL, NULL },
};

struct srv_thread {
	pthread_t th;
	const char *url, *topic, *server;
	struct srv_ctx ctx;
	_Atomic int ready;       /* 1 serving, -1 failed to start */
	_Atomic int stop;
	_Atomic int errors;      /* rpc_server_poll failures */
	_Atomic int polls_ok;    /* successful polls after the last error */
	struct rpc_error err;
};

static void *srv_main(void *arg)
{
	struct srv_thread *t = arg;
	struct rpc_conn *conn = NULL;
	struct rpc_server *srv = NULL;
	struct rpc_error e = { 0 };
	int rc;

	rc = rpc_connect(t->url, NULL, &conn, &t->err);
	if (rc == 0)
		rc = rpc_server_new(conn, t->topic, t->server, methods, &t->ctx,
				    &srv, &t->err);
	if (rc < 0) {
		fprintf(stderr, "server %s: %s: %s\n", t->ctx.name, t->err.cls,
			t->err.message);
		t->ready = -1;
		goto out;
	}
	t->ready = 1;
	while (!t->stop) {
		rc = rpc_server_poll(srv, 50, &e);
		if (rc < 0) {
			t->errors++;
			t->polls_ok = 0;
			t->err = e;
			sleep_ms(50); /* back off, as a daemon would */
		} else {
			t->polls_ok++;
		}
	}
out:
	rpc_server_free(srv);
	rpc_close(conn);
	return NULL;
}

static int srv_start(struct srv_thread *t, const char *url, const char *topic,
		     const char *server, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->url = url;
	t->topic = topic;
	t->server = server;
	t->ctx.name = name;
	if (pthread_create(&t->th, NULL, srv_main, t) != 0)
		return -1;
	WAIT_FOR(10000, t->ready != 0);
	return t->ready == 1 ? 0 : -1;
}

static void srv_stop(struct srv_thread *t)
{
	t->stop = 1;
	pthread_join(t->th, NULL);
}

/* ---- raw librabbitmq, to see the wire ---- */

static amqp_connection_state_t raw_open(void)
{
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *s = amqp_tcp_socket_new(c);
	amqp_rpc_reply_t r;

	if (!s || amqp_socket_open(s, g_host, g_port) != AMQP_STATUS_OK)
		goto fail;
	r = amqp_login(c, g_vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, g_user,
		       g_pass);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		goto fail;
	amqp_channel_open(c, 1);
	if (amqp_get_rpc_reply(c).reply_type != AMQP_RESPONSE_NORMAL)
		goto fail;
	return c;
fail:
	amqp_destroy_connection(c);
	return NULL;
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

/* Re-declares a queue with exactly the flags in the oslo vectors; the
 * broker refuses (406) when ours were different. */
static bool raw_declare_like_oslo(const char *queue, bool ttl)
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
	ok = amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 0, 0, 0, 0, args) != NULL;
	raw_close(c);
	return ok;
}

static bool raw_exchange_like_oslo(const char *name, const char *type,
				   bool auto_delete)
{
	amqp_connection_state_t c = raw_open();
	bool ok;

	if (!c)
		return false;
	ok = amqp_exchange_declare(c, 1, amqp_cstring_bytes(name),
				   amqp_cstring_bytes(type), 0, 0, auto_delete, 0,
				   amqp_empty_table) != NULL;
	raw_close(c);
	return ok;
}

/* ---- a TCP proxy whose connections the test can cut ---- */

struct proxy {
	pthread_t th;
	int lfd, port;
	int fds[64];        /* pairs: fds[2i] client side, fds[2i+1] broker */
	int nfds;
	_Atomic int cut;    /* request: close every relayed connection */
	_Atomic int close_listener;
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
	bfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)g_port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bfd < 0 || connect(bfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    p->nfds + 2 > 64) {
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
		if (p->close_listener && p->lfd >= 0) {
			close(p->lfd);
			p->lfd = -1;
			p->close_listener = 0;
		}
		np = 0;
		for (i = 0; i < p->nfds; i++)
			pfd[np++] = (struct pollfd){ .fd = p->fds[i], .events = POLLIN };
		if (p->lfd >= 0)
			pfd[np++] = (struct pollfd){ .fd = p->lfd, .events = POLLIN };
		if (poll(pfd, (nfds_t)np, 20) <= 0)
			continue;
		if (p->lfd >= 0 && pfd[np - 1].revents)
			proxy_accept(p);
		for (i = 0; i < p->nfds; i++) {
			if (!pfd[i].revents)
				continue;
			n = read(p->fds[i], buf, sizeof(buf));
			if (n <= 0 || write(p->fds[i ^ 1], buf, (size_t)n) != n) {
				proxy_drop_pair(p, i);
				break; /* indexes moved: poll again */
			}
		}
	}
	while (p->nfds)
		proxy_drop_pair(p, 0);
	if (p->lfd >= 0)
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

static void proxy_cut(struct proxy *p)
{
	p->cut = 1;
	WAIT_FOR(2000, p->cut == 0);
}

static void proxy_stop(struct proxy *p)
{
	p->stop = 1;
	pthread_join(p->th, NULL);
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

static char *make_url(const char *pass, int port)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "amqp://%s:%s@%s:%d/%s", g_user, pass, g_host, port,
		    strcmp(g_vhost, "/") ? g_vhost : "");
	return strbuf_detach(&sb, NULL);
}

/* ---- the tests ---- */

static void test_calls(struct rpc_conn *c, struct srv_thread *a)
{
	struct rpc_error e = { 0 };
	json_t *args, *res = NULL;
	long long t0;
	int rc;

	args = json_pack("{s:s}", "text", "hello");
	memset(&e, 0, sizeof(e));
	rc = rpc_call(c, TOPIC, "hostA", "echo", args, 5000, &res, &e);
	CHECK_MSG(rc == 0, "call echo to %s.hostA: %d %s %s", TOPIC, rc, e.cls, e.message);
	CHECK_STR(json_string_value(json_object_get(res, "echoed")), "hello");
	CHECK_STR(json_string_value(json_object_get(res, "by")), "A");
	json_decref(res);
	res = NULL;

	rc = rpc_call(c, TOPIC, NULL, "echo", args, 5000, &res, &e);
	CHECK_MSG(rc == 0 && json_is_object(res), "call to the shared topic queue");
	json_decref(res);
	res = NULL;
	rc = rpc_call(c, TOPIC, "hostA", "echo", NULL, 5000, NULL, &e);
	CHECK_MSG(rc == 0, "call with NULL args and NULL result");
	json_decref(args);

	memset(&e, 0, sizeof(e));
	rc = rpc_call(c, TOPIC, "hostA", "fail", NULL, 5000, &res, &e);
	CHECK_INT(rc, -EHOSTUNREACH);
	CHECK_INT(e.err, -EHOSTUNREACH);
	CHECK_STR(e.cls, "NoValidHost");
	CHECK_STR(e.message, "no host");
	CHECK(res == NULL);

	rc = rpc_call(c, TOPIC, "hostA", "errno_only", NULL, 5000, &res, &e);
	CHECK_INT(rc, -ENOENT);
	CHECK_STR(e.cls, "NotFound");
	CHECK_STR(e.message, strerror(ENOENT));

	rc = rpc_call(c, TOPIC, "hostA", "nosuch", NULL, 5000, &res, &e);
	CHECK_INT(rc, -EOPNOTSUPP);
	CHECK_STR(e.cls, "NoSuchMethod");
	CHECK_STR(e.message, "Endpoint does not support RPC method nosuch");

	t0 = now_ms();
	rc = rpc_call(c, "nobody", NULL, "echo", NULL, 5000, &res, &e);
	CHECK_INT(rc, -EHOSTDOWN);
	CHECK_STR(e.cls, "ServiceUnavailable");
	CHECK_MSG(now_ms() - t0 < 1000, "no consumer fails at once (%lld ms)",
		  now_ms() - t0);
	rc = rpc_call(c, TOPIC, "hostZ", "echo", NULL, 5000, &res, &e);
	CHECK_INT(rc, -EHOSTDOWN);
	t0 = now_ms();
	rc = rpc_cast(c, "nobody", NULL, "note", NULL, &e);
	CHECK_INT(rc, -EHOSTDOWN);
	CHECK_STR(e.cls, "ServiceUnavailable");
	CHECK_MSG(now_ms() - t0 < 1000, "cast to nobody fails at once");
	/* ... and the connection is still fine after the 404s. */
	rc = rpc_call(c, TOPIC, "hostA", "echo", NULL, 5000, NULL, &e);
	CHECK_MSG(rc == 0, "call after ServiceUnavailable: %d %s", rc, rc ? e.message : "");

	/* Timeout, then the late reply must not answer the next call. */
	args = json_pack("{s:i}", "ms", 1500);
	t0 = now_ms();
	rc = rpc_call(c, TOPIC, "hostA", "sleep", args, 500, &res, &e);
	CHECK_INT(rc, -ETIMEDOUT);
	CHECK_STR(e.cls, "MessagingTimeout");
	CHECK_MSG(now_ms() - t0 >= 450 && now_ms() - t0 < 1400,
		  "timed out after ~500 ms (%lld ms)", now_ms() - t0);
	json_decref(args);
	args = json_pack("{s:s}", "text", "after-timeout");
	rc = rpc_call(c, TOPIC, "hostA", "echo", args, 5000, &res, &e);
	CHECK_MSG(rc == 0, "call after a timeout: %d %s", rc, rc ? e.message : "");
	CHECK_STR(json_string_value(json_object_get(res, "echoed")), "after-timeout");
	json_decref(res);
	res = NULL;
	json_decref(args);
	(void)a;
}

static void test_casts(struct rpc_conn *c, struct srv_thread *a,
		       struct srv_thread *b)
{
	struct rpc_error e = { 0 };
	json_t *args;
	int rc, before;

	before = a->ctx.notes;
	args = json_pack("{s:i}", "n", 1);
	rc = rpc_cast(c, TOPIC, "hostA", "note", args, &e);
	CHECK_MSG(rc == 0, "cast note: %d %s", rc, rc ? e.message : "");
	CHECK_MSG(WAIT_FOR(5000, a->ctx.notes == before + 1), "cast delivered");
	json_decref(args);

	rc = rpc_fanout_cast(c, TOPIC, "ping", NULL, &e);
	CHECK_MSG(rc == 0, "fanout cast: %d %s", rc, rc ? e.message : "");
	CHECK_MSG(WAIT_FOR(5000, a->ctx.fanouts == 1 && b->ctx.fanouts == 1),
		  "fanout reached both servers (%d, %d)", a->ctx.fanouts,
		  b->ctx.fanouts);
	rc = rpc_fanout_cast(c, "nobody", "ping", NULL, &e);
	CHECK_MSG(rc == 0, "fanout cast without listeners is fine");
	rc = rpc_call(c, TOPIC, "hostA", "echo", NULL, 5000, NULL, &e);
	CHECK_MSG(rc == 0, "connection fine after fanouts: %s", rc ? e.message : "");
}

static void test_duplicates(struct srv_thread *a)
{
	amqp_connection_state_t raw = raw_open();
	struct rpc_envelope_request req = { 0 };
	struct strbuf body = STRBUF_INIT;
	amqp_basic_properties_t p;
	char id1[UUID_HEX_LEN], id2[UUID_HEX_LEN];
	json_t *args;
	int i;

	CHECK(raw != NULL);
	if (!raw)
		return;
	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = 2;
	uuid_generate_hex(id1);
	uuid_generate_hex(id2);
	req.method = "note";
	req.unique_id = id1;
	args = json_pack("{s:i}", "n", 100);
	req.args = args;
	rpc_envelope_encode_request(&req, &body, NULL);
	for (i = 0; i < 2; i++)
		amqp_basic_publish(raw, 1, amqp_cstring_bytes(RPC_DEFAULT_EXCHANGE),
				   amqp_cstring_bytes(TOPIC ".hostA"), 0, 0, &p,
				   (amqp_bytes_t){ body.len, body.buf });
	json_decref(args);
	strbuf_reset(&body);
	args = json_pack("{s:i}", "n", 101);
	req.args = args;
	req.unique_id = id2;
	rpc_envelope_encode_request(&req, &body, NULL);
	amqp_basic_publish(raw, 1, amqp_cstring_bytes(RPC_DEFAULT_EXCHANGE),
			   amqp_cstring_bytes(TOPIC ".hostA"), 0, 0, &p,
			   (amqp_bytes_t){ body.len, body.buf });
	/* Garbage is dropped, not redelivered forever. */
	amqp_basic_publish(raw, 1, amqp_cstring_bytes(RPC_DEFAULT_EXCHANGE),
			   amqp_cstring_bytes(TOPIC ".hostA"), 0, 0, &p,
			   amqp_cstring_bytes("not json"));
	json_decref(args);
	strbuf_release(&body);
	CHECK_MSG(WAIT_FOR(5000, a->ctx.last_n == 101), "messages after the duplicate arrived");
	CHECK_INT(a->ctx.dup_hits, 1);
	raw_close(raw);
}

/* Our messages and queues, seen from the wire. */
static void test_wire(struct rpc_conn *c)
{
	amqp_connection_state_t raw = raw_open();
	struct rpc_envelope_request req;
	amqp_basic_properties_t *p;
	amqp_envelope_t env;
	amqp_rpc_reply_t r;
	struct timeval tv = { 5, 0 };
	struct rpc_error e = { 0 };
	char reply_q[128] = "";
	int rc, i;

	CHECK(raw != NULL);
	if (!raw)
		return;
	CHECK(amqp_queue_declare(raw, 1, amqp_cstring_bytes("sniff"), 0, 0, 0, 1,
				 amqp_empty_table) != NULL);
	CHECK(amqp_queue_bind(raw, 1, amqp_cstring_bytes("sniff"),
			      amqp_cstring_bytes(RPC_DEFAULT_EXCHANGE),
			      amqp_cstring_bytes("sniff"), amqp_empty_table) != NULL);
	CHECK(amqp_basic_consume(raw, 1, amqp_cstring_bytes("sniff"), amqp_empty_bytes,
				 0, 1, 0, amqp_empty_table) != NULL);

	rc = rpc_cast(c, "sniff", NULL, "m", NULL, &e);
	CHECK_MSG(rc == 0, "cast to a raw consumer: %d %s", rc, rc ? e.message : "");
	rc = rpc_call(c, "sniff", NULL, "m", NULL, 300, NULL, &e);
	CHECK_INT(rc, -ETIMEDOUT);
	for (i = 0; i < 2; i++) {
		bool call = i == 1;

		r = amqp_consume_message(raw, &env, &tv, 0);
		CHECK_MSG(r.reply_type == AMQP_RESPONSE_NORMAL, "raw consume %d", i);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			break;
		p = &env.message.properties;
		CHECK(bytes_is(env.exchange, RPC_DEFAULT_EXCHANGE));
		CHECK(bytes_is(env.routing_key, "sniff"));
		CHECK((p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG) &&
		      bytes_is(p->content_type, "application/json"));
		CHECK((p->_flags & AMQP_BASIC_CONTENT_ENCODING_FLAG) &&
		      bytes_is(p->content_encoding, "utf-8"));
		CHECK((p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG) && p->delivery_mode == 2);
		CHECK((p->_flags & AMQP_BASIC_PRIORITY_FLAG) && p->priority == 0);
		CHECK((p->_flags & AMQP_BASIC_HEADERS_FLAG) && p->headers.num_entries == 0);
		if (call)
			CHECK_MSG((p->_flags & AMQP_BASIC_EXPIRATION_FLAG) &&
				  bytes_is(p->expiration, "300"), "call expiration \"300\"");
		else
			CHECK_MSG(!(p->_flags & AMQP_BASIC_EXPIRATION_FLAG),
				  "no expiration on a cast");
		rc = rpc_envelope_decode_request(env.message.body.bytes,
						 env.message.body.len, &req, &e);
		CHECK_INT(rc, 0);
		if (rc == 0) {
			CHECK((req.msg_id != NULL) == call);
			CHECK((req.reply_q != NULL) == call);
			if (call)
				snprintf(reply_q, sizeof(reply_q), "%s", req.reply_q);
			rpc_envelope_request_release(&req);
		}
		amqp_destroy_envelope(&env);
	}
	raw_close(raw);

	/* Declared with oslo.messaging's exact flags, as the vectors show. */
	CHECK_MSG(strncmp(reply_q, "reply_", 6) == 0 && strlen(reply_q) == 38,
		  "reply queue name %s", reply_q);
	CHECK_MSG(raw_declare_like_oslo(reply_q, true), "reply queue flags match oslo");
	CHECK_MSG(raw_declare_like_oslo(TOPIC, false), "topic queue flags match oslo");
	CHECK_MSG(raw_declare_like_oslo(TOPIC ".hostA", false),
		  "server queue flags match oslo");
	CHECK_MSG(raw_exchange_like_oslo(RPC_DEFAULT_EXCHANGE, "topic", false),
		  "topic exchange flags match oslo");
	CHECK_MSG(raw_exchange_like_oslo(TOPIC "_fanout", "fanout", true),
		  "fanout exchange flags match oslo");
	CHECK_MSG(!raw_exchange_like_oslo(TOPIC "_fanout", "fanout", false),
		  "(and the broker does refuse other flags)");
}

static void test_connect_errors(void)
{
	struct rpc_conn *c = NULL;
	struct rpc_error e = { 0 };
	char *url, want[512];
	int rc, port = closed_port();

	url = make_url(g_pass, port);
	memset(&e, 0, sizeof(e));
	rc = rpc_connect(url, NULL, &c, &e);
	CHECK_INT(rc, -ECONNREFUSED);
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "amqp://%s@%s:%d/", g_user, g_host, port);
	CHECK_MSG(strstr(e.message, want) != NULL, "message names %s: %s", want,
		  e.message);
	snprintf(want, sizeof(want), ":%s@", g_pass);
	CHECK_MSG(strstr(e.message, want) == NULL, "message hides the password");
	CHECK_STR(e.cls, "ConnectionError");
	free(url);

	url = make_url("wrong-password", g_port);
	rc = rpc_connect(url, NULL, &c, &e);
	CHECK_MSG(rc == -EACCES, "bad password: %d %s", rc, e.message);
	CHECK(strstr(e.message, "wrong-password") == NULL);
	free(url);

	rc = rpc_connect("http://nope", NULL, &c, &e);
	CHECK_INT(rc, -EINVAL);
	rc = rpc_connect("amqp://u:secret@host:notaport/", NULL, &c, &e);
	CHECK_INT(rc, -EINVAL);
	CHECK_MSG(strstr(e.message, "amqp://u:***@host:notaport/") &&
		  !strstr(e.message, "secret"), "malformed URL named, masked: %s",
		  e.message);
	rc = rpc_connect("amqp://guest:guest@no-such-host.invalid:5672/", NULL, &c, &e);
	CHECK_MSG(rc == -EHOSTUNREACH, "unknown host: %d %s", rc, e.message);
}

/* Reconnection: everything through a proxy whose connections we cut. */
static void test_reconnect(struct rpc_conn *direct)
{
	struct srv_thread px_srv;
	struct rpc_conn *c = NULL;
	struct rpc_error e = { 0 };
	struct proxy p;
	json_t *res = NULL, *args;
	long long t0;
	char *url;
	int rc, errs;

	if (proxy_start(&p) < 0) {
		CHECK_MSG(0, "proxy started");
		return;
	}
	url = make_url(g_pass, p.port);
	rc = rpc_connect(url, NULL, &c, &e);
	CHECK_MSG(rc == 0, "connect through the proxy: %d %s", rc, e.message);
	rc = srv_start(&px_srv, url, TOPIC "_px", NULL, "PX");
	CHECK_MSG(rc == 0, "server through the proxy");
	if (!c || rc < 0)
		goto out;

	args = json_pack("{s:s}", "text", "one");
	rc = rpc_call(c, TOPIC, "hostA", "echo", args, 5000, &res, &e);
	CHECK_MSG(rc == 0, "call through the proxy: %s", e.message);
	json_decref(res);
	res = NULL;
	rc = rpc_call(direct, TOPIC "_px", NULL, "echo", args, 5000, &res, &e);
	CHECK_MSG(rc == 0, "call to the proxied server: %s", e.message);
	json_decref(res);
	res = NULL;

	proxy_cut(&p);
	sleep_ms(100);
	/* The client notices the dead socket before sending, reconnects. */
	rc = rpc_call(c, TOPIC, "hostA", "echo", args, 5000, &res, &e);
	CHECK_MSG(rc == 0, "call after the broker connection was cut: %d %s",
		  rc, rc ? e.message : "");
	CHECK_STR(json_string_value(json_object_get(res, "echoed")), "one");
	json_decref(res);
	res = NULL;
	/* The server re-declared its queue and consumes again. */
	t0 = now_ms();
	do {
		rc = rpc_call(direct, TOPIC "_px", NULL, "echo", args, 2000, &res, &e);
	} while (rc == -EHOSTDOWN && now_ms() - t0 < 5000 && (sleep_ms(50), 1));
	CHECK_MSG(rc == 0, "the server answers after reconnecting: %d %s", rc,
		  rc ? e.message : "");
	json_decref(res);
	res = NULL;

	/* Broker gone for good: -ENOTCONN, for client and server. */
	p.close_listener = 1;
	WAIT_FOR(2000, p.close_listener == 0);
	proxy_cut(&p);
	sleep_ms(100);
	errs = px_srv.errors;
	rc = rpc_cast(c, TOPIC, "hostA", "note", NULL, &e);
	CHECK_INT(rc, -ENOTCONN);
	CHECK_STR(e.cls, "ConnectionError");
	rc = rpc_call(c, TOPIC, "hostA", "echo", NULL, 1000, NULL, &e);
	CHECK_INT(rc, -ENOTCONN);
	CHECK_MSG(WAIT_FOR(3000, px_srv.errors > errs), "server poll reports the loss");
	CHECK_INT(px_srv.err.err, -ENOTCONN);
	json_decref(args);
out:
	if (px_srv.th)
		srv_stop(&px_srv);
	rpc_close(c);
	proxy_stop(&p);
	free(url);
}

static int parse_url(const char *url)
{
	struct amqp_connection_info info;
	char *copy = strdup(url);
	int rc;

	rc = amqp_parse_url(copy, &info);
	if (rc == AMQP_STATUS_OK) {
		snprintf(g_host, sizeof(g_host), "%s", info.host);
		snprintf(g_user, sizeof(g_user), "%s", info.user);
		snprintf(g_pass, sizeof(g_pass), "%s", info.password);
		snprintf(g_vhost, sizeof(g_vhost), "%s", info.vhost);
		g_port = info.port;
	}
	free(copy);
	return rc;
}

int main(int argc, char **argv)
{
	struct srv_thread a, b;
	struct rpc_conn *c = NULL;
	struct rpc_error e = { 0 };
	int rc;

	g_url = argc > 1 ? argv[1] : getenv("AMQP_URL");
	if (!g_url || parse_url(g_url) != AMQP_STATUS_OK) {
		printf("# usage: rpc_selftest AMQP_URL (or set AMQP_URL)\n");
		printf("not ok 1 - an AMQP URL\n1..1\n");
		return 1;
	}
	rc = rpc_connect(g_url, NULL, &c, &e);
	CHECK_MSG(rc == 0, "rpc_connect %s: %d %s", g_url, rc, rc ? e.message : "");
	if (rc < 0)
		return test_done();
	rc = srv_start(&a, g_url, TOPIC, "hostA", "A");
	CHECK_MSG(rc == 0, "server A started");
	rc |= srv_start(&b, g_url, TOPIC, "hostB", "B");
	CHECK_MSG(rc == 0, "server B started");
	if (rc == 0) {
		test_calls(c, &a);
		test_casts(c, &a, &b);
		test_duplicates(&a);
		test_wire(c);
		test_reconnect(c);
	}
	test_connect_errors();
	srv_stop(&a);
	srv_stop(&b);
	rpc_close(c);
	return test_done();
}
