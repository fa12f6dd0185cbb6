/*
 * guest_wait.c - waiting for a guest to shut down; see guest_wait.h.
 *
 * A wait is one entry of m->waits (by uuid) with its own loop timer: it
 * looks at the domain every WAIT_POLL_MS, or at once when a lifecycle
 * event of the domain comes (guest_wait_kick resets the timer to 0).  The
 * entry leaves the table before its outcome is reported, so a request
 * that arrives while the report is on its way starts afresh.
 */
#include "guest_wait.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "rpc/bus.h"
#include "driver.h"
#include "instance.h"
#include "manager.h"

#define WAIT_POLL_MS 250

struct guest_wait {
	struct hash_entry by_uuid;
	struct compute_manager *m;
	struct rpc_request *req;
	struct virt_instance inst;
	bool reboot;
	long long deadline;       /* loop_now_ms() */
	long long timer;
};

static int wait_cmp(const struct hash_entry *e, const void *key)
{
	return strcmp(container_of(e, struct guest_wait, by_uuid)->inst.uuid, key);
}

static struct guest_wait *wait_find(struct compute_manager *m, const char *uuid)
{
	struct hash_entry *e = hash_get(&m->waits, hash_str(uuid), uuid);

	return e ? container_of(e, struct guest_wait, by_uuid) : NULL;
}

static void wait_free(struct guest_wait *w)
{
	hash_remove(&w->m->waits, &w->by_uuid);
	loop_timer_cancel(w->m->loop, w->timer);
	free(w);
}

/* Ends w: powers the domain off first when hard, starts it again for a
 * reboot, and reports. */
static void wait_finish(struct guest_wait *w, bool hard)
{
	struct compute_manager *m = w->m;
	struct virt_driver *d = m->drv;
	struct rpc_request *req = w->req;
	struct virt_instance inst = w->inst;
	bool reboot = w->reboot;
	struct rpc_error e = { 0 };
	int rc = 0;

	wait_free(w);
	if (hard)
		rc = d->ops->power_off(d, inst.uuid, &e);
	if (rc == 0 && reboot)
		rc = d->ops->power_on(d, &inst, &e);
	compute_finish(m, req, inst.uuid, rc, &e);
}

static long long wait_check(struct loop *l, void *ctx)
{
	struct guest_wait *w = ctx;
	enum power_state p = w->m->drv->ops->power_state(w->m->drv, w->inst.uuid);
	long long left = w->deadline - loop_now_ms(l);

	if (p != POWER_RUNNING && p != POWER_PAUSED) {
		w->timer = 0;
		wait_finish(w, false);
		return LOOP_TIMER_DONE;
	}
	if (left <= 0) {
		log_info("instance %s (%s): the guest did not shut down within "
			 "%lld s: powering it off", w->inst.uuid, w->inst.name,
			 w->m->shutdown_timeout_s);
		w->timer = 0;
		wait_finish(w, true);
		return LOOP_TIMER_DONE;
	}
	return left < WAIT_POLL_MS ? left : WAIT_POLL_MS;
}

void guest_wait_init(struct compute_manager *m)
{
	hash_init(&m->waits, wait_cmp);
}

int guest_wait_start(struct compute_manager *m, struct rpc_request *req,
		     const struct virt_instance *inst, bool reboot)
{
	struct guest_wait *w = calloc(1, sizeof(*w));
	long long id;

	if (!w)
		return -ENOMEM;
	w->m = m;
	w->req = req;
	w->inst = *inst;
	w->reboot = reboot;
	w->deadline = loop_now_ms(m->loop) + m->shutdown_timeout_s * 1000;
	/* Look at once: some guests (and the test driver) are off already. */
	id = loop_timer(m->loop, 0, wait_check, w);
	if (id < 0 || hash_add(&m->waits, &w->by_uuid, hash_str(w->inst.uuid)) < 0) {
		if (id > 0)
			loop_timer_cancel(m->loop, id);
		free(w);
		return -ENOMEM;
	}
	w->timer = id;
	return 0;
}

void guest_wait_cut(struct compute_manager *m, const char *uuid)
{
	struct guest_wait *w = wait_find(m, uuid);

	if (!w)
		return;
	log_info("instance %s (%s): a newer request cuts the wait for the "
		 "guest short: powering it off", w->inst.uuid, w->inst.name);
	wait_finish(w, true);
}

void guest_wait_kick(struct compute_manager *m, const char *uuid)
{
	struct guest_wait *w = wait_find(m, uuid);

	if (w)
		loop_timer_reset(m->loop, w->timer, 0);
}

void guest_wait_drop_all(struct compute_manager *m)
{
	struct hash_iter it;
	struct hash_entry *e;

	hash_iter_init(&it, &m->waits);
	while ((e = hash_iter_next(&it)))
		wait_free(container_of(e, struct guest_wait, by_uuid));
	hash_release(&m->waits);
}
