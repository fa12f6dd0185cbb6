/*
 * host_state.c - the scheduler's in-memory host states; see host_state.h.
 *
 * A handful of hosts per scheduler is the expected scale (tens at most),
 * so hosts live in an array searched linearly, in the order they were
 * first heard from, which also keeps scheduling deterministic for equal
 * weights.
 */
#include "host_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"

void host_manager_release(struct host_manager *hm)
{
	free(hm->hosts);
	hm->hosts = NULL;
	hm->n = hm->alloc = 0;
}

struct host_state *host_manager_find(struct host_manager *hm, const char *name)
{
	size_t i;

	for (i = 0; i < hm->n; i++)
		if (strcmp(hm->hosts[i].name, name) == 0)
			return &hm->hosts[i];
	return NULL;
}

static struct host_state *host_manager_add(struct host_manager *hm,
					   const char *name)
{
	struct host_state *hs;

	if (hm->n == hm->alloc) {
		size_t alloc = hm->alloc ? hm->alloc * 2 : 8;
		struct host_state *p = realloc(hm->hosts, alloc * sizeof(*p));

		if (!p)
			return NULL;
		hm->hosts = p;
		hm->alloc = alloc;
	}
	hs = &hm->hosts[hm->n++];
	memset(hs, 0, sizeof(*hs));
	snprintf(hs->name, sizeof(hs->name), "%s", name);
	return hs;
}

/* Reads a non-negative integer member key of args into *out. */
static int get_count(json_t *args, const char *key, long long *out,
		     struct rpc_error *e)
{
	json_t *v = json_object_get(args, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "update_service_capabilities: \"%s\" must be a non-negative integer",
				     key);
	*out = json_integer_value(v);
	return 0;
}

int host_manager_update(struct host_manager *hm, json_t *args, long long now_ms,
			enum host_event *event, struct rpc_error *e)
{
	struct host_state next, *hs;
	const char *name = json_string_value(json_object_get(args, "host"));
	json_t *up = json_object_get(args, "up");
	json_t *v;
	long long interval = HOST_DEFAULT_REPORT_INTERVAL;
	bool was_live;  /* as last announced */
	bool existed;
	int r = 0;

	*event = HOST_EVENT_NONE;
	if (!name || !*name || strlen(name) >= HOST_NAME_MAX_LEN)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "update_service_capabilities: \"host\" must be a host name");
	if (!json_is_boolean(up))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "update_service_capabilities: \"up\" must be true or false");

	hs = host_manager_find(hm, name);
	memset(&next, 0, sizeof(next));
	if (hs)
		next = *hs;
	else
		snprintf(next.name, sizeof(next.name), "%s", name);
	was_live = hs && hs->live;

	if (json_is_true(up)) {
		v = json_object_get(args, "report_interval");
		if (v && !json_is_null(v)) {
			if (!json_is_integer(v) || json_integer_value(v) <= 0)
				return rpc_error_set(e, -EINVAL, "InvalidInput",
						     "update_service_capabilities: \"report_interval\" must be a positive integer");
			interval = json_integer_value(v);
		}
		if ((r = get_count(args, "vcpus", &next.total.vcpus, e)) < 0 ||
		    (r = get_count(args, "vcpus_used", &next.used.vcpus, e)) < 0 ||
		    (r = get_count(args, "memory_mb", &next.total.memory_mb, e)) < 0 ||
		    (r = get_count(args, "memory_mb_used", &next.used.memory_mb, e)) < 0 ||
		    (r = get_count(args, "disk_gb", &next.total.disk_gb, e)) < 0 ||
		    (r = get_count(args, "disk_gb_used", &next.used.disk_gb, e)) < 0)
			return r;
		next.report_interval = interval > 86400 ? 86400 : (int)interval;
		snprintf(next.hypervisor_type, sizeof(next.hypervisor_type), "%s",
			 json_string_value(json_object_get(args, "hypervisor_type")) ?
			 json_string_value(json_object_get(args, "hypervisor_type")) : "");
		next.claims = 0;
	}
	next.up = json_is_true(up);
	next.last_report_ms = now_ms;
	next.live = host_state_is_live(&next, now_ms);

	existed = hs != NULL;
	if (!hs && !(hs = host_manager_add(hm, name)))
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	*hs = next;
	if (next.live && !was_live)
		*event = HOST_EVENT_UP;
	else if (!next.live && (was_live || !existed))
		*event = HOST_EVENT_DOWN;
	return 0;
}

bool host_state_is_live(const struct host_state *hs, long long now_ms)
{
	long long interval = hs->report_interval > 0 ? hs->report_interval :
			     HOST_DEFAULT_REPORT_INTERVAL;

	return hs->up &&
	       now_ms - hs->last_report_ms < interval * HOST_LIVENESS_INTERVALS * 1000;
}

struct host_state *host_manager_expire(struct host_manager *hm, long long now_ms,
				       size_t *cursor)
{
	for (; *cursor < hm->n; (*cursor)++) {
		struct host_state *hs = &hm->hosts[*cursor];

		if (hs->live && !host_state_is_live(hs, now_ms)) {
			hs->live = false;
			(*cursor)++;
			return hs;
		}
	}
	return NULL;
}

static long long free_of(long long total, long long used, double ratio)
{
	return (long long)((double)total * ratio) - used;
}

long long host_state_free_vcpus(const struct host_state *hs, double ratio)
{
	return free_of(hs->total.vcpus, hs->used.vcpus, ratio);
}

long long host_state_free_memory_mb(const struct host_state *hs, double ratio)
{
	return free_of(hs->total.memory_mb, hs->used.memory_mb, ratio);
}

long long host_state_free_disk_gb(const struct host_state *hs, double ratio)
{
	return free_of(hs->total.disk_gb, hs->used.disk_gb, ratio);
}

void host_state_claim(struct host_state *hs, const struct sched_resources *r)
{
	hs->used.vcpus += r->vcpus;
	hs->used.memory_mb += r->memory_mb;
	hs->used.disk_gb += r->disk_gb;
	hs->claims++;
}
