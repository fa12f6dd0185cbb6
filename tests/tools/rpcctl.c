/*
 * rpcctl.c - talk to novafs services from a shell, for tests and debugging.
 *
 *   rpcctl --config FILE [OPTION]... call|cast TOPIC[.SERVER] METHOD JSON
 *   rpcctl --config FILE [OPTION]... fanout TOPIC METHOD JSON
 *   rpcctl --config FILE [OPTION]... listen TOPIC[.SERVER]|fanout:TOPIC
 *   rpcctl --config FILE [OPTION]... raw EXCHANGE ROUTING_KEY BODY
 *
 * FILE names the identity to speak as ([amqp] url, user, password, as
 * tests/lib/broker.sh writes them); --amqp URL overrides its URL.  A method
 * is looked up in the declarations (rpc/methods.h) by topic and name, and
 * sent through them, its arguments checked; a name that is not declared
 * is sent with an ad-hoc declaration that checks nothing, so that a test
 * can send garbage.  --unchecked does the same for a declared method, and
 * --version V and --namespace N change what the request says, to see
 * refusals.
 *
 * call prints the result as one line of JSON on stdout.  A failure prints
 * "Class: message" on stderr and exits with the errno the failure maps to
 * (113 for NoValidHost, 13 for NotAuthorized, ...), so scripts can tell
 * failures apart.  listen consumes the queue and prints each message it
 * accepted as one JSON line {"method", "args", "sender"} until SIGINT or
 * SIGTERM; it writes "listening" to stderr once consuming.  The server is
 * split off TOPIC at the first dot.  raw publishes BODY as it is, with
 * this identity's user_id, none (--no-user-id) or a forged one
 * (--user-id NAME, which the broker refuses).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/loop.h"
#include "rpc/bus.h"
#include "rpc/methods.h"

struct rpcctl_opts {
	long long timeout_ms;
	long long monitor_ms;
	char *version;
	char *ns;
	bool unchecked;
	bool no_user_id;
	char *user_id;
};

static const struct opt rpcctl_options[] = {
	{ NULL, "timeout", "--timeout", OPT_INT,
	  offsetof(struct rpcctl_opts, timeout_ms), "0", 0, 3600000, NULL,
	  "MS", "how long a call waits for its reply, a cast for the broker "
	  "(0: --rpc-timeout)", NULL },
	{ NULL, "monitor", "--monitor", OPT_INT,
	  offsetof(struct rpcctl_opts, monitor_ms), "0", 0, 3600000, NULL, "MS",
	  "calls: oslo's call_monitor_timeout (the server sends heartbeats)",
	  NULL },
	{ NULL, "version", "--version", OPT_STR,
	  offsetof(struct rpcctl_opts, version), NULL, 0, 0, NULL, "V",
	  "send this version instead of the declared one", NULL },
	{ NULL, "namespace", "--namespace", OPT_STR,
	  offsetof(struct rpcctl_opts, ns), NULL, 0, 0, NULL, "N",
	  "send this namespace", NULL },
	{ NULL, "unchecked", "--unchecked", OPT_BOOL,
	  offsetof(struct rpcctl_opts, unchecked), "false", 0, 0, NULL, NULL,
	  "send the arguments without checking them against the declaration",
	  NULL },
	{ NULL, "no_user_id", "--no-user-id", OPT_BOOL,
	  offsetof(struct rpcctl_opts, no_user_id), "false", 0, 0, NULL, NULL,
	  "raw: send no user_id, as an oslo.messaging peer", NULL },
	{ NULL, "user_id", "--user-id", OPT_STR,
	  offsetof(struct rpcctl_opts, user_id), NULL, 0, 0, NULL, "NAME",
	  "raw: send this user_id (the broker refuses any but our own)", NULL },
	OPT_END
};

/* What a request is sent through: a copy of the declaration (or an
 * ad-hoc one), changed as the options say. */
struct target {
	struct rpc_service_decl svc;
	struct rpc_method_decl m;
	char *topic;                /* owned: TOPIC, cut at the server */
	const char *server;         /* into topic, or NULL */
};

static const struct rpc_service_decl *find_service(const char *topic)
{
	const struct rpc_service_decl *const *svc;

	for (svc = rpc_services; *svc; svc++)
		if (strcmp((*svc)->topic, topic) == 0)
			return *svc;
	return NULL;
}

/* Fills t for method (NULL: the service alone, for listen) on spec
 * "TOPIC[.SERVER]". */
static int target_init(struct target *t, const char *spec, const char *method,
		       enum rpc_kind kind, const struct rpcctl_opts *o,
		       struct rpc_error *e)
{
	const struct rpc_service_decl *svc;
	const struct rpc_method_decl *m = NULL;
	char *dot;

	memset(t, 0, sizeof(*t));
	t->topic = strdup(spec);
	if (!t->topic)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	dot = strchr(t->topic, '.');
	if (dot) {
		*dot = '\0';
		t->server = dot + 1;
	}
	svc = find_service(t->topic);
	if (svc) {
		t->svc = *svc;
		m = method ? rpc_service_method(svc, method) : NULL;
	} else {
		t->svc.topic = t->topic;
		t->svc.doc = "";
	}
	if (m) {
		t->m = *m;
	} else {
		t->m.name = method;
		t->m.version = t->svc.version ? t->svc.version : "1.0";
	}
	t->m.service = &t->svc;
	t->m.kind = kind;
	if (o->unchecked) {
		t->m.args = NULL;
		t->m.result = NULL;
		t->m.check = NULL;
	}
	if (o->version)
		t->svc.version = t->m.version = o->version;
	if (o->ns)
		t->svc.namespace = o->ns;
	return 0;
}

static void print_json(json_t *v)
{
	char *text = json_dumps(v ? v : json_null(),
				JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);

	printf("%s\n", text ? text : "null");
	fflush(stdout);
	free(text);
}

/* listen: each accepted message, as one line. */
static void heard(void *ctx, struct rpc_request *req)
{
	const struct rpc_method_decl *m = rpc_request_method(req);
	const char *sender = rpc_request_sender(req);
	struct rpc_error e = { 0 };
	json_t *line;

	line = json_pack("{s:s, s:O, s:s?}", "method", m->name, "args",
			 rpc_request_args(req), "sender", sender);
	print_json(line);
	json_decref(line);
	if (m->kind == RPC_CALL)
		rpc_error_set(&e, -EOPNOTSUPP, "NoSuchMethod",
			      "rpcctl listens and answers nothing");
	rpc_request_done(req, NULL, m->kind == RPC_CALL ? &e : NULL);
}

static int run_listen(struct rpc_bus *bus, struct daemon *d, const char *spec,
		      const struct rpcctl_opts *o, struct rpc_error *e)
{
	enum rpc_sub_kind kind = RPC_SUB_TOPIC;
	struct rpc_handler *handlers = NULL;
	struct target t;
	size_t n = 0, i;
	int rc;

	if (strncmp(spec, "fanout:", 7) == 0) {
		kind = RPC_SUB_FANOUT;
		spec += 7;
	}
	rc = target_init(&t, spec, NULL, RPC_CAST, o, e);
	if (rc < 0)
		return rc;
	if (t.server)
		kind = RPC_SUB_SERVER;
	while (t.svc.methods && t.svc.methods[n])
		n++;
	handlers = calloc(n + 1, sizeof(*handlers));
	if (!handlers) {
		rc = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		handlers[i].method = t.svc.methods[i];
		handlers[i].fn = heard;
	}
	rc = rpc_subscribe(bus, find_service(t.topic) ? find_service(t.topic) :
			   &t.svc, kind, t.server, handlers, NULL, e);
	if (rc < 0)
		goto out;
	fprintf(stderr, "listening\n");
	rc = loop_run(d->loop);
	if (rc < 0)
		rpc_error_set(e, rc, NULL, "the event loop failed");
out:
	/* The bus keeps the table until it is freed: free the bus first. */
	rpc_bus_free(bus);
	free(handlers);
	free(t.topic);
	return rc;
}

static int run_send(struct rpc_bus *bus, const char *cmd, char **pos,
		    const struct rpcctl_opts *o, struct rpc_error *e)
{
	enum rpc_kind kind = strcmp(cmd, "call") == 0 ? RPC_CALL :
			     strcmp(cmd, "cast") == 0 ? RPC_CAST : RPC_FANOUT;
	struct rpc_send s = { 0 };
	json_t *args = NULL, *result = NULL;
	json_error_t jerr;
	struct target t;
	int rc;

	args = json_loads(pos[2], 0, &jerr);
	if (!args)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "arguments are not JSON: %s", jerr.text);
	rc = target_init(&t, pos[0], pos[1], kind, o, e);
	if (rc < 0)
		goto out;
	s.server = t.server;
	s.timeout_ms = o->timeout_ms;
	s.monitor_ms = o->monitor_ms;
	if (kind == RPC_CALL) {
		rc = rpc_call_wait(bus, &t.m, &s, args, &result, e);
		if (rc == 0)
			print_json(result);
	} else if (kind == RPC_CAST) {
		rc = rpc_cast_wait(bus, &t.m, &s, args, e);
	} else if (t.server) {
		rc = rpc_error_set(e, -EINVAL, "InvalidInput",
				   "a fanout goes to a topic, not %s.%s",
				   t.topic, t.server);
	} else {
		rc = rpc_cast_wait(bus, &t.m, NULL, args, e);
	}
	free(t.topic);
out:
	json_decref(result);
	json_decref(args);
	return rc;
}

static int run_raw(struct rpc_bus *bus, char **pos, const struct rpcctl_opts *o,
		   struct rpc_error *e)
{
	const char *user_id = o->no_user_id ? NULL :
			      o->user_id ? o->user_id : rpc_bus_user(bus);

	return rpc_publish_raw_wait(bus, pos[0], pos[1], pos[2], strlen(pos[2]),
				    user_id, e);
}

int main(int argc, char **argv)
{
	static const char usage[] =
		"call|cast TOPIC[.SERVER] METHOD JSON | fanout TOPIC METHOD JSON | "
		"listen TOPIC[.SERVER]|fanout:TOPIC | raw EXCHANGE ROUTING_KEY BODY";
	struct rpc_bus_config bus_cfg = { 0 };
	struct rpcctl_opts o = { 0 };
	const struct opt *const tables[] = { rpc_bus_options, rpcctl_options, NULL };
	void *const bases[] = { &bus_cfg, &o };
	const struct opts_spec spec = {
		"rpcctl", "Sends to and listens on the novafs message bus.",
		usage, NULL, tables, bases,
	};
	struct rpc_error e = { 0 };
	struct rpc_bus *bus = NULL;
	struct daemon d;
	const char *cmd;
	int status, rc;

	status = daemon_start(&d, &spec, NULL, &argc, argv, 0);
	if (status >= 0)
		return status;
	/* A tool's output is its result: only trouble goes to the log. */
	log_setup("rpcctl", d.verbose ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	cmd = argc > 1 ? argv[1] : "";
	if (argc != (strcmp(cmd, "listen") == 0 ? 3 : 5) ||
	    (strcmp(cmd, "call") && strcmp(cmd, "cast") &&
	     strcmp(cmd, "fanout") && strcmp(cmd, "listen") &&
	     strcmp(cmd, "raw"))) {
		fprintf(stderr, "usage: rpcctl [OPTION]... %s\n(see --help)\n",
			usage);
		return daemon_finish(&d, &spec, NULL, EINVAL);
	}
	rc = rpc_bus_new(d.loop, &bus_cfg, NULL, &bus, &e);
	if (rc == 0) {
		if (strcmp(cmd, "listen") == 0) {
			rc = run_listen(bus, &d, argv[2], &o, &e);
			bus = NULL; /* freed there */
		} else if (strcmp(cmd, "raw") == 0) {
			rc = run_raw(bus, &argv[2], &o, &e);
		} else {
			rc = run_send(bus, cmd, &argv[2], &o, &e);
		}
	}
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", e.cls[0] ? e.cls : rpc_class_from_errno(rc),
			e.message[0] ? e.message : strerror(-rc));
	rpc_bus_free(bus);
	return daemon_finish(&d, &spec, NULL, rc < 0 ? -rc : 0);
}
