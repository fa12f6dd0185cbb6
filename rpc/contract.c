/*
 * contract.c - checking messages against their declarations, and the
 * generated reference of docs/rpc.md; see contract.h.
 */
#include "rpc/contract.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"

#define STRING_MAX_DEFAULT 4096

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* An object or host name: [A-Za-z0-9._-]{1,63}, not "." or "..". */
static bool valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

bool rpc_name_valid(const char *s)
{
	return valid_name(s, strlen(s));
}

static bool valid_uuid(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	size_t i;

	if (len != 36)
		return false;
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!s[i] || !strchr(hex, s[i])) {
			return false;
		}
	}
	return true;
}

static const char *type_name(enum rpc_type t)
{
	switch (t) {
	case RPC_T_STRING: return "a string";
	case RPC_T_INT: return "an integer";
	case RPC_T_BOOL: return "true or false";
	case RPC_T_ENUM: return "one of the names listed";
	case RPC_T_UUID: return "a UUID";
	case RPC_T_NAME: return "a name ([A-Za-z0-9._-], 1 to 63 bytes)";
	case RPC_T_HOST: return "a host name ([A-Za-z0-9._-], 1 to 63 bytes)";
	case RPC_T_OBJECT: return "an object";
	case RPC_T_ARRAY: return "an array";
	case RPC_T_ANY: return "any value";
	case RPC_T_NULL: return "null";
	}
	return "?";
}

static int check(const struct rpc_field *f, json_t *v, struct strbuf *path,
		 struct rpc_error *e);

static int fail(struct rpc_error *e, const struct strbuf *path,
		const char *what)
{
	return rpc_error_set(e, -EINVAL, "InvalidInput", "%s: %s", path->buf, what);
}

/* An object's members against their declarations; unknown members are
 * refused, so a misspelt optional argument is not silently ignored. */
static int check_members(const struct rpc_field *members, json_t *obj,
			 struct strbuf *path, struct rpc_error *e)
{
	const struct rpc_field *m;
	size_t base = path->len;
	const char *key;
	json_t *v;
	int rc;

	for (m = members; m && m->name; m++) {
		v = json_object_get(obj, m->name);
		strbuf_setlen(path, base);
		strbuf_addf(path, "%s%s", base ? "." : "", m->name);
		if (!v) {
			if (m->flags & RPC_OPTIONAL)
				continue;
			return fail(e, path, "missing");
		}
		rc = check(m, v, path, e);
		if (rc < 0)
			return rc;
	}
	json_object_foreach(obj, key, v) {
		for (m = members; m && m->name; m++)
			if (strcmp(m->name, key) == 0)
				break;
		if (!m || !m->name) {
			strbuf_setlen(path, base);
			strbuf_addstr(path, base ? "." : "");
			strbuf_add_escaped(path, key, strlen(key) > 64 ? 64 : strlen(key));
			return fail(e, path, "not an argument of this method");
		}
	}
	strbuf_setlen(path, base);
	return 0;
}

static int check(const struct rpc_field *f, json_t *v, struct strbuf *path,
		 struct rpc_error *e)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v), i;
	long long max, n;
	char what[160];

	if (json_is_null(v)) {
		if (f->flags & RPC_NULLABLE || f->type == RPC_T_ANY ||
		    f->type == RPC_T_NULL)
			return 0;
		return fail(e, path, "must not be null");
	}
	switch (f->type) {
	case RPC_T_ANY:
		return 0;
	case RPC_T_NULL:
		break;
	case RPC_T_STRING:
		max = f->max ? f->max : STRING_MAX_DEFAULT;
		if (!s)
			break;
		if (strlen(s) != len)
			return fail(e, path, "holds a NUL byte");
		if ((long long)len < f->min || (long long)len > max) {
			snprintf(what, sizeof(what), "%zu bytes long, not %lld to %lld",
				 len, f->min, max);
			return fail(e, path, what);
		}
		return 0;
	case RPC_T_INT:
		if (!json_is_integer(v))
			break;
		n = json_integer_value(v);
		if (n < f->min || n > f->max) {
			snprintf(what, sizeof(what), "%lld is out of range %lld..%lld",
				 n, f->min, f->max);
			return fail(e, path, what);
		}
		return 0;
	case RPC_T_BOOL:
		if (!json_is_boolean(v))
			break;
		return 0;
	case RPC_T_ENUM:
		if (!s)
			break;
		for (i = 0; f->values[i]; i++)
			if (strcmp(f->values[i], s) == 0)
				return 0;
		snprintf(what, sizeof(what), "\"%.40s\" is not a known value", s);
		return fail(e, path, what);
	case RPC_T_UUID:
		if (!s || !valid_uuid(s, len))
			break;
		return 0;
	case RPC_T_NAME:
	case RPC_T_HOST:
		if (!s || !valid_name(s, len))
			break;
		return 0;
	case RPC_T_OBJECT:
		if (!json_is_object(v))
			break;
		return check_members(f->members, v, path, e);
	case RPC_T_ARRAY: {
		size_t base = path->len, idx;
		json_t *el;
		int rc;

		if (!json_is_array(v))
			break;
		if ((long long)json_array_size(v) < f->min ||
		    (f->max && (long long)json_array_size(v) > f->max)) {
			snprintf(what, sizeof(what), "has %zu elements, not %lld to %lld",
				 json_array_size(v), f->min, f->max);
			return fail(e, path, what);
		}
		json_array_foreach(v, idx, el) {
			strbuf_setlen(path, base);
			strbuf_addf(path, "[%zu]", idx);
			rc = check(&f->members[0], el, path, e);
			if (rc < 0)
				return rc;
		}
		strbuf_setlen(path, base);
		return 0;
	}
	}
	snprintf(what, sizeof(what), "must be %s", type_name(f->type));
	return fail(e, path, what);
}

int rpc_field_check(const struct rpc_field *field, json_t *value,
		    struct rpc_error *e)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	strbuf_addstr(&path, field->name ? field->name : "value");
	rc = check(field, value, &path, e);
	strbuf_release(&path);
	return rc;
}

int rpc_args_check(const struct rpc_method_decl *m, json_t *args,
		   struct rpc_error *e)
{
	struct strbuf path = STRBUF_INIT;
	json_t *empty = NULL;
	int rc = 0;

	if (!m->args)
		return 0;
	if (!args)
		args = empty = json_object();
	if (!json_is_object(args))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s: args must be an object", m->name);
	rc = check_members(m->args, args, &path, e);
	if (rc < 0 && e) {
		char why[sizeof(e->message)];

		snprintf(why, sizeof(why), "%s", e->message);
		rpc_error_set(e, rc, "InvalidInput", "%s: %s", m->name, why);
	}
	strbuf_release(&path);
	json_decref(empty);
	return rc;
}

const struct rpc_method_decl *rpc_service_method(const struct rpc_service_decl *svc,
						 const char *name)
{
	const struct rpc_method_decl *const *m;

	for (m = svc->methods; *m; m++)
		if (strcmp((*m)->name, name) == 0)
			return *m;
	return NULL;
}

/* Parses "MAJOR.MINOR[.REV]"; false when it is not that. */
static bool parse_version(const char *v, long *major, long *minor)
{
	char *end;

	*major = strtol(v, &end, 10);
	if (end == v || *end != '.' || *major < 0)
		return false;
	v = end + 1;
	*minor = strtol(v, &end, 10);
	if (end == v || *minor < 0 || (*end && *end != '.'))
		return false;
	return true;
}

bool rpc_version_compatible(const char *impl, const char *req)
{
	long imaj, imin, rmaj, rmin;

	if (!impl)
		return true;
	if (!req)
		req = "1.0";
	if (!parse_version(impl, &imaj, &imin) ||
	    !parse_version(req, &rmaj, &rmin))
		return false;
	return imaj == rmaj && rmin <= imin;
}

int rpc_target_check(const struct rpc_service_decl *svc, const char *method,
		     const char *version, const char *namespace,
		     bool has_method, struct rpc_error *e)
{
	const char *ns = svc->namespace;
	bool ns_ok = (!ns && !namespace) ||
		     (ns && namespace && strcmp(ns, namespace) == 0);

	if (!ns_ok || !rpc_version_compatible(svc->version, version))
		return rpc_error_set(e, -EPROTONOSUPPORT, "UnsupportedVersion",
				     "Endpoint does not support RPC version %s. Attempted method: %s",
				     version ? version : "1.0", method);
	if (!has_method)
		return rpc_error_set(e, -EOPNOTSUPP, "NoSuchMethod",
				     "Endpoint does not support RPC method %s",
				     method);
	return 0;
}

/* Markdown for one field and its members, indented by depth. */
static void doc_field(FILE *f, const struct rpc_field *fl, int depth)
{
	const struct rpc_field *m;
	size_t i;

	fprintf(f, "%*s- `%s`: ", depth * 2, "", fl->name ? fl->name : "result");
	switch (fl->type) {
	case RPC_T_STRING:
		fprintf(f, "string, %lld to %lld bytes", fl->min,
			fl->max ? fl->max : STRING_MAX_DEFAULT);
		break;
	case RPC_T_INT:
		fprintf(f, "integer, %lld to %lld", fl->min, fl->max);
		break;
	case RPC_T_ENUM:
		fprintf(f, "one of");
		for (i = 0; fl->values[i]; i++)
			fprintf(f, "%s `%s`", i ? "," : "", fl->values[i]);
		break;
	default:
		fprintf(f, "%s", type_name(fl->type));
		break;
	}
	if (fl->flags & RPC_NULLABLE)
		fprintf(f, ", or null");
	if (fl->flags & RPC_OPTIONAL)
		fprintf(f, " (optional)");
	if (fl->doc)
		fprintf(f, "; %s", fl->doc);
	fprintf(f, "\n");
	if (fl->type == RPC_T_OBJECT)
		for (m = fl->members; m && m->name; m++)
			doc_field(f, m, depth + 1);
	else if (fl->type == RPC_T_ARRAY)
		doc_field(f, &fl->members[0], depth + 1);
}

static void doc_senders(FILE *f, unsigned senders)
{
	static const struct { unsigned role; const char *user; } roles[] = {
		{ RPC_ROLE_API, "novafs" },
		{ RPC_ROLE_SCHEDULER, "scheduler" },
		{ RPC_ROLE_COMPUTE, "compute-HOST" },
		{ RPC_ROLE_NETWORK, "network" },
	};
	size_t i;
	bool first = true;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (!(senders & roles[i].role))
			continue;
		fprintf(f, "%s`%s`", first ? "" : ", ", roles[i].user);
		first = false;
	}
}

void rpc_contract_doc(FILE *f)
{
	const struct rpc_service_decl *const *svc;
	const struct rpc_method_decl *const *m;
	const struct rpc_field *a;
	static const char *const kinds[] = { "cast", "call", "fanout cast" };

	for (svc = rpc_services; *svc; svc++) {
		fprintf(f, "## topic `%s`, version %s\n\n%s\n\n", (*svc)->topic,
			(*svc)->version ? (*svc)->version : "(none)", (*svc)->doc);
		for (m = (*svc)->methods; *m; m++) {
			fprintf(f, "### `%s` (%s, since %s; sent by ", (*m)->name,
				kinds[(*m)->kind], (*m)->version);
			doc_senders(f, (*m)->senders);
			fprintf(f, ")\n\n%s\n\n", (*m)->doc);
			if ((*m)->check_doc)
				fprintf(f, "Sender rule: %s\n\n", (*m)->check_doc);
			if ((*m)->args && (*m)->args[0].name) {
				fprintf(f, "Arguments:\n\n");
				for (a = (*m)->args; a->name; a++)
					doc_field(f, a, 0);
				fprintf(f, "\n");
			} else {
				fprintf(f, "No arguments.\n\n");
			}
			if ((*m)->result) {
				fprintf(f, "Result:\n\n");
				doc_field(f, (*m)->result, 0);
				fprintf(f, "\n");
			}
		}
	}
}
