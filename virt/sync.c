/*
 * sync.c - sync_power_states; see sync.h.
 */
#include "sync.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

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

/* Lists the domains, has the console follow them, and casts the sync. */
static void sync_send(struct compute_manager *m, bool startup)
{
	const struct rpc_send s = {
		.timeout_ms = startup ? STARTUP_SYNC_DEADLINE_MS : 0,
		.wait_for_bus = startup,
	};
	struct virt_domain_state *doms = NULL;
	struct rpc_error e = { 0 };
	json_t *args = NULL, *list;
	size_t n = 0, i;
	int rc;

	rc = m->drv->ops->list(m->drv, &doms, &n, &e);
	if (rc < 0)
		goto out;
	console_track(m->console, doms, n, startup);
	list = json_array();
	args = json_pack("{s:s, s:b, s:o}", "host", m->host, "startup", startup,
			 "domains", list);
	for (i = 0; args && i < n; i++)
		if (json_array_append_new(list, json_pack(
			    "{s:s, s:s}", "uuid", doms[i].uuid, "power_state",
			    power_state_name(doms[i].power))) < 0)
			break;
	rc = args && i == n ? rpc_cast(m->bus, &conductor_sync_power_states, &s,
				       args, synced, m, &e) :
			      rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
out:
	if (rc < 0 && (startup || rc != -ENETDOWN))
		log_error("sync_power_states%s: %s: %s", startup ? " at startup" : "",
			  e.cls, e.message);
	else if (rc == 0)
		log_debug("sync_power_states%s: %zu domains",
			  startup ? " at startup" : "", n);
	json_decref(args);
	free(doms);
}

static long long periodic(struct loop *l, void *ctx)
{
	struct compute_manager *m = ctx;

	sync_send(m, false);
	return m->report_interval_s * 1000;
}

static long long soon(struct loop *l, void *ctx)
{
	struct compute_manager *m = ctx;

	m->sync_soon = 0;
	sync_send(m, false);
	return LOOP_TIMER_DONE;
}

int sync_start(struct compute_manager *m)
{
	long long id;

	sync_send(m, true);
	id = loop_timer(m->loop, m->report_interval_s * 1000, periodic, m);
	if (id < 0)
		return (int)id;
	m->sync_timer = id;
	return 0;
}

void sync_soon(struct compute_manager *m)
{
	long long id;

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
