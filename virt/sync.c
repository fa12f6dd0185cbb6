/*
 * sync.c - sync_power_states; see sync.h.
 */
#include "sync.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "rpc/bus.h"
#include "rpc/methods.h"
#include "console.h"
#include "driver.h"
#include "manager.h"

/* The startup sync waits for the broker as long as a report does. */
#define STARTUP_SYNC_DEADLINE_MS (60LL * 60 * 1000)

static void synced(void *ctx, int err, json_t *result, const struct rpc_error *e)
{
	if (err < 0)
		log_error("sync_power_states was not delivered: %s: %s", e->cls,
			  e->message);
}

/* Whether uuid had events since the last sync. */
static bool changed(const struct compute_manager *m, const char *uuid)
{
	size_t i;

	for (i = 0; i < m->nchanged && i < COMPUTE_CHANGED_MAX; i++)
		if (strcmp(m->changed[i], uuid) == 0)
			return true;
	return false;
}

/* The domains of a sync: all of them, or (partial) those with events
 * since the last one.  The console follows all of them either way.
 * Returns 0 or -errno with e. */
static int sync_list(struct compute_manager *m, bool startup, bool partial,
		     json_t *list, struct rpc_error *e)
{
	struct virt_domain_state *doms = NULL;
	size_t n = 0, i;
	int rc;

	rc = m->drv->ops->list(m->drv, &doms, &n, e);
	if (rc < 0)
		return rc;
	console_track(m->console, doms, n, startup);
	for (i = 0; i < n && rc == 0; i++) {
		if (partial && !changed(m, doms[i].uuid))
			continue;
		if (json_array_append_new(list, json_pack(
			    "{s:s, s:s}", "uuid", doms[i].uuid, "power_state",
			    power_state_name(doms[i].power))) < 0)
			rc = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	}
	free(doms);
	return rc;
}

/* Casts a sync: a full one, or (partial) of the domains with events. */
static void sync_send(struct compute_manager *m, bool startup, bool partial)
{
	const struct rpc_send s = {
		.timeout_ms = startup ? STARTUP_SYNC_DEADLINE_MS : 0,
		.wait_for_bus = startup,
	};
	struct rpc_error e = { 0 };
	json_t *list = json_array(), *args;
	int rc;

	partial = partial && m->nchanged <= COMPUTE_CHANGED_MAX;
	args = list ? json_pack("{s:s, s:b, s:b, s:O}", "host", m->host,
				"startup", startup, "partial", partial,
				"domains", list) : NULL;
	rc = args ? sync_list(m, startup, partial, list, &e) :
		    rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
	m->nchanged = 0;
	if (rc == 0)
		rc = rpc_cast(m->bus, &conductor_sync_power_states, &s, args,
			      synced, m, &e);
	if (rc < 0 && (startup || rc != -ENETDOWN))
		log_error("sync_power_states%s: %s: %s", startup ? " at startup" : "",
			  e.cls, e.message);
	else if (rc == 0)
		log_debug("sync_power_states%s%s: %zu domains",
			  startup ? " at startup" : "", partial ? " (partial)" : "",
			  json_array_size(list));
	json_decref(args);
	json_decref(list);
}

static long long periodic(struct loop *l, void *ctx)
{
	struct compute_manager *m = ctx;

	sync_send(m, false, false);
	return m->report_interval_s * 1000;
}

static long long soon(struct loop *l, void *ctx)
{
	struct compute_manager *m = ctx;

	m->sync_soon = 0;
	sync_send(m, false, true);
	return LOOP_TIMER_DONE;
}

int sync_start(struct compute_manager *m)
{
	long long id;

	sync_send(m, true, false);
	id = loop_timer(m->loop, m->report_interval_s * 1000, periodic, m);
	if (id < 0)
		return (int)id;
	m->sync_timer = id;
	return 0;
}

void sync_soon(struct compute_manager *m, const char *uuid)
{
	long long id;

	if (!changed(m, uuid)) {
		if (m->nchanged < COMPUTE_CHANGED_MAX)
			snprintf(m->changed[m->nchanged], UUID_STR_LEN, "%s", uuid);
		m->nchanged++;
	}
	if (m->sync_soon)
		return;
	id = loop_timer(m->loop, SYNC_DEBOUNCE_MS, soon, m);
	m->sync_soon = id > 0 ? id : 0;
}

void sync_stop(struct compute_manager *m)
{
	loop_timer_cancel(m->loop, m->sync_timer);
	loop_timer_cancel(m->loop, m->sync_soon);
	m->sync_timer = m->sync_soon = 0;
}
