/*
 * host_state.c - the scheduler's in-memory host states; see host_state.h.
 *
 * Hosts live in an array of pointers kept sorted by name: a host is added
 * once and looked up at every report and release, and the filters walk
 * them all at every request, in name order.  Each host_state is allocated
 * on its own, so that claims can point at it while the array grows.
 */
#include "host_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "claims.h"

static int uuid_entry_cmp(const struct hash_entry *e, const void *key)
{
	return strcmp(container_of(e, struct sched_uuid, by_uuid)->uuid, key);
}

void host_manager_init(struct host_manager *hm)
{
	hm->hosts = NULL;
	hm->n = hm->alloc = 0;
	claims_init(hm);
}

void host_manager_release(struct host_manager *hm)
{
	size_t i;

	for (i = 0; i < hm->n; i++) {
		claims_host_free(hm, hm->hosts[i]);
		free(hm->hosts[i]);
	}
	free(hm->hosts);
	claims_free(hm);
	host_manager_init(hm);
}

/* The index of name in hm->hosts, or where it would go (*found false). */
static size_t host_index(const struct host_manager *hm, const char *name,
			 bool *found)
{
	size_t lo = 0, hi = hm->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(hm->hosts[mid]->name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct host_state *host_manager_find(const struct host_manager *hm,
				     const char *name)
{
	bool found;
	size_t i = host_index(hm, name, &found);

	return found ? hm->hosts[i] : NULL;
}

/* Adds an empty host called name at its place; NULL when out of memory. */
static struct host_state *host_manager_add(struct host_manager *hm,
					   const char *name)
{
	struct host_state *hs;
	bool found;
	size_t at = host_index(hm, name, &found);

	if (hm->n == hm->alloc) {
		size_t alloc = hm->alloc ? hm->alloc * 2 : 8;
		struct host_state **p = realloc(hm->hosts, alloc * sizeof(*p));

		if (!p)
			return NULL;
		hm->hosts = p;
		hm->alloc = alloc;
	}
	if (!(hs = calloc(1, sizeof(*hs))))
		return NULL;
	snprintf(hs->name, sizeof(hs->name), "%s", name);
	claims_host_init(hs);
	sched_uuid_set_init(&hs->listed);
	memmove(&hm->hosts[at + 1], &hm->hosts[at],
		(hm->n - at) * sizeof(*hm->hosts));
	hm->hosts[at] = hs;
	hm->n++;
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

/* The numbers of an "up": true report into total, used and *interval. */
static int parse_numbers(json_t *args, struct sched_resources *total,
			 struct sched_resources *used, int *interval,
			 struct rpc_error *e)
{
	json_t *v = json_object_get(args, "report_interval");
	int r;

	*interval = HOST_DEFAULT_REPORT_INTERVAL;
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
		    json_integer_value(v) > 86400)
			return rpc_error_set(e, -EINVAL, "InvalidInput",
					     "update_service_capabilities: \"report_interval\" must be 1 to 86400");
		*interval = (int)json_integer_value(v);
	}
	if ((r = get_count(args, "vcpus", &total->vcpus, e)) < 0 ||
	    (r = get_count(args, "vcpus_used", &used->vcpus, e)) < 0 ||
	    (r = get_count(args, "memory_mb", &total->memory_mb, e)) < 0 ||
	    (r = get_count(args, "memory_mb_used", &used->memory_mb, e)) < 0 ||
	    (r = get_count(args, "disk_gb", &total->disk_gb, e)) < 0 ||
	    (r = get_count(args, "disk_gb_used", &used->disk_gb, e)) < 0)
		return r;
	return 0;
}

int host_manager_update(struct host_manager *hm, json_t *args, long long now_ms,
			enum host_event *event, struct rpc_error *e)
{
	const char *name = json_string_value(json_object_get(args, "host"));
	const char *hv = json_string_value(json_object_get(args, "hypervisor_type"));
	json_t *up = json_object_get(args, "up");
	json_t *instances = json_object_get(args, "instances");
	struct sched_resources total = { 0 }, used = { 0 };
	struct sched_uuid_set listed;
	struct host_state *hs;
	bool was_live, existed;
	int interval = 0, r;

	*event = HOST_EVENT_NONE;
	sched_uuid_set_init(&listed);
	if (!name || !*name || strlen(name) >= SCHED_NAME_LEN)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "update_service_capabilities: \"host\" must be a host name");
	if (!json_is_boolean(up))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "update_service_capabilities: \"up\" must be true or false");
	if (json_is_true(up) &&
	    ((r = parse_numbers(args, &total, &used, &interval, e)) < 0 ||
	     (instances && (r = sched_uuid_set_from_json(instances, &listed, e)) < 0)))
		return r;

	hs = host_manager_find(hm, name);
	existed = hs != NULL;
	if (!hs && !(hs = host_manager_add(hm, name))) {
		sched_uuid_set_release(&listed);
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	}
	was_live = hs->live;
	if (json_is_true(up)) {
		claims_report(hm, hs, instances ? &listed : NULL);
		hs->total = total;
		hs->reported = used;
		hs->report_interval = interval;
		snprintf(hs->hypervisor_type, sizeof(hs->hypervisor_type), "%s",
			 hv ? hv : "");
	}
	hs->up = json_is_true(up);
	hs->last_report_ms = now_ms;
	hs->live = host_state_is_live(hs, now_ms);
	if (hs->live && !was_live)
		*event = HOST_EVENT_UP;
	else if (!hs->live && (was_live || !existed))
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
		struct host_state *hs = hm->hosts[*cursor];

		if (hs->live && !host_state_is_live(hs, now_ms)) {
			hs->live = false;
			(*cursor)++;
			return hs;
		}
	}
	return NULL;
}

static long long held(long long reported, long long claimed, long long released)
{
	long long v = reported + claimed - released;

	return v > 0 ? v : 0;
}

struct sched_resources host_state_used(const struct host_state *hs)
{
	struct sched_resources u = {
		held(hs->reported.vcpus, hs->claimed.vcpus, hs->released.vcpus),
		held(hs->reported.memory_mb, hs->claimed.memory_mb,
		     hs->released.memory_mb),
		held(hs->reported.disk_gb, hs->claimed.disk_gb,
		     hs->released.disk_gb),
	};

	return u;
}

void sched_uuid_set_init(struct sched_uuid_set *set)
{
	hash_init(&set->by_uuid, uuid_entry_cmp);
	set->items = NULL;
}

void sched_uuid_set_release(struct sched_uuid_set *set)
{
	hash_release(&set->by_uuid);
	free(set->items);
	set->items = NULL;
}

int sched_uuid_set_from_json(json_t *instances, struct sched_uuid_set *set,
			     struct rpc_error *e)
{
	size_t i, n = json_array_size(instances);
	int r = 0;

	if (!json_is_array(instances))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "update_service_capabilities: \"instances\" must be an array");
	if (n && !(set->items = malloc(n * sizeof(*set->items))))
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	for (i = 0; i < n; i++) {
		struct sched_uuid *u = &set->items[i];
		const char *s = json_string_value(json_array_get(instances, i));
		uint64_t h;

		if (!s || claims_uuid_key(s, u->uuid) < 0) {
			r = rpc_error_set(e, -EINVAL, "InvalidInput",
					  "update_service_capabilities: instances[%zu] must be a UUID",
					  i);
			goto out;
		}
		h = hash_str(u->uuid);
		if (hash_get(&set->by_uuid, h, u->uuid))
			continue;
		if (hash_add(&set->by_uuid, &u->by_uuid, h) < 0) {
			r = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
			goto out;
		}
	}
out:
	if (r < 0)
		sched_uuid_set_release(set);
	return r;
}

bool sched_uuid_set_has(const struct sched_uuid_set *set, const char *uuid)
{
	return hash_get(&set->by_uuid, hash_str(uuid), uuid) != NULL;
}
