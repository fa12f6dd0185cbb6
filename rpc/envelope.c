/*
 * envelope.c - oslo.messaging 2.0 envelopes (see envelope.h).
 *
 * The inner message is JSON text inside a JSON string, and a failure is
 * JSON text inside that: each level is dumped or parsed separately, exactly
 * as oslo.messaging's jsonutils does.  Output uses Python's default
 * separators and ASCII escaping, so our bodies look byte-for-byte like
 * Python's apart from key values.
 */
#include "envelope.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ENV_VERSION "2.0"
#define ENV_CONTEXT_PREFIX "_context_"
#define ENV_DUMP_FLAGS (JSON_ENSURE_ASCII)
#define ENV_TIMEOUT_MAX 86400

/* Dumps msg into the envelope and appends it to out.  Takes msg's
 * reference. */
static int env_wrap(json_t *msg, struct strbuf *out, struct rpc_error *e)
{
	char *inner = NULL, *outer = NULL;
	json_t *env = NULL;
	int rc = -ENOMEM;

	inner = json_dumps(msg, ENV_DUMP_FLAGS);
	if (!inner)
		goto out;
	env = json_pack("{s:s, s:s}", "oslo.version", ENV_VERSION,
			"oslo.message", inner);
	if (!env)
		goto out;
	outer = json_dumps(env, ENV_DUMP_FLAGS);
	if (!outer)
		goto out;
	strbuf_addstr(out, outer);
	rc = 0;
out:
	if (rc)
		rpc_error_set(e, rc, "InvalidInput", "cannot encode message");
	free(outer);
	free(inner);
	json_decref(env);
	json_decref(msg);
	return rc;
}

int rpc_envelope_encode_request(const struct rpc_envelope_request *req,
				struct strbuf *out, struct rpc_error *e)
{
	json_t *msg = NULL, *args;
	const char *key;
	json_t *val;
	char ctxkey[256];
	int rc;

	if (!req->method || !*req->method || !req->unique_id)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "a request needs a method and a _unique_id");
	if ((req->args && !json_is_object(req->args)) ||
	    (req->context && !json_is_object(req->context)))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "args and context must be JSON objects");
	if (!req->msg_id != !req->reply_q)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "a call needs both _msg_id and _reply_q");

	msg = json_object();
	args = req->args ? json_incref(req->args) : json_object();
	if (!msg || !args || json_object_set_new(msg, "method", json_string(req->method)) ||
	    json_object_set_new(msg, "args", args))
		goto nomem;
	/* As oslo's client: version and namespace only when the target
	 * has them. */
	if (req->version &&
	    json_object_set_new(msg, "version", json_string(req->version)))
		goto nomem;
	if (req->namespace &&
	    json_object_set_new(msg, "namespace", json_string(req->namespace)))
		goto nomem;
	if (req->msg_id) {
		/* _timeout is oslo's call-monitor timeout, null when unused;
		 * the call's own timeout travels as the AMQP expiration. */
		if (json_object_set_new(msg, "_msg_id", json_string(req->msg_id)) ||
		    json_object_set_new(msg, "_reply_q", json_string(req->reply_q)) ||
		    json_object_set_new(msg, "_timeout",
					req->timeout_s > 0 ?
					json_integer(req->timeout_s) : json_null()))
			goto nomem;
	}
	if (json_object_set_new(msg, "_unique_id", json_string(req->unique_id)))
		goto nomem;
	if (req->context) {
		json_object_foreach(req->context, key, val) {
			if ((size_t)snprintf(ctxkey, sizeof(ctxkey), "%s%s",
					     ENV_CONTEXT_PREFIX, key) >= sizeof(ctxkey)) {
				json_decref(msg);
				return rpc_error_set(e, -EINVAL, "InvalidInput",
						     "context key too long");
			}
			if (json_object_set(msg, ctxkey, val))
				goto nomem;
		}
	}
	return env_wrap(msg, out, e);
nomem:
	/* json_string(NULL) (a non-UTF-8 method, say) lands here too. */
	json_decref(msg);
	rc = -EINVAL;
	return rpc_error_set(e, rc, "InvalidInput",
			     "cannot encode request (not UTF-8, or out of memory)");
}

int rpc_envelope_encode_reply(const char *msg_id, const char *unique_id,
			      json_t *result, const struct rpc_error *failure,
			      const char *module, struct strbuf *out,
			      struct rpc_error *e)
{
	json_t *msg = NULL, *fobj = NULL;
	char *ftext = NULL;
	const char *cls;

	if (!msg_id || !unique_id)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "a reply needs _msg_id and _unique_id");
	if (failure) {
		cls = failure->cls[0] ? failure->cls : rpc_class_from_errno(failure->err);
		fobj = json_pack("{s:s, s:s, s:s, s:[], s:[s], s:{}}",
				 "class", cls,
				 "module", module ? module : "novafs.exception",
				 "message", failure->message,
				 "tb",
				 "args", failure->message,
				 "kwargs");
		if (!fobj)
			goto bad;
		ftext = json_dumps(fobj, ENV_DUMP_FLAGS);
		if (!ftext)
			goto bad;
		msg = json_pack("{s:n, s:s, s:b, s:s, s:s}", "result",
				"failure", ftext, "ending", 1,
				"_msg_id", msg_id, "_unique_id", unique_id);
	} else {
		msg = json_pack("{s:O, s:n, s:b, s:s, s:s}", "result",
				result ? result : json_null(),
				"failure", "ending", 1,
				"_msg_id", msg_id, "_unique_id", unique_id);
	}
	if (!msg)
		goto bad;
	free(ftext);
	json_decref(fobj);
	return env_wrap(msg, out, e);
bad:
	free(ftext);
	json_decref(fobj);
	return rpc_error_set(e, -EINVAL, "InvalidInput",
			     "cannot encode reply (not UTF-8, or out of memory)");
}

int rpc_envelope_encode_heartbeat(const char *msg_id, const char *unique_id,
				  struct strbuf *out, struct rpc_error *e)
{
	json_t *msg;

	if (!msg_id || !unique_id)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "a reply needs _msg_id and _unique_id");
	msg = json_pack("{s:n, s:n, s:b, s:s, s:s}", "result", "failure",
			"ending", 0, "_msg_id", msg_id, "_unique_id", unique_id);
	if (!msg)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "cannot encode a heartbeat");
	return env_wrap(msg, out, e);
}

int rpc_envelope_encode_notification(const char *message_id,
				     const char *publisher_id,
				     const char *event_type,
				     const char *priority, json_t *payload,
				     const char *timestamp, const char *unique_id,
				     struct strbuf *out, struct rpc_error *e)
{
	json_t *msg;

	msg = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s}",
			"message_id", message_id, "publisher_id", publisher_id,
			"event_type", event_type, "priority", priority,
			"payload", payload ? payload : json_null(),
			"timestamp", timestamp, "_unique_id", unique_id);
	if (!msg)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "cannot encode notification %s", event_type);
	return env_wrap(msg, out, e);
}

/* Parses an AMQP body into the inner message: a new reference or NULL. */
static json_t *env_unwrap(const void *body, size_t len, struct rpc_error *e)
{
	json_t *outer, *ver, *inner_s, *msg = NULL;
	json_error_t jerr;
	const char *v;

	outer = json_loadb(body, len, 0, &jerr);
	if (!outer) {
		rpc_error_set(e, -EBADMSG, "InvalidInput", "body is not JSON: %s",
			      jerr.text);
		return NULL;
	}
	if (!json_is_object(outer)) {
		rpc_error_set(e, -EBADMSG, "InvalidInput", "body is not a JSON object");
		goto out;
	}
	ver = json_object_get(outer, "oslo.version");
	if (!ver) {
		/* oslo.messaging's deserialize_msg: no envelope, the body is
		 * the message (an old, 1.0-style peer). */
		msg = json_incref(outer);
		goto out;
	}
	v = json_string_value(ver);
	if (!v || strncmp(v, "2.", 2) != 0) {
		rpc_error_set(e, -EBADMSG, "InvalidInput",
			      "unsupported oslo.version %s", v ? v : "(not a string)");
		goto out;
	}
	inner_s = json_object_get(outer, "oslo.message");
	if (!json_is_string(inner_s)) {
		rpc_error_set(e, -EBADMSG, "InvalidInput",
			      "oslo.message is not a string");
		goto out;
	}
	msg = json_loadb(json_string_value(inner_s), json_string_length(inner_s),
			 0, &jerr);
	if (!msg) {
		rpc_error_set(e, -EBADMSG, "InvalidInput",
			      "oslo.message is not JSON: %s", jerr.text);
		goto out;
	}
	if (!json_is_object(msg)) {
		rpc_error_set(e, -EBADMSG, "InvalidInput",
			      "oslo.message is not a JSON object");
		json_decref(msg);
		msg = NULL;
	}
out:
	json_decref(outer);
	return msg;
}

/* _timeout in whole seconds, as oslo's int(); 0 when absent, null, not a
 * number or out of 0..ENV_TIMEOUT_MAX, so that no value a peer sends can
 * overflow the arithmetic done with it. */
static long long decode_timeout(json_t *v)
{
	double d = json_number_value(v);

	if (!json_is_number(v) || !(d > 0) || d > ENV_TIMEOUT_MAX)
		return 0;
	return (long long)d;
}

int rpc_envelope_decode_request(const void *body, size_t len,
				struct rpc_envelope_request *req,
				struct rpc_error *e)
{
	const size_t plen = strlen(ENV_CONTEXT_PREFIX);
	json_t *msg, *args, *ctx = NULL, *val;
	const char *key;
	int rc = -EBADMSG;

	memset(req, 0, sizeof(*req));
	msg = env_unwrap(body, len, e);
	if (!msg)
		return -EBADMSG;
	req->method = json_string_value(json_object_get(msg, "method"));
	if (!req->method) {
		rpc_error_set(e, rc, "InvalidInput", "request has no method");
		goto out;
	}
	args = json_object_get(msg, "args");
	if (!args || json_is_null(args)) {
		/* Keep the empty args alive inside msg, which owns it. */
		args = json_object();
		if (json_object_set_new(msg, "args", args))
			goto nomem;
	} else if (!json_is_object(args)) {
		rpc_error_set(e, rc, "InvalidInput", "args of %s is not an object",
			      req->method);
		goto out;
	}
	req->args = args;
	if ((json_object_get(msg, "version") &&
	     !json_is_string(json_object_get(msg, "version"))) ||
	    (json_object_get(msg, "namespace") &&
	     !json_is_string(json_object_get(msg, "namespace")) &&
	     !json_is_null(json_object_get(msg, "namespace")))) {
		rpc_error_set(e, rc, "InvalidInput",
			      "version and namespace of %s must be strings",
			      req->method);
		goto out;
	}
	req->version = json_string_value(json_object_get(msg, "version"));
	req->namespace = json_string_value(json_object_get(msg, "namespace"));
	req->timeout_s = decode_timeout(json_object_get(msg, "_timeout"));
	req->msg_id = json_string_value(json_object_get(msg, "_msg_id"));
	req->reply_q = json_string_value(json_object_get(msg, "_reply_q"));
	req->unique_id = json_string_value(json_object_get(msg, "_unique_id"));
	json_object_foreach(msg, key, val) {
		if (strncmp(key, ENV_CONTEXT_PREFIX, plen) != 0)
			continue;
		if (!ctx && !(ctx = json_object()))
			goto nomem;
		if (json_object_set(ctx, key + plen, val))
			goto nomem;
	}
	req->context = ctx;
	req->owner_ = msg;
	return 0;
nomem:
	rc = -ENOMEM;
	rpc_error_set(e, rc, "", "out of memory decoding a request");
out:
	json_decref(ctx);
	json_decref(msg);
	memset(req, 0, sizeof(*req));
	return rc;
}

void rpc_envelope_request_release(struct rpc_envelope_request *req)
{
	if (!req || !req->owner_)
		return;
	json_decref(req->context);
	json_decref(req->owner_);
	memset(req, 0, sizeof(*req));
}

int rpc_envelope_decode_reply(const void *body, size_t len,
			      struct rpc_envelope_reply *rep,
			      struct rpc_error *e)
{
	json_t *msg, *failure, *fobj = NULL, *result;
	json_error_t jerr;
	int rc = -EBADMSG;

	memset(rep, 0, sizeof(*rep));
	msg = env_unwrap(body, len, e);
	if (!msg)
		return -EBADMSG;
	rep->msg_id = json_string_value(json_object_get(msg, "_msg_id"));
	if (!rep->msg_id) {
		rpc_error_set(e, rc, "InvalidInput", "reply has no _msg_id");
		goto out;
	}
	rep->unique_id = json_string_value(json_object_get(msg, "_unique_id"));
	rep->ending = json_is_true(json_object_get(msg, "ending"));
	result = json_object_get(msg, "result");
	rep->result = json_is_null(result) ? NULL : result;

	failure = json_object_get(msg, "failure");
	if (failure && !json_is_null(failure)) {
		if (json_is_string(failure)) {
			fobj = json_loadb(json_string_value(failure),
					  json_string_length(failure), 0, &jerr);
			if (!fobj) {
				rpc_error_set(e, rc, "InvalidInput",
					      "failure is not JSON: %s", jerr.text);
				goto out;
			}
		} else {
			fobj = json_incref(failure); /* lenient: an object */
		}
		rep->failure_class = json_string_value(json_object_get(fobj, "class"));
		if (!json_is_object(fobj) || !rep->failure_class) {
			rpc_error_set(e, rc, "InvalidInput", "failure has no class");
			goto out;
		}
		rep->failure_module = json_string_value(json_object_get(fobj, "module"));
		rep->failure_message = json_string_value(json_object_get(fobj, "message"));
		if (!rep->failure_message)
			rep->failure_message = "";
		rep->result = NULL;
	}
	rep->owner_ = msg;
	rep->failure_owner_ = fobj;
	return 0;
out:
	json_decref(fobj);
	json_decref(msg);
	memset(rep, 0, sizeof(*rep));
	return rc;
}

void rpc_envelope_reply_release(struct rpc_envelope_reply *rep)
{
	if (!rep || !rep->owner_)
		return;
	json_decref(rep->failure_owner_);
	json_decref(rep->owner_);
	memset(rep, 0, sizeof(*rep));
}
