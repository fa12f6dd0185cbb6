/*
 * request.c - parsing the scheduler's requests; see request.h.
 */
#include "request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "claims.h"

int host_set_add(struct host_set *set, const char *name)
{
	if (set->n == set->alloc) {
		size_t alloc = set->alloc ? set->alloc * 2 : 8;
		const char **p = realloc(set->names, alloc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		set->names = p;
		set->alloc = alloc;
	}
	set->names[set->n++] = name;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void host_set_seal(struct host_set *set)
{
	size_t i, n = 0;

	if (!set->n)
		return;
	qsort(set->names, set->n, sizeof(*set->names), name_cmp);
	for (i = 1; i < set->n; i++)
		if (strcmp(set->names[i], set->names[n]) != 0)
			set->names[++n] = set->names[i];
	set->n = n + 1;
}

bool host_set_has(const struct host_set *set, const char *name)
{
	return set->n &&
	       bsearch(&name, set->names, set->n, sizeof(*set->names), name_cmp);
}

void host_set_release(struct host_set *set)
{
	free(set->names);
	memset(set, 0, sizeof(*set));
}

/* The host names of array v (absent: none) into set, sealed.  what names
 * the argument in errors. */
static int parse_hosts(json_t *v, struct host_set *set, const char *what,
		       struct rpc_error *e)
{
	size_t i;
	json_t *h;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "select_destinations: \"%s\" must be an array of host names",
				     what);
	json_array_foreach(v, i, h) {
		if (!json_is_string(h))
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "select_destinations: \"%s\" must be an array of host names",
					     what);
		if (host_set_add(set, json_string_value(h)) < 0)
			return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	}
	host_set_seal(set);
	return 0;
}

/* The instance's UUID, lower case, from args. */
static int parse_uuid(json_t *args, const char *method, char out[UUID_STR_LEN],
		      struct rpc_error *e)
{
	const char *uuid = json_string_value(json_object_get(args, "instance_uuid"));

	if (!uuid || claims_uuid_key(uuid, out) < 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s: \"instance_uuid\" must be a UUID", method);
	return 0;
}

/* A flavor object ({"name", "vcpus", "memory_mb", "disk_gb"}). */
static int parse_flavor(json_t *flavor, const char *method,
			char name[SCHED_NAME_LEN], struct sched_resources *r,
			struct rpc_error *e)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{ "vcpus", offsetof(struct sched_resources, vcpus) },
		{ "memory_mb", offsetof(struct sched_resources, memory_mb) },
		{ "disk_gb", offsetof(struct sched_resources, disk_gb) },
	};
	const char *s = json_string_value(json_object_get(flavor, "name"));
	size_t i;

	if (!json_is_object(flavor))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s: \"flavor\" must be an object", method);
	snprintf(name, SCHED_NAME_LEN, "%s", s ? s : "");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(flavor, fields[i].key);

		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "%s: flavor \"%s\" must be a non-negative integer",
					     method, fields[i].key);
		*(long long *)((char *)r + fields[i].off) = json_integer_value(v);
	}
	return 0;
}

/* The optional "group" object into req. */
static int parse_group(json_t *group, struct sched_request *req,
		       struct rpc_error *e)
{
	const char *policy = json_string_value(json_object_get(group, "policy"));

	if (!group)
		return 0;
	req->group = json_string_value(json_object_get(group, "name"));
	if (!req->group || !policy)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "select_destinations: \"group\" must have a name and a policy");
	if (strcmp(policy, "affinity") == 0)
		req->policy = SCHED_POLICY_AFFINITY;
	else if (strcmp(policy, "anti-affinity") == 0)
		req->policy = SCHED_POLICY_ANTI_AFFINITY;
	else
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "select_destinations: unknown group policy \"%s\"",
				     policy);
	return parse_hosts(json_object_get(group, "hosts"), &req->group_hosts,
			   "group.hosts", e);
}

int sched_request_from_json(json_t *args, struct sched_request *req,
			    struct rpc_error *e)
{
	json_t *force = json_object_get(args, "force_host");
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = parse_uuid(args, "select_destinations", req->instance_uuid, e)) < 0 ||
	    (r = parse_flavor(json_object_get(args, "flavor"), "select_destinations",
			      req->flavor_name, &req->flavor, e)) < 0)
		return r;
	if (force && !(req->force_host = json_string_value(force)))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "select_destinations: \"force_host\" must be a host name");
	if ((r = parse_group(json_object_get(args, "group"), req, e)) < 0 ||
	    (r = parse_hosts(json_object_get(args, "ignore_hosts"),
			     &req->ignore_hosts, "ignore_hosts", e)) < 0 ||
	    (r = parse_hosts(json_object_get(args, "disabled_hosts"),
			     &req->disabled_hosts, "disabled_hosts", e)) < 0)
		return r;
	return 0;
}

void sched_request_release(struct sched_request *req)
{
	host_set_release(&req->group_hosts);
	host_set_release(&req->ignore_hosts);
	host_set_release(&req->disabled_hosts);
}

int sched_release_from_json(json_t *args, struct sched_release_request *req,
			    struct rpc_error *e)
{
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = parse_uuid(args, "release_resources", req->instance_uuid, e)) < 0 ||
	    (r = parse_flavor(json_object_get(args, "flavor"), "release_resources",
			      req->flavor_name, &req->flavor, e)) < 0)
		return r;
	/* The contract has checked it: a host name, or absent. */
	req->host = json_string_value(json_object_get(args, "host"));
	return 0;
}
