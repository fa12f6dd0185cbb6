/*
 * placement.c - placement throughput: select_destinations calls, many in
 * flight, answered by a real novafs-scheduler that hears 100 compute
 * hosts reporting, against the same calls answered by a trivial server.
 *
 * usage: AMQP_URL=amqp://USER:PASS@HOST:PORT/VHOST placement sched HOSTS N INFLIGHT
 *        AMQP_URL=amqp://USER:PASS@HOST:PORT/VHOST placement floor N INFLIGHT
 *        (the URL comes from the environment: no credentials on a
 *        command line)
 *
 * sched: speaks for HOSTS simulated compute hosts, sim000, sim001, ...:
 *   fans out their heartbeats (update_service_capabilities 1.1) to the
 *   scheduler, first all at once, then every REPORT_MS, each host
 *   reporting as used, and listing in "instances", the instances placed
 *   on it so far, as a compute host that started them at once would.
 *   Once the scheduler knows every host (a call forced to the last one
 *   succeeds), calls select_destinations for N new instances on topic
 *   scheduler, INFLIGHT at a time, and prints
 *     placements_per_s=X p50_us=Y p99_us=Z n=N hosts=H inflight=K per_host=MIN..MAX
 * floor: the same N calls, INFLIGHT at a time, to a queue of its own that
 *   a server thread, on its own connection, consumes: it opens each
 *   request's envelope and answers it at once with a fixed result.  That
 *   is the least an oslo.messaging call costs on this broker with this
 *   client; prints
 *     calls_per_s=X p50_us=Y p99_us=Z n=N inflight=K
 *
 * Messages are oslo.messaging's (the 2.0 envelope, _msg_id, _reply_q,
 * replies through the default exchange), written here with jansson.  They
 * carry no user_id, as an oslo.messaging peer's: the broker has users for
 * compute-node1..9 only, and 100 connections, one per host user, would
 * measure the broker's connections rather than placement.  So the
 * scheduler must run with allow_peers_without_user_id, on a vhost of its
 * own (bench/run.sh does both).  Exit status 1 on any failure, a
 * NoValidHost included.
 *
 * Build: gcc -std=c11 -D_GNU_SOURCE -O2 $(pkg-config --cflags librabbitmq jansson) \
 *        -o placement placement.c $(pkg-config --libs librabbitmq jansson) -pthread
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "amqp.h"
#include "samples.h"

#define EXCHANGE "novafs"            /* the control exchange */
#define REPORT_MS 1000               /* how often the hosts report */
#define REPORT_INTERVAL_S 2          /* what they say (live for 3 times that) */
#define REPLY_TIMEOUT_S 10           /* no reply for this long is a failure */
#define WARMUP_S 20                  /* for the scheduler to hear every host */
#define FLOOR_QUEUE_EXPIRES_MS 60000

/* A simulated host, as big as a large compute node, so that thousands of
 * instances of the flavor fit with the default allocation ratios. */
#define HOST_VCPUS 64
#define HOST_MEMORY_MB 262144
#define HOST_DISK_GB 10000
#define FLAVOR_VCPUS 1
#define FLAVOR_MEMORY_MB 512
#define FLAVOR_DISK_GB 10

/* One side's connection, and what makes its messages unique. */
struct endpoint {
	amqp_connection_state_t c;
	char prefix[25];            /* 24 hex digits of this run */
	unsigned long unique;       /* _unique_id counter */
};

struct host {
	char name[16];
	long *instances;            /* indexes of the instances placed here */
	long n, alloc;
};

struct run {
	struct endpoint ep;
	char reply_q[48];
	struct host *hosts;
	int nhosts;
	double *sent_us;            /* when call i was sent */
	double *lat;                /* its round trip; < 0 until answered */
};

/* The UUID of instance i of this run. */
static void instance_uuid(const struct endpoint *ep, long i, char out[37])
{
	snprintf(out, 37, "%.8s-%.4s-4%.3s-8%.3s-%012lx", ep->prefix, ep->prefix + 8,
		 ep->prefix + 12, ep->prefix + 15, (unsigned long)i);
}

/* Publishes msg (stolen; NULL is out of memory) in oslo's envelope to
 * exchange with key.  Returns 0, or -EIO (reported). */
static int publish(struct endpoint *ep, const char *exchange, const char *key,
		   json_t *msg, bool persistent)
{
	amqp_basic_properties_t p;
	char *inner = NULL, *body = NULL;
	json_t *outer = NULL;
	int rc = -EIO;

	if (!msg ||
	    json_object_set_new(msg, "_unique_id",
				json_sprintf("%s%08lx", ep->prefix, ep->unique++)) < 0 ||
	    !(inner = json_dumps(msg, JSON_COMPACT)) ||
	    !(outer = json_pack("{s:s, s:s}", "oslo.version", "2.0",
				"oslo.message", inner)) ||
	    !(body = json_dumps(outer, JSON_COMPACT))) {
		fprintf(stderr, "placement: out of memory\n");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = persistent ? 2 : 1;
	if (amqp_basic_publish(ep->c, BENCH_CHANNEL, amqp_cstring_bytes(exchange),
			       amqp_cstring_bytes(key), 0, 0, &p,
			       amqp_cstring_bytes(body)) != AMQP_STATUS_OK) {
		fprintf(stderr, "placement: publish to %s failed\n",
			*exchange ? exchange : key);
		goto out;
	}
	rc = 0;
out:
	free(body);
	json_decref(outer);
	free(inner);
	json_decref(msg);
	return rc;
}

/* The message inside an oslo envelope, or NULL. */
static json_t *open_envelope(amqp_bytes_t body)
{
	json_t *outer = json_loadb(body.bytes, body.len, 0, NULL);
	const char *inner = json_string_value(json_object_get(outer, "oslo.message"));
	json_t *msg = inner ? json_loads(inner, 0, NULL) : NULL;

	json_decref(outer);
	return msg;
}

/* s, or dflt when s is NULL. */
static const char *or_else(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

/* --- the floor's server ----------------------------------------------- */

struct floor {
	const struct amqp_connection_info *ci;
	char queue[64];
	pthread_t thread;
	atomic_int stop;
	atomic_int failed;
};

/* Answers one request at once, as any oslo.messaging server must: to its
 * _reply_q, with its _msg_id and a result. */
static int floor_answer(struct endpoint *ep, amqp_bytes_t body)
{
	json_t *req = open_envelope(body);
	const char *id = json_string_value(json_object_get(req, "_msg_id"));
	const char *reply_q = json_string_value(json_object_get(req, "_reply_q"));
	int rc = -EPROTO;

	if (id && reply_q)
		rc = publish(ep, "", reply_q,
			     json_pack("{s:{s:s, s:{s:i, s:i, s:i}}, s:n, s:b, s:s}",
				       "result", "host", "sim000", "limits",
				       "vcpus", HOST_VCPUS * 16, "memory_mb", HOST_MEMORY_MB,
				       "disk_gb", HOST_DISK_GB, "failure", "ending", 1,
				       "_msg_id", id), false);
	json_decref(req);
	return rc;
}

static void *floor_serve(void *arg)
{
	struct floor *f = arg;
	struct endpoint ep = { bench_amqp_connect(f->ci), "floor", 0 };
	struct timeval tv = { 0, 100000 };  /* how often stop is checked */
	amqp_envelope_t env;
	amqp_rpc_reply_t r;

	if (!ep.c)
		goto fail;
	amqp_basic_consume(ep.c, BENCH_CHANNEL, amqp_cstring_bytes(f->queue),
			   amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
	if (bench_amqp_check(amqp_get_rpc_reply(ep.c), "floor: basic.consume") < 0)
		goto fail;
	while (!atomic_load(&f->stop)) {
		amqp_maybe_release_buffers(ep.c);
		r = amqp_consume_message(ep.c, &env, &tv, 0);
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_TIMEOUT)
			continue;
		if (bench_amqp_check(r, "floor: consume") < 0)
			goto fail;
		if (floor_answer(&ep, env.message.body) < 0)
			fprintf(stderr, "placement: floor: cannot answer a request\n");
		amqp_destroy_envelope(&env);
	}
	bench_amqp_close(ep.c);
	return NULL;
fail:
	atomic_store(&f->failed, 1);
	bench_amqp_close(ep.c);
	return NULL;
}

/* Declares the floor's queue (on the client's connection, so that requests
 * wait there until the server consumes) and starts the server. */
static int floor_start(struct floor *f, struct run *r)
{
	amqp_table_entry_t expires = { amqp_cstring_bytes("x-expires"),
				       { AMQP_FIELD_KIND_I32, { .i32 = FLOOR_QUEUE_EXPIRES_MS } } };
	amqp_table_t args = { 1, &expires };

	snprintf(f->queue, sizeof(f->queue), "placement_floor.%ld", (long)getpid());
	amqp_queue_declare(r->ep.c, BENCH_CHANNEL, amqp_cstring_bytes(f->queue),
			   0, 0, 0, 1, args);
	if (bench_amqp_check(amqp_get_rpc_reply(r->ep.c), "floor queue.declare") < 0)
		return -EPROTO;
	if (pthread_create(&f->thread, NULL, floor_serve, f) != 0) {
		fprintf(stderr, "placement: cannot start the floor's server\n");
		return -EAGAIN;
	}
	return 0;
}

/* --- the client ------------------------------------------------------- */

/* Host h's heartbeat: its capacity, and the instances placed on it. */
static int report(struct run *r, const struct host *h)
{
	json_t *list = json_array();
	char uuid[37];
	long i;

	for (i = 0; list && i < h->n; i++) {
		instance_uuid(&r->ep, h->instances[i], uuid);
		json_array_append_new(list, json_string(uuid));
	}
	return publish(&r->ep, "scheduler_fanout", "scheduler",
		       json_pack("{s:s, s:s, s:{s:s, s:s, s:b, s:i, s:i, s:I, s:i, s:I, s:i, s:I, s:s, s:o}}",
				 "method", "update_service_capabilities", "version", "1.1",
				 "args", "binary", "novafs-compute", "host", h->name,
				 "up", 1, "report_interval", REPORT_INTERVAL_S,
				 "vcpus", HOST_VCPUS,
				 "vcpus_used", (json_int_t)(h->n * FLAVOR_VCPUS),
				 "memory_mb", HOST_MEMORY_MB,
				 "memory_mb_used", (json_int_t)(h->n * FLAVOR_MEMORY_MB),
				 "disk_gb", HOST_DISK_GB,
				 "disk_gb_used", (json_int_t)(h->n * FLAVOR_DISK_GB),
				 "hypervisor_type", "QEMU", "instances", list), true);
}

static int report_all(struct run *r)
{
	int i;

	for (i = 0; i < r->nhosts; i++)
		if (report(r, &r->hosts[i]) < 0)
			return -EIO;
	return 0;
}

/* Calls select_destinations for instance i, forced to host force unless
 * it is NULL, through exchange with key. */
static int call(struct run *r, const char *exchange, const char *key, long i,
		const char *force)
{
	char uuid[37];
	json_t *args;

	instance_uuid(&r->ep, i, uuid);
	args = json_pack("{s:s, s:{s:s, s:i, s:i, s:i}}", "instance_uuid", uuid,
			 "flavor", "name", "m1.tiny", "vcpus", FLAVOR_VCPUS,
			 "memory_mb", FLAVOR_MEMORY_MB, "disk_gb", FLAVOR_DISK_GB);
	if (args && force)
		json_object_set_new(args, "force_host", json_string(force));
	r->sent_us[i] = now_us();
	return publish(&r->ep, exchange, key,
		       json_pack("{s:s, s:o, s:s, s:o, s:s}", "method",
				 "select_destinations", "args", args, "version", "1.1",
				 "_msg_id", json_sprintf("%s%08lx", r->ep.prefix, i),
				 "_reply_q", r->reply_q), false);
}

/* Records that instance i went to the host called name. */
static int place(struct run *r, long i, const char *name)
{
	struct host *h;
	int k = name && strncmp(name, "sim", 3) == 0 ? atoi(name + 3) : -1;

	if (k < 0 || k >= r->nhosts) {
		fprintf(stderr, "placement: instance %ld went to %s, not a simulated host\n",
			i, name ? name : "(none)");
		return -EPROTO;
	}
	h = &r->hosts[k];
	if (h->n == h->alloc) {
		long alloc = h->alloc ? h->alloc * 2 : 64;
		long *p = realloc(h->instances, (size_t)alloc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		h->instances = p;
		h->alloc = alloc;
	}
	h->instances[h->n++] = i;
	return 0;
}

/*
 * Waits up to tv for the next reply.  Returns 1 and sets *i to the call it
 * answers and host to its result's host ("" in none) when it is a final
 * reply; 0 when none came in time or it was an interim one; -EREMOTEIO
 * with the failure in why (its class and message); -EPROTO (reported)
 * when the connection failed or the reply is not oslo's.
 */
static int next_reply(struct run *r, struct timeval *tv, long *i,
		      char host[64], char why[600])
{
	amqp_envelope_t env;
	amqp_rpc_reply_t res;
	json_t *msg, *failure;
	const char *id;
	int rc = -EPROTO;

	amqp_maybe_release_buffers(r->ep.c);
	res = amqp_consume_message(r->ep.c, &env, tv, 0);
	if (res.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    res.library_error == AMQP_STATUS_TIMEOUT)
		return 0;
	if (bench_amqp_check(res, "waiting for replies") < 0)
		return -EPROTO;
	msg = open_envelope(env.message.body);
	amqp_destroy_envelope(&env);
	id = json_string_value(json_object_get(msg, "_msg_id"));
	failure = json_object_get(msg, "failure");
	if (!id || strlen(id) != 32 || strncmp(id, r->ep.prefix, 24) != 0) {
		fprintf(stderr, "placement: a reply to no call of this run\n");
		goto out;
	}
	*i = strtol(id + 24, NULL, 16);
	if (json_is_false(json_object_get(msg, "ending"))) {
		rc = 0;
	} else if (failure && !json_is_null(failure)) {
		json_t *f = json_loads(or_else(json_string_value(failure), ""), 0, NULL);

		snprintf(why, 600, "%s: %s",
			 or_else(json_string_value(json_object_get(f, "class")), "?"),
			 or_else(json_string_value(json_object_get(f, "message")), "?"));
		json_decref(f);
		rc = -EREMOTEIO;
	} else {
		snprintf(host, 64, "%s", or_else(json_string_value(json_object_get(
				 json_object_get(msg, "result"), "host")), ""));
		rc = 1;
	}
out:
	json_decref(msg);
	return rc;
}

/* Until the scheduler has heard every host: a call forced to the last
 * one, as instance n, until it succeeds; it is then placed there. */
static int warm_up(struct run *r, long n)
{
	const char *last = r->hosts[r->nhosts - 1].name;
	double deadline = now_us() + WARMUP_S * 1e6;
	char host[64], why[600] = "no reply";
	struct timeval tv;
	long i;
	int rc;

	while (now_us() < deadline) {
		if (call(r, EXCHANGE, "scheduler", n, last) < 0)
			return -EIO;
		do {
			tv = (struct timeval){ REPLY_TIMEOUT_S, 0 };
			rc = next_reply(r, &tv, &i, host, why);
		} while (rc > 0 && i != n);
		if (rc > 0)
			return place(r, n, host);
		if (rc != -EREMOTEIO)
			break;
		usleep(100000);
	}
	fprintf(stderr, "placement: the scheduler never heard %s: %s\n", last, why);
	return -ETIMEDOUT;
}

/*
 * Sends n calls through exchange with key, inflight at a time, until
 * every one is answered, timing each; with hosts, places each instance
 * where the scheduler said and reports every REPORT_MS meanwhile.
 * Returns 0 and the wall time in *wall_s, or -errno (reported).
 */
static int run_calls(struct run *r, const char *exchange, const char *key,
		     long n, long inflight, double *wall_s)
{
	double t0 = now_us(), next_report = t0 + REPORT_MS * 1e3, progress = t0;
	char host[64], why[600];
	struct timeval tv;
	long sent = 0, done = 0, i;
	int rc;

	for (i = 0; i < n; i++)
		r->lat[i] = -1;
	while (done < n) {
		for (; sent < n && sent - done < inflight; sent++)
			if (call(r, exchange, key, sent, NULL) < 0)
				return -EIO;
		if (r->nhosts && now_us() >= next_report) {
			if (report_all(r) < 0)
				return -EIO;
			next_report += REPORT_MS * 1e3;
		}
		tv = (struct timeval){ 0, 100000 };
		rc = next_reply(r, &tv, &i, host, why);
		if (rc == -EREMOTEIO) {
			fprintf(stderr, "placement: instance %ld: %s\n", i, why);
			return rc;
		}
		if (rc < 0)
			return rc;
		if (rc == 0 || i < 0 || i >= sent || r->lat[i] >= 0) {
			if (now_us() - progress > REPLY_TIMEOUT_S * 1e6) {
				fprintf(stderr, "placement: no reply for %d s (%ld of %ld answered)\n",
					REPLY_TIMEOUT_S, done, n);
				return -ETIMEDOUT;
			}
			continue;
		}
		progress = now_us();
		r->lat[i] = progress - r->sent_us[i];
		done++;
		if (r->nhosts && (rc = place(r, i, host)) < 0)
			return rc;
	}
	*wall_s = (now_us() - t0) / 1e6;
	return 0;
}

/* Connects, with a reply queue of the run's own ("reply_" and 32 hex
 * digits, as oslo names it), consumed without acks. */
static int client_start(struct run *r, const struct amqp_connection_info *ci)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(r->ep.prefix, sizeof(r->ep.prefix), "%08lx%08lx%08lx",
		 (unsigned long)getpid() & 0xffffffff,
		 (unsigned long)ts.tv_sec & 0xffffffff,
		 (unsigned long)ts.tv_nsec & 0xffffffff);
	snprintf(r->reply_q, sizeof(r->reply_q), "reply_%s%08x", r->ep.prefix, 0);
	if (!(r->ep.c = bench_amqp_connect(ci)))
		return -EPROTO;
	amqp_queue_declare(r->ep.c, BENCH_CHANNEL, amqp_cstring_bytes(r->reply_q),
			   0, 0, 1, 1, amqp_empty_table);
	if (bench_amqp_check(amqp_get_rpc_reply(r->ep.c), "reply queue.declare") < 0)
		return -EPROTO;
	amqp_basic_consume(r->ep.c, BENCH_CHANNEL, amqp_cstring_bytes(r->reply_q),
			   amqp_empty_bytes, 0, 1, 1, amqp_empty_table);
	return bench_amqp_check(amqp_get_rpc_reply(r->ep.c), "reply basic.consume");
}

static void usage(void)
{
	fprintf(stderr, "usage: AMQP_URL=amqp://USER:PASS@HOST:PORT/VHOST placement sched HOSTS N INFLIGHT\n"
		"       AMQP_URL=amqp://USER:PASS@HOST:PORT/VHOST placement floor N INFLIGHT\n");
}

/* A positive number from s, or 0. */
static long count(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v > 0 ? v : 0;
}

int main(int argc, char *argv[])
{
	struct amqp_connection_info ci;
	struct run r;
	struct floor f;
	bool sched = argc == 5 && strcmp(argv[1], "sched") == 0;
	bool started = false;
	char *url = NULL;
	double wall = 0, p50, p99, mean;
	long n, inflight, lo = 0, hi = 0;
	int i, ret = 1;

	memset(&r, 0, sizeof(r));
	memset(&f, 0, sizeof(f));
	if (!sched && !(argc == 4 && strcmp(argv[1], "floor") == 0)) {
		usage();
		return 2;
	}
	r.nhosts = sched ? (int)count(argv[2]) : 0;
	n = count(argv[argc - 2]);
	inflight = count(argv[argc - 1]);
	if ((sched && (r.nhosts <= 0 || r.nhosts > 1000)) || n <= 0 || inflight <= 0) {
		usage();
		return 2;
	}
	if (bench_amqp_url(&ci, &url) < 0)
		goto out;
	r.hosts = calloc((size_t)r.nhosts + 1, sizeof(*r.hosts));
	r.sent_us = calloc((size_t)n + 1, sizeof(*r.sent_us));
	r.lat = calloc((size_t)n + 1, sizeof(*r.lat));
	if (!r.hosts || !r.sent_us || !r.lat) {
		fprintf(stderr, "placement: out of memory\n");
		goto out;
	}
	for (i = 0; i < r.nhosts; i++)
		snprintf(r.hosts[i].name, sizeof(r.hosts[i].name), "sim%03d", i);
	if (client_start(&r, &ci) < 0)
		goto out;
	if (sched) {
		if (report_all(&r) < 0 || warm_up(&r, n) < 0 ||
		    run_calls(&r, EXCHANGE, "scheduler", n, inflight, &wall) < 0)
			goto out;
	} else {
		f.ci = &ci;
		if (floor_start(&f, &r) < 0)
			goto out;
		started = true;
		if (run_calls(&r, "", f.queue, n, inflight, &wall) < 0)
			goto out;
		if (atomic_load(&f.failed))
			goto out;
	}
	samples_summary(r.lat, n, &p50, &p99, &mean);
	if (sched) {
		lo = hi = r.hosts[0].n;
		for (i = 1; i < r.nhosts; i++) {
			lo = r.hosts[i].n < lo ? r.hosts[i].n : lo;
			hi = r.hosts[i].n > hi ? r.hosts[i].n : hi;
		}
		printf("placements_per_s=%.0f p50_us=%.1f p99_us=%.1f n=%ld hosts=%d inflight=%ld per_host=%ld..%ld\n",
		       (double)n / wall, p50, p99, n, r.nhosts, inflight, lo, hi);
	} else {
		printf("calls_per_s=%.0f p50_us=%.1f p99_us=%.1f n=%ld inflight=%ld\n",
		       (double)n / wall, p50, p99, n, inflight);
	}
	ret = 0;
out:
	if (started) {
		atomic_store(&f.stop, 1);
		pthread_join(f.thread, NULL);
	}
	bench_amqp_close(r.ep.c);
	for (i = 0; r.hosts && i < r.nhosts; i++)
		free(r.hosts[i].instances);
	free(r.hosts);
	free(r.sent_us);
	free(r.lat);
	free(url);
	return ret;
}
