/*
 * rpcctl.c - talk to novafs services from a shell, for tests and debugging.
 *
 *   rpcctl [--amqp URL] [--exchange NAME] call   TOPIC[.SERVER] METHOD JSON [--timeout MS]
 *   rpcctl [--amqp URL] [--exchange NAME] cast   TOPIC[.SERVER] METHOD JSON
 *   rpcctl [--amqp URL] [--exchange NAME] fanout TOPIC METHOD JSON
 *   rpcctl [--amqp URL] [--exchange NAME] listen TOPIC[.SERVER]
 *
 * call prints the result as JSON on stdout.  A failure prints "Class:
 * message" on stderr and exits with the errno the failure maps to (113 for
 * NoValidHost, ...), so scripts can tell failures apart.  listen consumes
 * the topic and prints each message as one JSON line {"method", "args"}
 * until SIGINT/SIGTERM; it writes "listening" to stderr once consuming.
 * The server is split off TOPIC at the first dot.
 *
 * rpc_server dispatches by method name and a handler is not told its
 * name, so listen knows the methods of docs/rpc.md by name (LISTEN_METHODS
 * below); others get NoSuchMethod, as from any server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc.h"
#include "service.h"

#define LISTEN_METHODS(X) \
	X(instance_update) \
	X(update_service_capabilities) \
	X(publish_service_capabilities) \
	X(select_destinations) \
	X(start_instance) \
	X(stop_instance) \
	X(terminate_instance)

static int print_message(const char *method, json_t *args)
{
	json_t *msg = json_pack("{s:s, s:O}", "method", method, "args",
				args ? args : json_null());
	char *line = msg ? json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	if (line) {
		printf("%s\n", line);
		fflush(stdout);
	}
	free(line);
	json_decref(msg);
	return 0;
}

#define LISTEN_HANDLER(m) \
	static int listen_##m(void *ctx, json_t *args, json_t **result, \
			      struct rpc_error *e) \
	{ \
		return print_message(#m, args); \
	}
LISTEN_METHODS(LISTEN_HANDLER)

#define LISTEN_ENTRY(m) { #m, listen_##m },
static const struct rpc_method listen_methods[] = {
	LISTEN_METHODS(LISTEN_ENTRY)
	{ NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rpcctl [OPTION]... call|cast TOPIC[.SERVER] METHOD JSON\n"
		"       rpcctl [OPTION]... fanout TOPIC METHOD JSON\n"
		"       rpcctl [OPTION]... listen TOPIC[.SERVER]\n\n"
		"  --timeout MS        how long call waits for a reply (default 10000)\n"
		SERVICE_COMMON_USAGE);
}

static int run_listen(struct rpc_conn *conn, const char *topic,
		      const char *server, struct rpc_error *e)
{
	struct rpc_server *srv = NULL;
	int r;

	r = service_install_signals();
	if (r < 0)
		return rpc_error_set(e, r, NULL, "sigaction: %s", strerror(-r));
	r = rpc_server_new(conn, topic, server, listen_methods, NULL, &srv, e);
	if (r < 0)
		return r;
	fprintf(stderr, "listening\n");
	service_run(srv, NULL, NULL, 0);
	rpc_server_free(srv);
	return 0;
}

int main(int argc, char **argv)
{
	struct service_opts opts;
	struct rpc_error e = { 0 };
	struct rpc_conn *conn = NULL;
	json_t *args = NULL, *result = NULL;
	const char *pos[4] = { NULL }, *timeout_s = NULL;
	char *topic = NULL, *server = NULL, *out = NULL;
	long timeout = 10000;
	int i, npos = 0, r;

	service_opts_init(&opts);
	for (i = 1; i < argc; i++) {
		r = service_parse_common_option(&opts, argc, argv, &i);
		if (r == 0)
			r = service_option_value(argc, argv, &i, "--timeout",
						 &timeout_s);
		if (r == 0 && argv[i][0] != '-' && npos < 4) {
			pos[npos++] = argv[i];
			r = 1;
		}
		if (r <= 0) {
			fprintf(stderr, "rpcctl: %s: %s\n", argv[i],
				r < 0 ? "missing value" : "unexpected argument");
			usage(stderr);
			return EINVAL;
		}
	}
	if (opts.help) {
		usage(stdout);
		return 0;
	}
	if (timeout_s) {
		char *end;

		timeout = strtol(timeout_s, &end, 10);
		if (*end || timeout <= 0 || timeout > 3600000) {
			fprintf(stderr, "rpcctl: --timeout: %s is not a number of milliseconds\n",
				timeout_s);
			return EINVAL;
		}
	}
	if (npos < 2 || (strcmp(pos[0], "listen") == 0 ? npos != 2 : npos != 4)) {
		usage(stderr);
		return EINVAL;
	}
	log_setup("rpcctl", opts.verbose ? LOG_LVL_DEBUG : LOG_LVL_WARN);

	topic = strdup(pos[1]);
	if (!topic) {
		r = rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	if ((server = strchr(topic, '.')))
		*server++ = '\0';
	if (npos == 4) {
		json_error_t jerr;

		args = json_loads(pos[3], JSON_DECODE_ANY, &jerr);
		if (!args) {
			r = rpc_error_set(&e, -EINVAL, "InvalidInput",
					  "arguments are not JSON: %s", jerr.text);
			goto out;
		}
	}

	r = rpc_connect(opts.amqp_url, opts.exchange, &conn, &e);
	if (r < 0)
		goto out;
	if (strcmp(pos[0], "call") == 0) {
		r = rpc_call(conn, topic, server, pos[2], args, (int)timeout,
			     &result, &e);
		if (r == 0) {
			out = json_dumps(result ? result : json_null(),
					 JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
			printf("%s\n", out ? out : "null");
		}
	} else if (strcmp(pos[0], "cast") == 0) {
		r = rpc_cast(conn, topic, server, pos[2], args, &e);
	} else if (strcmp(pos[0], "fanout") == 0) {
		r = rpc_fanout_cast(conn, topic, pos[2], args, &e);
	} else if (strcmp(pos[0], "listen") == 0) {
		r = run_listen(conn, topic, server, &e);
	} else {
		r = rpc_error_set(&e, -EINVAL, "InvalidInput",
				  "unknown command %s", pos[0]);
	}
out:
	if (r < 0)
		fprintf(stderr, "%s: %s\n", e.cls[0] ? e.cls : rpc_class_from_errno(r),
			e.message[0] ? e.message : strerror(-r));
	free(out);
	json_decref(result);
	json_decref(args);
	rpc_close(conn);
	free(topic);
	return r < 0 ? -r : 0;
}
