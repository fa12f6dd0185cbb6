/*
 * test_envelope.c - the oslo.messaging envelope against real captures, the
 * dispatcher's refusals, the failure class <-> errno table, and UUIDs.
 *
 * The captures (../shared/oslo-vectors/rabbit-14.0.3.json and
 * tests/data/oslo-14.0.3-extra.json, from the repo root, where tests run)
 * come from Python oslo.messaging 14.0.3: every message in them must
 * decode, and what we encode must have the same keys and types, so that a
 * Python peer could take our place or talk to us.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/uuid.h"
#include "rpc/contract.h"
#include "rpc/rpc.h"
#include "envelope.h"
#include "testhelp.h"

#define VECTORS "../shared/oslo-vectors/rabbit-14.0.3.json"
#define EXTRA "tests/data/oslo-14.0.3-extra.json"

/* The vectors hold bodies as JSON objects; the wire carries their text. */
static char *body_text(json_t *body)
{
	return json_dumps(body, 0);
}

static json_t *parse_inner(json_t *body)
{
	return json_loads(json_string_value(json_object_get(body, "oslo.message")),
			  0, NULL);
}

/* Sorted, comma-joined keys of obj, for comparing shapes. */
static char *keys_of(json_t *obj)
{
	json_t *arr = json_array();
	const char *key;
	json_t *val;
	char *out;
	size_t i, j, n;

	json_object_foreach(obj, key, val)
		json_array_append_new(arr, json_string(key));
	n = json_array_size(arr);
	for (i = 1; i < n; i++) /* insertion sort: a handful of keys */
		for (j = i; j > 0 && strcmp(json_string_value(json_array_get(arr, j - 1)),
					    json_string_value(json_array_get(arr, j))) > 0; j--) {
			json_t *a = json_incref(json_array_get(arr, j - 1));
			json_array_set(arr, j - 1, json_array_get(arr, j));
			json_array_set_new(arr, j, a);
		}
	out = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return out;
}

static void check_same_keys(json_t *got, json_t *want, const char *what)
{
	char *g = keys_of(got), *w = keys_of(want);

	CHECK_MSG(strcmp(g, w) == 0, "%s: keys %s == %s", what, g, w);
	free(g);
	free(w);
}

/* Each value in got has the JSON type of the same key in want (null in
 * either counts as a match: _timeout, result, failure). */
static void check_same_types(json_t *got, json_t *want, const char *what)
{
	const char *key;
	json_t *val, *w;
	int bad = 0;

	json_object_foreach(got, key, val) {
		w = json_object_get(want, key);
		if (!w || json_is_null(w) || json_is_null(val))
			continue;
		if (json_typeof(w) != json_typeof(val) &&
		    !(json_is_boolean(w) && json_is_boolean(val)))
			bad++;
	}
	CHECK_MSG(bad == 0, "%s: value types match the capture", what);
}

static void test_requests(json_t *vec)
{
	json_t *reqs = json_object_get(vec, "requests_on_topic_exchange");
	static const char *const methods[] = { "echo", "echo", "fail" };
	static const bool is_call[] = { true, false, true };
	struct rpc_envelope_request req;
	struct rpc_error e;
	size_t i;

	CHECK_INT(json_array_size(reqs), 3);
	for (i = 0; i < json_array_size(reqs) && i < 3; i++) {
		json_t *r = json_array_get(reqs, i);
		json_t *props = json_object_get(r, "properties");
		json_t *inner = parse_inner(json_object_get(r, "body"));
		char *text = body_text(json_object_get(r, "body"));

		CHECK_STR(json_string_value(json_object_get(r, "exchange")), "novafs");
		CHECK_STR(json_string_value(json_object_get(props, "content_type")),
			  "application/json");
		CHECK_STR(json_string_value(json_object_get(props, "content_encoding")),
			  "utf-8");
		CHECK_INT(json_integer_value(json_object_get(props, "delivery_mode")), 2);
		CHECK_INT(json_integer_value(json_object_get(props, "priority")), 0);
		CHECK_MSG((json_object_get(props, "expiration") != NULL) == is_call[i],
			  "request %zu: expiration only on a call", i);

		memset(&e, 0, sizeof(e));
		CHECK_INT(rpc_envelope_decode_request(text, strlen(text), &req, &e), 0);
		CHECK_STR(req.method, methods[i]);
		CHECK(json_is_object(req.args));
		CHECK_STR(req.unique_id,
			  json_string_value(json_object_get(inner, "_unique_id")));
		if (is_call[i]) {
			CHECK_STR(req.msg_id,
				  json_string_value(json_object_get(inner, "_msg_id")));
			CHECK(req.reply_q && strncmp(req.reply_q, "reply_", 6) == 0);
			CHECK_STR(json_string_value(json_object_get(props, "expiration")),
				  "5000");
		} else {
			CHECK(req.msg_id == NULL && req.reply_q == NULL);
		}
		CHECK_STR(json_string_value(json_object_get(req.context, "request_id")),
			  "req-0001");
		CHECK_STR(json_string_value(json_object_get(req.context, "user_id")), "u1");
		CHECK_STR(json_string_value(json_object_get(req.context, "project_id")),
			  "p1");
		CHECK_STR(json_string_value(json_object_get(req.args,
				i == 2 ? "why" : "text")),
			  i == 0 ? "hello" : i == 1 ? "cast-me" : "bad flavor");
		rpc_envelope_request_release(&req);
		CHECK(req.owner_ == NULL);
		free(text);
		json_decref(inner);
	}
}

struct raw_case {
	const char *name, *method, *cls, *module, *message;
	int err;
};

static void test_raw_calls(json_t *vec)
{
	static const struct raw_case cases[] = {
		{ "raw_call_ok", "echo", NULL, NULL, NULL, 0 },
		{ "raw_call_failure", "fail", "ValueError", "builtins",
		  "no valid host", EINVAL },
		{ "raw_call_no_such_method", "nosuch", "NoSuchMethod",
		  "oslo_messaging.rpc.dispatcher",
		  "Endpoint does not support RPC method nosuch", EOPNOTSUPP },
	};
	struct rpc_envelope_request req;
	struct rpc_envelope_reply rep;
	struct rpc_error e;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct raw_case *c = &cases[i];
		json_t *raw = json_object_get(vec, c->name);
		json_t *props = json_object_get(raw, "reply_properties");
		char *rq = body_text(json_object_get(raw, "request"));
		char *rp = body_text(json_object_get(raw, "reply"));

		CHECK_MSG(raw != NULL, "%s present", c->name);
		CHECK_INT(rpc_envelope_decode_request(rq, strlen(rq), &req, &e), 0);
		CHECK_STR(req.method, c->method);
		CHECK_STR(req.reply_q, "reply_sniff");
		CHECK_STR(json_string_value(json_object_get(req.context, "request_id")),
			  "req-0002");

		/* Replies carry no expiration, and the same other properties. */
		CHECK(json_object_get(props, "expiration") == NULL);
		CHECK_INT(json_integer_value(json_object_get(props, "delivery_mode")), 2);

		CHECK_INT(rpc_envelope_decode_reply(rp, strlen(rp), &rep, &e), 0);
		CHECK_STR(rep.msg_id, req.msg_id);
		CHECK(rep.unique_id != NULL && strlen(rep.unique_id) == 32);
		CHECK(rep.ending);
		if (!c->cls) {
			CHECK(rep.failure_class == NULL);
			CHECK_STR(json_string_value(json_object_get(rep.result, "echoed")),
				  "from-c");
		} else {
			CHECK(rep.result == NULL);
			CHECK_STR(rep.failure_class, c->cls);
			CHECK_STR(rep.failure_module, c->module);
			CHECK_STR(rep.failure_message, c->message);
			CHECK_INT(rpc_errno_from_class(rep.failure_class), c->err);
		}
		rpc_envelope_reply_release(&rep);
		rpc_envelope_request_release(&req);
		free(rq);
		free(rp);
	}
}

/* What we encode has the captured shape. */
static void test_encode_shape(json_t *vec)
{
	json_t *want_call = parse_inner(json_object_get(
		json_object_get(vec, "raw_call_ok"), "request"));
	json_t *want_cast = parse_inner(json_object_get(json_array_get(
		json_object_get(vec, "requests_on_topic_exchange"), 1), "body"));
	json_t *want_ok = parse_inner(json_object_get(
		json_object_get(vec, "raw_call_ok"), "reply"));
	json_t *want_fail = parse_inner(json_object_get(
		json_object_get(vec, "raw_call_no_such_method"), "reply"));
	json_t *want_failure = json_loads(json_string_value(
		json_object_get(want_fail, "failure")), 0, NULL);
	json_t *ctx = json_pack("{s:s}", "request_id", "req-0002");
	json_t *args = json_pack("{s:s}", "text", "from-c");
	json_t *result = json_pack("{s:s}", "echoed", "from-c");
	struct rpc_envelope_request req = { 0 }, back;
	struct rpc_envelope_reply rep;
	struct strbuf sb = STRBUF_INIT;
	struct rpc_error e, failure;
	json_t *outer, *inner, *fobj;
	char idbuf[UUID_HEX_LEN], msgid[UUID_HEX_LEN];

	uuid_generate_hex(idbuf);
	uuid_generate_hex(msgid);

	/* A call, to a target of version 1.0 as the captured ones. */
	req.method = "echo";
	req.args = args;
	req.version = "1.0";
	req.msg_id = msgid;
	req.reply_q = "reply_sniff";
	req.unique_id = idbuf;
	req.context = ctx;
	CHECK_INT(rpc_envelope_encode_request(&req, &sb, &e), 0);
	outer = json_loads(sb.buf, 0, NULL);
	CHECK(json_is_object(outer) && json_object_size(outer) == 2);
	CHECK_STR(json_string_value(json_object_get(outer, "oslo.version")), "2.0");
	CHECK_MSG(json_is_string(json_object_get(outer, "oslo.message")),
		  "oslo.message is a string");
	inner = parse_inner(outer);
	check_same_keys(inner, want_call, "call request");
	check_same_types(inner, want_call, "call request");
	CHECK(json_is_null(json_object_get(inner, "_timeout")));
	CHECK_STR(json_string_value(json_object_get(inner, "version")), "1.0");
	CHECK_INT(rpc_envelope_decode_request(sb.buf, sb.len, &back, &e), 0);
	CHECK_STR(back.method, "echo");
	CHECK_STR(back.msg_id, msgid);
	CHECK_STR(back.unique_id, idbuf);
	CHECK(json_equal(back.args, args));
	CHECK(json_equal(back.context, ctx));
	rpc_envelope_request_release(&back);
	json_decref(inner);
	json_decref(outer);

	/* A target with a version and a namespace sends both, and a call
	 * monitor its _timeout. */
	strbuf_reset(&sb);
	req.version = "1.3";
	req.namespace = "baseapi";
	req.timeout_s = 2;
	CHECK_INT(rpc_envelope_encode_request(&req, &sb, &e), 0);
	CHECK_INT(rpc_envelope_decode_request(sb.buf, sb.len, &back, &e), 0);
	CHECK_STR(back.version, "1.3");
	CHECK_STR(back.namespace, "baseapi");
	CHECK_INT(back.timeout_s, 2);
	rpc_envelope_request_release(&back);
	req.namespace = NULL;
	req.timeout_s = 0;

	/* As oslo's client: no version unless the target has one. */
	strbuf_reset(&sb);
	req.version = NULL;
	CHECK_INT(rpc_envelope_encode_request(&req, &sb, &e), 0);
	outer = json_loads(sb.buf, 0, NULL);
	inner = parse_inner(outer);
	CHECK(json_object_get(inner, "version") == NULL);
	CHECK(json_object_get(inner, "namespace") == NULL);
	json_decref(inner);
	json_decref(outer);
	req.version = "1.0";

	/* A cast: no _msg_id, _reply_q, _timeout. */
	strbuf_reset(&sb);
	req.msg_id = req.reply_q = NULL;
	json_object_set_new(ctx, "user_id", json_string("u1"));
	json_object_set_new(ctx, "project_id", json_string("p1"));
	CHECK_INT(rpc_envelope_encode_request(&req, &sb, &e), 0);
	outer = json_loads(sb.buf, 0, NULL);
	inner = parse_inner(outer);
	check_same_keys(inner, want_cast, "cast request");
	check_same_types(inner, want_cast, "cast request");
	json_decref(inner);
	json_decref(outer);

	/* A cast without args or context still sends "args": {}. */
	strbuf_reset(&sb);
	req.args = NULL;
	req.context = NULL;
	CHECK_INT(rpc_envelope_encode_request(&req, &sb, &e), 0);
	CHECK_INT(rpc_envelope_decode_request(sb.buf, sb.len, &back, &e), 0);
	CHECK(json_is_object(back.args) && json_object_size(back.args) == 0);
	CHECK(back.context == NULL);
	rpc_envelope_request_release(&back);

	/* A successful reply. */
	strbuf_reset(&sb);
	CHECK_INT(rpc_envelope_encode_reply(msgid, idbuf, result, NULL, NULL, &sb,
					    &e), 0);
	outer = json_loads(sb.buf, 0, NULL);
	CHECK_MSG(json_is_string(json_object_get(outer, "oslo.message")),
		  "reply oslo.message is a string");
	inner = parse_inner(outer);
	check_same_keys(inner, want_ok, "ok reply");
	check_same_types(inner, want_ok, "ok reply");
	CHECK(json_is_null(json_object_get(inner, "failure")));
	CHECK(json_is_true(json_object_get(inner, "ending")));
	json_decref(inner);
	json_decref(outer);
	CHECK_INT(rpc_envelope_decode_reply(sb.buf, sb.len, &rep, &e), 0);
	CHECK(json_equal(rep.result, result));
	CHECK(rep.failure_class == NULL);
	rpc_envelope_reply_release(&rep);

	/* A failure reply, built as the server builds NoSuchMethod. */
	strbuf_reset(&sb);
	rpc_error_set(&failure, -EOPNOTSUPP, "NoSuchMethod",
		      "Endpoint does not support RPC method %s", "nosuch");
	CHECK_INT(rpc_envelope_encode_reply(msgid, idbuf, NULL, &failure,
					    "oslo_messaging.rpc.dispatcher", &sb,
					    &e), 0);
	outer = json_loads(sb.buf, 0, NULL);
	inner = parse_inner(outer);
	check_same_keys(inner, want_fail, "failure reply");
	CHECK(json_is_null(json_object_get(inner, "result")));
	CHECK_MSG(json_is_string(json_object_get(inner, "failure")),
		  "failure is a JSON string, as oslo sends");
	fobj = json_loads(json_string_value(json_object_get(inner, "failure")), 0,
			  NULL);
	check_same_keys(fobj, want_failure, "failure object");
	check_same_types(fobj, want_failure, "failure object");
	CHECK(json_equal(json_object_get(fobj, "class"),
			 json_object_get(want_failure, "class")));
	CHECK(json_equal(json_object_get(fobj, "module"),
			 json_object_get(want_failure, "module")));
	CHECK(json_equal(json_object_get(fobj, "message"),
			 json_object_get(want_failure, "message")));
	CHECK(json_equal(json_object_get(fobj, "args"),
			 json_object_get(want_failure, "args")));
	json_decref(fobj);
	json_decref(inner);
	json_decref(outer);
	CHECK_INT(rpc_envelope_decode_reply(sb.buf, sb.len, &rep, &e), 0);
	CHECK_STR(rep.failure_class, "NoSuchMethod");
	CHECK_STR(rep.failure_message, "Endpoint does not support RPC method nosuch");
	rpc_envelope_reply_release(&rep);

	/* A failure with no class gets the errno's. */
	strbuf_reset(&sb);
	memset(&failure, 0, sizeof(failure));
	failure.err = -EHOSTUNREACH;
	snprintf(failure.message, sizeof(failure.message), "no host");
	CHECK_INT(rpc_envelope_encode_reply(msgid, idbuf, NULL, &failure, NULL,
					    &sb, &e), 0);
	CHECK_INT(rpc_envelope_decode_reply(sb.buf, sb.len, &rep, &e), 0);
	CHECK_STR(rep.failure_class, "NoValidHost");
	CHECK_STR(rep.failure_module, "novafs.exception");
	rpc_envelope_reply_release(&rep);

	strbuf_release(&sb);
	json_decref(args);
	json_decref(result);
	json_decref(ctx);
	json_decref(want_failure);
	json_decref(want_call);
	json_decref(want_cast);
	json_decref(want_ok);
	json_decref(want_fail);
}

static void test_malformed(void)
{
	static const char *const bad_requests[] = {
		"",
		"not json",
		"[1, 2]",
		"{\"oslo.version\": \"3.0\", \"oslo.message\": \"{}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": {\"method\": \"x\"}}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{bad\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"args\\\": {}}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"method\\\": \\\"m\\\", \\\"args\\\": 3}\"}",
	};
	static const char *const bad_replies[] = {
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"result\\\": 1}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"_msg_id\\\": \\\"a\\\", \\\"failure\\\": \\\"{nope\\\"}\"}",
		"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"_msg_id\\\": \\\"a\\\", \\\"failure\\\": \\\"{}\\\"}\"}",
	};
	struct rpc_envelope_request req;
	struct rpc_envelope_reply rep;
	struct rpc_error e;
	const char *plain = "{\"method\": \"m\", \"args\": null, \"_unique_id\": \"u\"}";
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		memset(&e, 0, sizeof(e));
		CHECK_MSG(rpc_envelope_decode_request(bad_requests[i],
						      strlen(bad_requests[i]), &req,
						      &e) == -EBADMSG && e.err == -EBADMSG &&
			  e.message[0], "bad request %zu refused: %s", i, e.message);
		CHECK(req.owner_ == NULL);
		rpc_envelope_request_release(&req); /* harmless */
	}
	for (i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++)
		CHECK_MSG(rpc_envelope_decode_reply(bad_replies[i],
						    strlen(bad_replies[i]), &rep,
						    &e) == -EBADMSG,
			  "bad reply %zu refused", i);

	/* No envelope: oslo takes the body as the message itself. */
	CHECK_INT(rpc_envelope_decode_request(plain, strlen(plain), &req, &e), 0);
	CHECK_STR(req.method, "m");
	CHECK(json_is_object(req.args));
	rpc_envelope_request_release(&req);

	/* Not NUL-terminated: only len bytes count. */
	CHECK_INT(rpc_envelope_decode_request(plain, 10, &req, NULL), -EBADMSG);

	memset(&req, 0, sizeof(req));
	req.method = "m";
	CHECK_INT(rpc_envelope_encode_request(&req, &sb, &e), -EINVAL); /* no id */
	req.unique_id = "u";
	req.msg_id = "x"; /* a call needs _reply_q too */
	CHECK_INT(rpc_envelope_encode_request(&req, &sb, &e), -EINVAL);
	req.msg_id = NULL;
	req.args = json_integer(1);
	CHECK_INT(rpc_envelope_encode_request(&req, &sb, &e), -EINVAL);
	json_decref(req.args);
	CHECK_INT(sb.len, 0);
	strbuf_release(&sb);
}

/* _timeout as a peer may send it: only 0..a day in whole seconds counts. */
static void test_timeouts(void)
{
	static const struct { const char *json; long long want; } cases[] = {
		{ "2", 2 }, { "3.9", 3 }, { "null", 0 }, { "-5", 0 },
		{ "\"10\"", 0 }, { "1e300", 0 }, { "9223372036854775807", 0 },
		{ "86400", 86400 },
	};
	struct rpc_envelope_request req;
	char body[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body),
			 "{\"method\": \"m\", \"_msg_id\": \"a\", \"_reply_q\": \"q\", \"_timeout\": %s}",
			 cases[i].json);
		CHECK_INT(rpc_envelope_decode_request(body, strlen(body), &req, NULL), 0);
		CHECK_MSG(req.timeout_s == cases[i].want, "_timeout %s -> %lld (got %lld)",
			  cases[i].json, cases[i].want, req.timeout_s);
		rpc_envelope_request_release(&req);
	}
}

/* The endpoint each captured server had (tests/data/README.md): hostA
 * 1.3, hostB 2.0, hostC an endpoint without a target, which oslo takes as
 * 1.0 whatever the server's Target says. */
static const char *endpoint_version(const char *routing_key)
{
	if (strcmp(routing_key, "vectors.hostA") == 0)
		return "1.3";
	if (strcmp(routing_key, "vectors.hostB") == 0)
		return "2.0";
	return "1.0";
}

/* Our refusal of a captured request, against oslo's reply, field by
 * field: the same dispatcher rule (rpc_target_check), and the same
 * failure once encoded. */
static void check_refusal(const char *name, json_t *c)
{
	const struct rpc_service_decl svc = {
		"vectors", endpoint_version(json_string_value(json_object_get(c, "routing_key"))),
		NULL, 0, NULL, "",
	};
	json_t *reply = json_array_get(json_object_get(c, "replies"), 0);
	json_t *want = parse_inner(json_object_get(reply, "body"));
	json_t *want_f = NULL, *got = NULL, *got_f = NULL, *outer = NULL;
	char *rq = body_text(json_object_get(c, "request"));
	const char *outcome = json_string_value(json_object_get(c, "outcome"));
	struct rpc_envelope_request req;
	struct rpc_error e = { 0 };
	struct strbuf sb = STRBUF_INIT;
	char shown[600];
	int rc;

	CHECK_MSG(json_array_size(json_object_get(c, "replies")) == 1,
		  "%s: oslo answered once", name);
	CHECK_INT(rpc_envelope_decode_request(rq, strlen(rq), &req, &e), 0);
	rc = rpc_target_check(&svc, req.method, req.version, req.namespace,
			      strcmp(req.method, "echo") == 0, &e);
	if (strncmp(outcome, "result ", 7) == 0) {
		CHECK_MSG(rc == 0, "%s: served, as by oslo (%s)", name, e.message);
		goto out;
	}
	snprintf(shown, sizeof(shown), "%s: %s", e.cls, e.message);
	CHECK_MSG(rc < 0 && strcmp(shown, outcome) == 0, "%s: \"%s\" as oslo's \"%s\"",
		  name, shown, outcome);
	CHECK_INT(rc, strcmp(e.cls, "NoSuchMethod") == 0 ? -EOPNOTSUPP :
		  -EPROTONOSUPPORT);

	/* Encoded as the bus answers a refused call. */
	CHECK_INT(rpc_envelope_encode_reply(req.msg_id, "0123456789abcdef0123456789abcdef",
					    NULL, &e, "oslo_messaging.rpc.dispatcher",
					    &sb, NULL), 0);
	outer = json_loads(sb.buf, 0, NULL);
	check_same_keys(outer, json_object_get(reply, "body"), name);
	CHECK(json_equal(json_object_get(outer, "oslo.version"),
			 json_object_get(json_object_get(reply, "body"), "oslo.version")));
	got = parse_inner(outer);
	check_same_keys(got, want, name);
	check_same_types(got, want, name);
	CHECK(json_is_null(json_object_get(got, "result")) &&
	      json_is_null(json_object_get(want, "result")));
	CHECK(json_equal(json_object_get(got, "ending"), json_object_get(want, "ending")));
	CHECK(json_equal(json_object_get(got, "_msg_id"), json_object_get(want, "_msg_id")));
	got_f = json_loads(json_string_value(json_object_get(got, "failure")), 0, NULL);
	want_f = json_loads(json_string_value(json_object_get(want, "failure")), 0, NULL);
	check_same_keys(got_f, want_f, name);
	check_same_types(got_f, want_f, name);
	CHECK_MSG(json_equal(json_object_get(got_f, "class"), json_object_get(want_f, "class")),
		  "%s: failure class", name);
	CHECK_MSG(json_equal(json_object_get(got_f, "module"), json_object_get(want_f, "module")),
		  "%s: failure module", name);
	CHECK_MSG(json_equal(json_object_get(got_f, "message"), json_object_get(want_f, "message")),
		  "%s: failure message", name);
	CHECK_MSG(json_equal(json_object_get(got_f, "args"), json_object_get(want_f, "args")),
		  "%s: failure args", name);
	CHECK_MSG(json_equal(json_object_get(got_f, "kwargs"), json_object_get(want_f, "kwargs")),
		  "%s: failure kwargs", name);
	CHECK_MSG(json_is_array(json_object_get(got_f, "tb")), "%s: tb is a list", name);
out:
	rpc_envelope_request_release(&req);
	strbuf_release(&sb);
	json_decref(got_f);
	json_decref(want_f);
	json_decref(got);
	json_decref(outer);
	json_decref(want);
	free(rq);
}

static void test_unsupported_version(json_t *extra)
{
	json_t *cases = json_object_get(extra, "unsupported_version"), *c;
	const char *name;
	int n = 0;

	json_object_foreach(cases, name, c) {
		if (!json_is_object(c) || !json_object_get(c, "outcome"))
			continue;
		check_refusal(name, c);
		n++;
	}
	CHECK_MSG(n == 9, "every captured case was compared (%d)", n);
}

static void test_errors(void)
{
	static const struct { const char *cls; int err; } table[] = {
		{ "InvalidInput", EINVAL }, { "ValueError", EINVAL },
		{ "NotFound", ENOENT }, { "InstanceInvalidState", EBUSY },
		{ "NoValidHost", EHOSTUNREACH }, { "ServiceUnavailable", EHOSTDOWN },
		{ "MessagingTimeout", ETIMEDOUT }, { "NoSuchMethod", EOPNOTSUPP },
		{ "ConnectionError", ENETDOWN }, { "LibvirtError", EIO },
		{ "KeyError", EREMOTEIO }, { "", EREMOTEIO },
	};
	struct rpc_error e;
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		CHECK_MSG(rpc_errno_from_class(table[i].cls) == table[i].err,
			  "class %s -> errno %d", table[i].cls, table[i].err);
	CHECK_INT(rpc_errno_from_class(NULL), EREMOTEIO);
	CHECK_STR(rpc_class_from_errno(EINVAL), "InvalidInput");
	CHECK_STR(rpc_class_from_errno(-EINVAL), "InvalidInput");
	CHECK_STR(rpc_class_from_errno(ENOENT), "NotFound");
	CHECK_STR(rpc_class_from_errno(-EHOSTDOWN), "ServiceUnavailable");
	CHECK_STR(rpc_class_from_errno(-EIO), "LibvirtError");
	CHECK_STR(rpc_class_from_errno(-EPERM), "RemoteError");
	for (i = 0; i < 10; i++) /* every class maps back to itself or an alias */
		CHECK_INT(rpc_errno_from_class(rpc_class_from_errno(table[i].err)),
			  table[i].err);

	CHECK_INT(rpc_error_set(NULL, -ENOENT, "NotFound", "x"), -ENOENT);
	CHECK_INT(rpc_error_set(&e, -EHOSTUNREACH, "NoValidHost", "no host %d\n", 7),
		  -EHOSTUNREACH);
	CHECK_STR(e.cls, "NoValidHost");
	CHECK_STR(e.message, "no host 7"); /* trailing newline dropped */
	CHECK_INT(e.err, -EHOSTUNREACH);
	rpc_error_set(&e, -EBUSY, NULL, "busy");
	CHECK_STR(e.cls, "InstanceInvalidState");
	rpc_error_set(&e, -EBUSY, "", "busy");
	CHECK_STR(e.cls, "InstanceInvalidState");
	/* Re-raising with its own fields. */
	rpc_error_set(&e, e.err, e.cls, "again: %s", e.message);
	CHECK_STR(e.message, "again: busy");
	CHECK_STR(e.cls, "InstanceInvalidState");
}

static void test_uuid(void)
{
	char a[UUID_STR_LEN], b[UUID_STR_LEN], h[UUID_HEX_LEN];
	int i, ok = 1;

	uuid_generate_str(a);
	uuid_generate_str(b);
	CHECK_INT(strlen(a), 36);
	CHECK(strcmp(a, b) != 0);
	CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
	CHECK(a[14] == '4');
	CHECK(strchr("89ab", a[19]) != NULL);
	uuid_generate_hex(h);
	CHECK_INT(strlen(h), 32);
	for (i = 0; i < 32; i++)
		ok &= (h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f');
	CHECK_MSG(ok, "hex uuid is lower-case hex: %s", h);
}

int main(void)
{
	json_error_t jerr;
	json_t *vec, *extra;

	vec = json_load_file(VECTORS, 0, &jerr);
	CHECK_MSG(vec != NULL, "load %s (cwd must be the repo root): %s", VECTORS,
		  vec ? "ok" : jerr.text);
	if (vec) {
		test_requests(vec);
		test_raw_calls(vec);
		test_encode_shape(vec);
		json_decref(vec);
	}
	extra = json_load_file(EXTRA, 0, &jerr);
	CHECK_MSG(extra != NULL, "load %s: %s", EXTRA, extra ? "ok" : jerr.text);
	if (extra) {
		test_unsupported_version(extra);
		json_decref(extra);
	}
	test_malformed();
	test_timeouts();
	test_errors();
	test_uuid();
	return test_done();
}
