/*
 * amqp.h - the librabbitmq plumbing the bench programs share: the broker
 * from AMQP_URL, a logged-in connection with one channel, and one line on
 * stderr saying why an AMQP operation failed.
 *
 * Header-only, like samples.h, so that every tool in bench/ stays one
 * standalone program that shares nothing with novafs.  Messages are
 * prefixed with the program's name (program_invocation_short_name, a GNU
 * extension of <errno.h>).
 */
#ifndef BENCH_AMQP_H
#define BENCH_AMQP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>

#define BENCH_CHANNEL 1

/* Prints what failed unless r is normal.  Returns 0, or -EPROTO. */
static inline int bench_amqp_check(amqp_rpc_reply_t r, const char *what)
{
	const char *me = program_invocation_short_name;
	const amqp_channel_close_t *ch;
	const amqp_connection_close_t *co;

	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return 0;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		fprintf(stderr, "%s: %s: %s\n", me, what, amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			ch = r.reply.decoded;
			fprintf(stderr, "%s: %s: channel closed: %.*s\n", me, what,
				(int)ch->reply_text.len, (const char *)ch->reply_text.bytes);
		} else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			co = r.reply.decoded;
			fprintf(stderr, "%s: %s: connection closed: %.*s\n", me, what,
				(int)co->reply_text.len, (const char *)co->reply_text.bytes);
		} else {
			fprintf(stderr, "%s: %s: unexpected method 0x%08x\n", me, what, r.reply.id);
		}
		break;
	default:
		fprintf(stderr, "%s: %s: no reply\n", me, what);
		break;
	}
	return -EPROTO;
}

/*
 * Parses $AMQP_URL (amqp://USER:PASS@HOST:PORT/VHOST: credentials come
 * from the environment, never a command line) into ci, which points into
 * *url: free *url when done with ci.  Returns 0, or -EINVAL (reported).
 */
static inline int bench_amqp_url(struct amqp_connection_info *ci, char **url)
{
	const char *env = getenv("AMQP_URL");

	*url = env ? strdup(env) : NULL;
	if (!*url || amqp_parse_url(*url, ci) != AMQP_STATUS_OK) {
		fprintf(stderr, "%s: AMQP_URL is not an amqp:// URL\n",
			program_invocation_short_name);
		free(*url);
		*url = NULL;
		return -EINVAL;
	}
	/* "amqp://host/" names the empty vhost to librabbitmq, but means
	 * the default one to everybody (novafs's rpc/bus.c agrees). */
	if (!ci->vhost[0])
		ci->vhost = (char *)"/";
	return 0;
}

/* A logged-in connection with channel BENCH_CHANNEL open, or NULL
 * (reported). */
static inline amqp_connection_state_t bench_amqp_connect(const struct amqp_connection_info *ci)
{
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *sock = c ? amqp_tcp_socket_new(c) : NULL;
	int status;

	if (!sock) {
		fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
		goto fail;
	}
	status = amqp_socket_open(sock, ci->host, ci->port);
	if (status != AMQP_STATUS_OK) {
		fprintf(stderr, "%s: cannot connect to %s:%d: %s\n",
			program_invocation_short_name, ci->host, ci->port,
			amqp_error_string2(status));
		goto fail;
	}
	/* No heartbeat: nothing here sits outside the library long enough. */
	if (bench_amqp_check(amqp_login(c, ci->vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
					ci->user, ci->password), "login") < 0)
		goto fail;
	amqp_channel_open(c, BENCH_CHANNEL);
	if (bench_amqp_check(amqp_get_rpc_reply(c), "channel.open") < 0)
		goto fail;
	return c;
fail:
	if (c)
		amqp_destroy_connection(c);
	return NULL;
}

/* Closes and frees c; accepts NULL. */
static inline void bench_amqp_close(amqp_connection_state_t c)
{
	if (!c)
		return;
	amqp_channel_close(c, BENCH_CHANNEL, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
}

#endif
