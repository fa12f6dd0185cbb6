/*
 * reconcile.c - the reconciler (see reconcile.h).
 *
 * Three threads meet here, under one mutex taken after the object lock
 * (never before it):
 *   - the committer publishes changes (reconcile_published, under the
 *     write lock): an instance that needs work joins the set, a task of
 *     ours that ended is judged, and a pass is posted when one can act;
 *   - the bus thread runs passes (a posted call, or the timer when a
 *     back-off ends): each ready instance gets one action, and each
 *     failure its note in fault;
 *   - whichever thread ends a run completes its write (entry_done).
 * An entry lives while the instance needs work or an action of ours is
 * out; only a pass or a completion removes one that is idle.
 */
#include "reconcile.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "actions.h"
#include "instance.h"
#include "node.h"
#include "obj.h"
#include "store.h"

/* At most this many actions (and as many notes) per pass; the rest go in
 * the next one, at once. */
#define PASS_MAX 64
/* A pass with nothing due looks again after this long anyway. */
#define PASS_IDLE_MS 1000
/* What separates a fault from the reconciler's note about it. */
#define NOTE_SEP "; target_state "

#define DEP(f) (1ULL << (f))
#define RELEVANT (DEP(I_TARGET) | DEP(I_VM_STATE) | DEP(I_TASK_STATE) | \
		  DEP(I_LAUNCHED))

static const char *const targets[] = { "active", "stopped", "paused",
				       "suspended", NULL };

/* One instance that needs work. */
struct entry {
	struct hash_entry by_serial;
	struct wreq w;          /* the write of the action out */
	struct obj *o;          /* a reference */
	bool out;               /* an action of ours is claiming or sending */
	bool watching;          /* its task runs: judged when it ends */
	unsigned failures;      /* tries failed in a row */
	unsigned note_s;        /* > 0: fault is to say "retrying in note_s s" */
	int64_t due_ms;         /* clock_mono_ms before which it waits */
};

static int entry_cmp(const struct hash_entry *he, const void *key)
{
	return container_of(he, struct entry, by_serial)->o != key;
}

static struct {
	pthread_mutex_t lock;
	struct hash_table set;  /* of struct entry, by serial */
	struct loop *loop;      /* set before the bus thread runs */
	long long timer;
	atomic_bool posted;     /* a pass is posted and has not started */
} rs = { PTHREAD_MUTEX_INITIALIZER, HASH_TABLE_INIT(entry_cmp), NULL, 0, false };

const char *reconcile_step(enum vm_state state, enum vm_state target,
			   bool launched)
{
	if (state == target || state == VM_BUILDING)
		return NULL;
	/* Leaving suspended goes through active, whatever the target. */
	if (state == VM_SUSPENDED)
		return "resume";
	switch (target) {
	case VM_ACTIVE:
		return state == VM_PAUSED ? "unpause" : "start";
	case VM_STOPPED:
		/* One never placed has no domain: as stopped as it gets. */
		return state == VM_ERROR && !launched ? NULL : "stop";
	case VM_PAUSED:
		return state == VM_ACTIVE ? "pause" : "start";
	case VM_SUSPENDED:
		return state == VM_ACTIVE ? "suspend" :
		       state == VM_PAUSED ? "unpause" : "start";
	default:
		return NULL;
	}
}

unsigned reconcile_backoff_s(unsigned failures)
{
	if (failures < 1)
		return 1;
	if (failures > 6)
		return RECONCILE_BACKOFF_MAX_S;
	return 1u << (failures - 1);
}

int reconcile_target_parse(const char *value, size_t len, const char **name,
			   struct rpc_error *e)
{
	const char *const *t;

	text_trim(&value, &len);
	if (!len) {
		*name = "";
		return 0;
	}
	for (t = targets; *t; t++)
		if (strlen(*t) == len && memcmp(*t, value, len) == 0) {
			*name = *t;
			return 0;
		}
	return rpc_error_set(e, -EINVAL, "InvalidInput",
			     "unknown target_state \"%.*s\" (target states: "
			     "active, stopped, paused, suspended)",
			     (int)(len > 64 ? 64 : len), value);
}

/* The command that brings inst toward its target, or NULL.  Under a lock
 * that keeps inst still (or on the committer). */
static const char *next_step(const struct obj *inst)
{
	enum vm_state target;

	if (!obj_len(inst, I_TARGET) ||
	    vm_state_parse(obj_text(inst, I_TARGET), &target) < 0)
		return NULL;
	return reconcile_step((enum vm_state)obj_int(inst, I_VM_STATE), target,
			      obj_int(inst, I_LAUNCHED));
}

/* action_converge's choice, on the committer: nothing while a task runs
 * (its end brings a pass). */
static const struct action *pick(const struct obj *inst)
{
	const char *step = obj_int(inst, I_TASK_STATE) == TASK_NONE ?
			   next_step(inst) : NULL;

	return step ? action_parse(step, strlen(step), NULL, NULL) : NULL;
}

static void kicked(void *ctx);

/* Posts a pass, unless one is posted already.  Any thread. */
static void kick(void)
{
	if (rs.loop && !atomic_exchange(&rs.posted, true) &&
	    loop_post(rs.loop, kicked, NULL) < 0)
		atomic_store(&rs.posted, false); /* the timer will do */
}

/* An action of e's failed: wait, and say so.  Under rs.lock. */
static void failed(struct entry *e)
{
	e->failures++;
	e->note_s = reconcile_backoff_s(e->failures);
	e->due_ms = clock_mono_ms() + 1000LL * e->note_s;
}

/* The task of an action of e's ended: it failed if it left the
 * instance in error.  Under the object lock and rs.lock. */
static void judge(struct entry *e)
{
	e->watching = false;
	if (obj_int(e->o, I_VM_STATE) == VM_ERROR)
		failed(e);
	else
		e->failures = 0;
}

/* Whether e waits on nothing of ours and may act once due: else it is
 * forgotten if it has nothing left to do.  Under the object lock and
 * rs.lock. */
static bool idle(struct entry *e)
{
	if (e->out || e->watching)
		return false;
	if (e->o->dead || !next_step(e->o)) {
		hash_remove(&rs.set, &e->by_serial);
		obj_put(e->o);
		free(e);
		return false;
	}
	return obj_int(e->o, I_TASK_STATE) == TASK_NONE;
}

/* Whether a pass has something to do for e now (after which e may be
 * gone).  Under the object lock and rs.lock. */
static bool settle(struct entry *e)
{
	bool noting = e->note_s > 0;

	return (idle(e) && e->due_ms <= clock_mono_ms()) || noting;
}

/* The run of an action of ours completed its write. */
static void entry_done(struct wreq *w, int err)
{
	struct entry *e = container_of(w, struct entry, w);
	bool now;

	obj_rdlock();
	pthread_mutex_lock(&rs.lock);
	e->out = false;
	if (err == 0 && obj_int(e->o, I_TASK_STATE) != TASK_NONE)
		e->watching = true;
	else if (err == 0)
		judge(e);
	else if (err != -EALREADY && !e->o->dead)
		failed(e);
	now = settle(e);
	pthread_mutex_unlock(&rs.lock);
	obj_unlock();
	if (now)
		kick();
}

void reconcile_published(struct obj *inst, uint64_t changed)
{
	struct entry *e = NULL;
	struct hash_entry *he;
	bool now;

	if (!(changed & RELEVANT))
		return;
	pthread_mutex_lock(&rs.lock);
	he = hash_get(&rs.set, hash_u64(inst->serial), inst);
	if (he) {
		e = container_of(he, struct entry, by_serial);
	} else if (next_step(inst) && (e = calloc(1, sizeof(*e)))) {
		e->o = inst;
		obj_get(inst);
		e->w.done = entry_done;
		if (hash_add(&rs.set, &e->by_serial, hash_u64(inst->serial)) < 0) {
			log_error("%s: cannot reconcile: out of memory", inst->name);
			obj_put(inst);
			free(e);
			e = NULL;
		}
	}
	if (!e) {
		pthread_mutex_unlock(&rs.lock);
		return;
	}
	if (changed & DEP(I_TARGET)) {
		e->failures = 0;
		e->due_ms = 0;
	}
	if (e->watching && obj_int(inst, I_TASK_STATE) == TASK_NONE)
		judge(e);
	now = settle(e);
	pthread_mutex_unlock(&rs.lock);
	if (now)
		kick();
}

/* --- notes in fault --- */

struct note {
	struct obj *o;          /* a reference */
	unsigned delay_s;
};

/* Appends "; target_state T: retrying in N s" to the fault (in place of
 * an earlier note), while the instance still waits for that target. */
static int note_run(struct txn *t, void *ctx)
{
	struct note *n = ctx;
	struct strbuf fault = STRBUF_INIT;
	const char *old, *sep;
	int rc;

	if (n->o->dead || obj_int(n->o, I_TASK_STATE) != TASK_NONE ||
	    !next_step(n->o))
		return 0;
	if ((rc = txn_touch(t, n->o)) < 0)
		return rc;
	old = obj_text(n->o, I_FAULT);
	sep = strstr(old, NOTE_SEP);
	if (old[0])
		strbuf_add(&fault, old, sep ? (size_t)(sep - old) : strlen(old));
	else
		strbuf_addf(&fault, "InstanceInvalidState: %s is %s", n->o->name,
			    vm_state_name((enum vm_state)obj_int(n->o, I_VM_STATE)));
	strbuf_addf(&fault, NOTE_SEP "%s: retrying in %u s",
		    obj_text(n->o, I_TARGET), n->delay_s);
	log_info("%s: %s", n->o->name, fault.buf);
	rc = txn_set_text(t, n->o, I_FAULT, fault.buf);
	strbuf_release(&fault);
	return rc;
}

static void note_then(void *ctx, int err)
{
	struct note *n = ctx;

	if (err < 0)
		log_warn("%s: cannot note a retry in fault: %s", n->o->name,
			 strerror(-err));
	obj_put(n->o);
	free(n);
}

static void note(struct obj *o, unsigned delay_s)
{
	struct note *n = calloc(1, sizeof(*n));

	if (!n) {
		obj_put(o);
		return;
	}
	n->o = o;
	n->delay_s = delay_s;
	store_do(note_run, note_then, n);
}

/* --- passes --- */

/* Issues what is due and notes what failed; returns the milliseconds
 * until the next pass.  On the bus thread. */
static long long pass(void)
{
	struct entry *issue[PASS_MAX];
	struct obj *noted[PASS_MAX];
	unsigned delay[PASS_MAX];
	size_t ni = 0, nn = 0, i;
	int64_t now = clock_mono_ms(), next = now + PASS_IDLE_MS;
	struct hash_iter it;
	struct hash_entry *he;
	struct entry *e;

	atomic_store(&rs.posted, false);
	obj_rdlock();
	pthread_mutex_lock(&rs.lock);
	hash_iter_init(&it, &rs.set);
	while ((he = hash_iter_next(&it))) {
		e = container_of(he, struct entry, by_serial);
		if (e->note_s && nn == PASS_MAX) {
			next = now;
		} else if (e->note_s) {
			obj_get(e->o);
			noted[nn] = e->o;
			delay[nn++] = e->note_s;
			e->note_s = 0;
		}
		if (!idle(e))
			continue;
		if (e->due_ms > now) {
			next = e->due_ms < next ? e->due_ms : next;
		} else if (ni == PASS_MAX) {
			next = now;
		} else {
			e->out = true;
			e->w.uid = e->o->uid;
			e->w.gid = e->o->gid;
			issue[ni++] = e;
		}
	}
	pthread_mutex_unlock(&rs.lock);
	obj_unlock();
	for (i = 0; i < nn; i++)
		note(noted[i], delay[i]);
	/* Out of the locks: a run may complete its write at once. */
	for (i = 0; i < ni; i++)
		action_converge(issue[i]->o, pick, &issue[i]->w);
	return next > now ? next - now : 0;
}

static void kicked(void *ctx)
{
	long long delay = pass();

	if (rs.timer > 0)
		loop_timer_reset(rs.loop, rs.timer, delay);
}

static long long tick(struct loop *l, void *ctx)
{
	return pass();
}

int reconcile_start(struct loop *loop)
{
	rs.loop = loop;
	rs.timer = loop_timer(loop, 0, tick, NULL);
	return rs.timer < 0 ? (int)rs.timer : 0;
}

void reconcile_stop(void)
{
	struct hash_iter it;
	struct hash_entry *he;
	struct entry *e;

	if (rs.loop && rs.timer > 0)
		loop_timer_cancel(rs.loop, rs.timer);
	rs.timer = 0;
	pthread_mutex_lock(&rs.lock);
	hash_iter_init(&it, &rs.set);
	while ((he = hash_iter_next(&it))) {
		e = container_of(he, struct entry, by_serial);
		hash_remove(&rs.set, he);
		obj_put(e->o);
		free(e);
	}
	hash_release(&rs.set);
	pthread_mutex_unlock(&rs.lock);
}
