/*
 * amqp_floor.c - the raw RabbitMQ floors: a call and a confirmed cast with
 * nothing around them.
 *
 * usage: AMQP_URL=amqp://USER:PASS@HOST:PORT/VHOST amqp_floor call|cast N
 *        (the URL comes from the environment: no credentials on a
 *        command line)
 *
 * call: a server thread, on its own connection, consumes a queue it
 *   declared and sends each message's body back to its reply_to through
 *   the default exchange; the main thread, on another connection,
 *   publishes N requests one at a time with a correlation_id and waits
 *   for each reply on its own exclusive queue (no-ack).  Prints
 *     call_rtt_us p50=X p99=Y mean=Z n=N
 * cast: publisher confirms on; N persistent, mandatory messages, one at a
 *   time, to a durable queue that a server thread consumes and acks; each
 *   publish waits for its basic.ack.  Prints
 *     cast_confirmed_per_s=X p50_us=Y p99_us=Z n=N
 *
 * These are the least a novafs call (select_destinations, terminate) and
 * a reliable cast (start_instance) can cost on this broker: novafs's
 * envelope, validation and bookkeeping are measured against them.  The
 * queues are deleted at the end, also on error; should the process die,
 * the call queue is exclusive and the cast queue expires (x-expires), so
 * the broker removes them anyway.  Exit status 1 on any failure.
 *
 * Build: gcc -std=c11 -D_GNU_SOURCE -O2 $(pkg-config --cflags librabbitmq) \
 *        -o amqp_floor amqp_floor.c $(pkg-config --libs librabbitmq) -pthread
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "amqp.h"
#include "samples.h"

#define REPLY_TIMEOUT_S 10      /* a reply or confirm later than this is a failure */
#define CAST_QUEUE_EXPIRES_MS 60000

/* About the size of an oslo.messaging envelope for a small call. */
static const char body[] =
	"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"method\\\": "
	"\\\"select_destinations\\\", \\\"args\\\": {\\\"instance_uuid\\\": "
	"\\\"6f1c3b2e-4a5d-4e8f-9b7a-2c1d0e9f8a7b\\\", \\\"flavor\\\": "
	"\\\"m1.small\\\"}, \\\"_msg_id\\\": \\\"0123456789abcdef0123456789abcdef\\\", "
	"\\\"_unique_id\\\": \\\"fedcba9876543210fedcba9876543210\\\"}\"}";

enum mode { MODE_CALL, MODE_CAST };

/* Set by SIGINT/SIGTERM: the run stops early and still deletes its queue. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* The server thread: declares and consumes queue until told to stop. */
struct server {
	const struct amqp_connection_info *ci;
	enum mode mode;
	char queue[64];
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int state;              /* 0 starting, 1 consuming, -1 failed */
	atomic_int stop;
};

static void server_set_state(struct server *s, int state)
{
	pthread_mutex_lock(&s->mu);
	s->state = state;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

/* Declares the queue: exclusive for call (it goes with the connection),
 * durable with an expiry for cast (as a compute host's queue is). */
static int server_declare(struct server *s, amqp_connection_state_t c)
{
	amqp_table_entry_t expires;
	amqp_table_t args = amqp_empty_table;
	int cast = s->mode == MODE_CAST;

	if (cast) {
		expires.key = amqp_cstring_bytes("x-expires");
		expires.value.kind = AMQP_FIELD_KIND_I32;
		expires.value.value.i32 = CAST_QUEUE_EXPIRES_MS;
		args.num_entries = 1;
		args.entries = &expires;
	}
	amqp_queue_declare(c, BENCH_CHANNEL, amqp_cstring_bytes(s->queue), 0, cast, !cast, 0, args);
	return bench_amqp_check(amqp_get_rpc_reply(c), "queue.declare");
}

/* Answers one delivery: the body back to reply_to (call), or an ack (cast). */
static int server_handle(struct server *s, amqp_connection_state_t c, const amqp_envelope_t *env)
{
	const amqp_basic_properties_t *in = &env->message.properties;
	amqp_basic_properties_t out;

	if (s->mode == MODE_CAST)
		return amqp_basic_ack(c, BENCH_CHANNEL, env->delivery_tag, 0) == AMQP_STATUS_OK ? 0 : -EIO;
	if (!(in->_flags & AMQP_BASIC_REPLY_TO_FLAG))
		return 0;
	memset(&out, 0, sizeof(out));
	out._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
	out.content_type = amqp_cstring_bytes("application/json");
	out.delivery_mode = 1;
	if (in->_flags & AMQP_BASIC_CORRELATION_ID_FLAG) {
		out._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
		out.correlation_id = in->correlation_id;
	}
	return amqp_basic_publish(c, BENCH_CHANNEL, amqp_empty_bytes, in->reply_to, 0, 0,
				  &out, env->message.body) == AMQP_STATUS_OK ? 0 : -EIO;
}

static void *server_run(void *arg)
{
	struct server *s = arg;
	amqp_connection_state_t c = bench_amqp_connect(s->ci);
	struct timeval tv = { 0, 100000 };  /* how often stop is checked */
	amqp_envelope_t env;
	amqp_rpc_reply_t r;
	int declared = 0;

	if (!c || server_declare(s, c) < 0)
		goto out;
	declared = 1;
	/* Acks only for cast: a call's request is not worth redelivering. */
	amqp_basic_consume(c, BENCH_CHANNEL, amqp_cstring_bytes(s->queue), amqp_empty_bytes,
			   0, s->mode == MODE_CALL, 0, amqp_empty_table);
	if (bench_amqp_check(amqp_get_rpc_reply(c), "basic.consume") < 0)
		goto out;
	server_set_state(s, 1);
	while (!atomic_load(&s->stop)) {
		amqp_maybe_release_buffers(c);
		r = amqp_consume_message(c, &env, &tv, 0);
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_TIMEOUT)
			continue;
		if (bench_amqp_check(r, "server: consume") < 0)
			break;
		if (server_handle(s, c, &env) < 0)
			fprintf(stderr, "amqp_floor: server: cannot answer a message\n");
		amqp_destroy_envelope(&env);
	}
out:
	if (s->state == 0)
		server_set_state(s, -1);
	if (declared) {
		amqp_queue_delete(c, BENCH_CHANNEL, amqp_cstring_bytes(s->queue), 0, 0);
		bench_amqp_check(amqp_get_rpc_reply(c), "queue.delete");
	}
	bench_amqp_close(c);
	return NULL;
}

/* One call: publish, then read replies until ours (stale ones are dropped). */
static int call_once(amqp_connection_state_t c, const char *queue, amqp_bytes_t reply_to, long i)
{
	struct timeval tv = { REPLY_TIMEOUT_S, 0 };
	amqp_basic_properties_t p;
	amqp_envelope_t env;
	char cid[24];
	int match;

	snprintf(cid, sizeof(cid), "%ld", i);
	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		   AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = 1;
	p.reply_to = reply_to;
	p.correlation_id = amqp_cstring_bytes(cid);
	if (amqp_basic_publish(c, BENCH_CHANNEL, amqp_empty_bytes, amqp_cstring_bytes(queue), 0, 0,
			       &p, amqp_cstring_bytes(body)) != AMQP_STATUS_OK) {
		fprintf(stderr, "amqp_floor: call: publish failed\n");
		return -EIO;
	}
	do {
		amqp_maybe_release_buffers(c);
		if (bench_amqp_check(amqp_consume_message(c, &env, &tv, 0), "call: waiting for the reply") < 0)
			return -EPROTO;
		match = (env.message.properties._flags & AMQP_BASIC_CORRELATION_ID_FLAG) &&
			env.message.properties.correlation_id.len == strlen(cid) &&
			memcmp(env.message.properties.correlation_id.bytes, cid, strlen(cid)) == 0;
		amqp_destroy_envelope(&env);
	} while (!match);
	return 0;
}

/*
 * Waits for the confirm of publish number seq (confirms count from 1).
 * A basic.return (unroutable) comes before its ack and fails the publish.
 * Returns 0, or -EIO (nack, returned), -ETIMEDOUT, -EPROTO.
 */
static int confirm_wait(amqp_connection_state_t c, uint64_t seq)
{
	struct timeval tv = { REPLY_TIMEOUT_S, 0 };
	const amqp_basic_ack_t *ack;
	amqp_frame_t f;
	int returned = 0, status;

	for (;;) {
		status = amqp_simple_wait_frame_noblock(c, &f, &tv);
		if (status != AMQP_STATUS_OK) {
			fprintf(stderr, "amqp_floor: cast: waiting for confirm %lu: %s\n",
				(unsigned long)seq, amqp_error_string2(status));
			return status == AMQP_STATUS_TIMEOUT ? -ETIMEDOUT : -EPROTO;
		}
		/* Header and body frames of a returned message: skipped. */
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		switch (f.payload.method.id) {
		case AMQP_BASIC_ACK_METHOD:
			ack = f.payload.method.decoded;
			if (ack->delivery_tag < seq)
				continue;
			if (returned)
				fprintf(stderr, "amqp_floor: cast: message %lu was unroutable\n",
					(unsigned long)seq);
			return returned ? -EIO : 0;
		case AMQP_BASIC_NACK_METHOD:
			fprintf(stderr, "amqp_floor: cast: message %lu was nacked\n", (unsigned long)seq);
			return -EIO;
		case AMQP_BASIC_RETURN_METHOD:
			returned = 1;
			continue;
		case AMQP_CHANNEL_CLOSE_METHOD:
		case AMQP_CONNECTION_CLOSE_METHOD:
			fprintf(stderr, "amqp_floor: cast: the broker closed the channel\n");
			return -EPROTO;
		default:
			continue;
		}
	}
}

static int cast_once(amqp_connection_state_t c, const char *queue, long i)
{
	amqp_basic_properties_t p;

	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = 2;    /* persistent */
	if (amqp_basic_publish(c, BENCH_CHANNEL, amqp_empty_bytes, amqp_cstring_bytes(queue), 1, 0,
			       &p, amqp_cstring_bytes(body)) != AMQP_STATUS_OK) {
		fprintf(stderr, "amqp_floor: cast: publish failed\n");
		return -EIO;
	}
	amqp_maybe_release_buffers(c);
	return confirm_wait(c, (uint64_t)i + 1);
}

/* The client's side of the mode, timing each of n operations into lat. */
static int client_run(const struct amqp_connection_info *ci, const struct server *s,
		      long n, double *lat)
{
	amqp_connection_state_t c = bench_amqp_connect(ci);
	amqp_queue_declare_ok_t *q;
	amqp_bytes_t reply_to = amqp_empty_bytes;
	double t;
	long i;
	int r = -EPROTO;

	if (!c)
		goto out;
	if (s->mode == MODE_CALL) {
		q = amqp_queue_declare(c, BENCH_CHANNEL, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
		if (bench_amqp_check(amqp_get_rpc_reply(c), "reply queue.declare") < 0)
			goto out;
		reply_to = amqp_bytes_malloc_dup(q->queue);
		amqp_basic_consume(c, BENCH_CHANNEL, reply_to, amqp_empty_bytes, 0, 1, 1, amqp_empty_table);
		if (bench_amqp_check(amqp_get_rpc_reply(c), "reply basic.consume") < 0)
			goto out;
	} else {
		amqp_confirm_select(c, BENCH_CHANNEL);
		if (bench_amqp_check(amqp_get_rpc_reply(c), "confirm.select") < 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		if (interrupted) {
			fprintf(stderr, "amqp_floor: interrupted after %ld\n", i);
			r = -EINTR;
			goto out;
		}
		t = now_us();
		r = s->mode == MODE_CALL ? call_once(c, s->queue, reply_to, i)
					 : cast_once(c, s->queue, i);
		if (r < 0)
			goto out;
		lat[i] = now_us() - t;
	}
	r = 0;
out:
	amqp_bytes_free(reply_to);
	bench_amqp_close(c);
	return r;
}

int main(int argc, char *argv[])
{
	struct amqp_connection_info ci;
	struct server s = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct sigaction sa = { .sa_handler = on_signal };
	char *url = NULL, *end;
	double *lat = NULL, wall, p50, p99, mean;
	int started = 0, ret = 1;
	long n = 0;

	if (argc == 3)
		n = strtol(argv[2], &end, 10);
	if (argc != 3 || *end || n <= 0 || !getenv("AMQP_URL") ||
	    (strcmp(argv[1], "call") != 0 && strcmp(argv[1], "cast") != 0)) {
		fprintf(stderr, "usage: AMQP_URL=amqp://USER:PASS@HOST:PORT/VHOST "
			"amqp_floor call|cast N\n");
		return 2;
	}
	if (bench_amqp_url(&ci, &url) < 0)
		goto out;
	if (!(lat = malloc((size_t)n * sizeof(*lat)))) {
		fprintf(stderr, "amqp_floor: out of memory\n");
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	s.ci = &ci;
	s.mode = strcmp(argv[1], "call") == 0 ? MODE_CALL : MODE_CAST;
	snprintf(s.queue, sizeof(s.queue), "amqp_floor.%s.%ld", argv[1], (long)getpid());
	if (pthread_create(&s.thread, NULL, server_run, &s) != 0) {
		fprintf(stderr, "amqp_floor: cannot start the server thread\n");
		goto out;
	}
	started = 1;
	pthread_mutex_lock(&s.mu);
	while (s.state == 0)
		pthread_cond_wait(&s.cond, &s.mu);
	pthread_mutex_unlock(&s.mu);
	if (s.state < 0)
		goto out;
	wall = now_us();
	if (client_run(&ci, &s, n, lat) < 0)
		goto out;
	wall = (now_us() - wall) / 1e6;
	samples_summary(lat, n, &p50, &p99, &mean);
	if (s.mode == MODE_CALL)
		printf("call_rtt_us p50=%.1f p99=%.1f mean=%.1f n=%ld\n", p50, p99, mean, n);
	else
		printf("cast_confirmed_per_s=%.0f p50_us=%.1f p99_us=%.1f n=%ld\n",
		       (double)n / wall, p50, p99, n);
	ret = 0;
out:
	if (started) {
		atomic_store(&s.stop, 1);
		pthread_join(s.thread, NULL);
	}
	free(lat);
	free(url);
	return ret;
}
