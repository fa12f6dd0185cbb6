/*
 * sync.c - keeping state true (see sync.h).
 */
#include "sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/loop.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "rpc/states.h"
#include "action_record.h"
#include "conductor.h"
#include "flavor.h"
#include "instance.h"
#include "obj.h"
#include "store.h"

/* Nova's _sync_instance_power_state: the state an instance in vm whose
 * domain is in power (exists false: there is none) is really in.  An
 * instance in error stays there until someone acts on it, and a suspended
 * domain is shut off with its memory saved. */
static enum vm_state follow(enum vm_state vm, bool exists,
			    enum power_state power)
{
	if (vm == VM_ERROR || (vm == VM_SUSPENDED && power == POWER_SHUTDOWN))
		return vm;
	if (!exists)
		return VM_STOPPED;
	return power == POWER_NOSTATE ? vm : vm_state_of_power(power);
}

static const char *text_arg(json_t *args, const char *key)
{
	const char *s = json_string_value(json_object_get(args, key));

	return s ? s : "";
}

/*
 * Ends o's task as the host says (or, with exists < 0, as it was), with
 * fault unless the task ended well; stages the state the host reports and,
 * when flavor names one, the flavor its domain has (a resize whose answer
 * was lost).  For the sync and the sweep.
 */
static int end_task(struct txn *t, struct obj *o, int exists,
		    enum power_state power, const char *flavor,
		    const char *fault)
{
	enum vm_state vm = (enum vm_state)obj_int(o, I_VM_STATE);
	struct obj *rec = action_record_running(o, NULL);
	int rc;

	if ((rc = txn_touch(t, o)) < 0 ||
	    (rc = txn_set_int(t, o, I_TASK_STATE, TASK_NONE)) < 0 ||
	    (rc = txn_set_text(t, o, I_FAULT, fault)) < 0)
		return rc;
	if (exists >= 0 &&
	    ((rc = txn_set_int(t, o, I_VM_STATE, follow(vm, exists, power))) < 0 ||
	     (rc = txn_set_int(t, o, I_POWER_STATE, power)) < 0))
		return rc;
	if (flavor && strcmp(flavor, obj_text(o, I_FLAVOR)) != 0 &&
	    flavor_find(flavor) && (rc = instance_stage_flavor(t, o, flavor)) < 0)
		return rc;
	if (rec && (rc = action_record_finish(t, rec, false, fault)) < 0)
		return rc;
	log_warn("%s: %s", o->name, fault);
	return 0;
}

/* --- sync_power_states --- */

/* Deleted instances whose host may still have a domain: uuid -> host,
 * until a full sync of that host no longer lists it. */
static pthread_mutex_t deleted_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *deleted;

void sync_deleted(const char *uuid, const char *host)
{
	pthread_mutex_lock(&deleted_lock);
	if (!deleted)
		deleted = json_object();
	if (deleted)
		json_object_set_new(deleted, uuid, json_string(host));
	pthread_mutex_unlock(&deleted_lock);
}

/* Whether uuid is the domain of an instance deleted from host. */
static bool was_deleted(const char *uuid, const char *host)
{
	const char *h;
	bool yes;

	pthread_mutex_lock(&deleted_lock);
	h = json_string_value(json_object_get(deleted, uuid));
	yes = h && strcmp(h, host) == 0;
	pthread_mutex_unlock(&deleted_lock);
	return yes;
}

/* Forgets the deleted instances of host whose domains a full sync of it
 * (listed: uuid -> power state) no longer has. */
static void forget_gone(const char *host, json_t *listed)
{
	const char *uuid;
	json_t *h;
	void *tmp;

	pthread_mutex_lock(&deleted_lock);
	json_object_foreach_safe(deleted, tmp, uuid, h)
		if (strcmp(json_string_value(h), host) == 0 &&
		    !json_object_get(listed, uuid))
			json_object_del(deleted, uuid);
	pthread_mutex_unlock(&deleted_lock);
}

struct sync {
	json_t *args;
	json_t *orphans;          /* uuids of domains to terminate */
	void (*done)(void *ctx);
	void *ctx;
};

/* One instance of the syncing host, whose domain is in power (exists
 * false: none). */
static int sync_one(struct txn *t, struct obj *o, const char *host,
		    bool startup, bool exists, enum power_state power)
{
	enum task_state task = (enum task_state)obj_int(o, I_TASK_STATE);
	enum vm_state vm = (enum vm_state)obj_int(o, I_VM_STATE);
	enum vm_state now = follow(vm, exists, power);
	char fault[1024];
	int rc;

	/* Scheduling and deleting are novafs's own tasks; any other is the
	 * host's, and ends with its report unless the host restarted. */
	if (task == TASK_SCHEDULING || task == TASK_DELETING)
		return 0;
	if (task != TASK_NONE) {
		if (!startup)
			return 0;
		snprintf(fault, sizeof(fault),
			 "HostRestarted: %s restarted while %s was %s; it is %s (%s)",
			 host, o->name, task_state_name(task), vm_state_name(now),
			 exists ? power_state_name(power) : "no domain");
		return end_task(t, o, exists, power, NULL, fault);
	}
	if (now == vm && power == obj_int(o, I_POWER_STATE))
		return 0;
	if ((rc = txn_touch(t, o)) < 0 ||
	    (rc = txn_set_int(t, o, I_VM_STATE, now)) < 0 ||
	    (rc = txn_set_int(t, o, I_POWER_STATE, power)) < 0)
		return rc;
	if (!exists && now != vm) {
		snprintf(fault, sizeof(fault),
			 "DomainNotFound: the domain of %s is gone from %s; start defines it again",
			 o->name, host);
		if ((rc = txn_set_text(t, o, I_FAULT, fault)) < 0)
			return rc;
	}
	log_info("sync: %s is %s (%s) as %s reports", o->name, vm_state_name(now),
		 power_state_name(power), host);
	return 0;
}

/* A partial sync (the domains libvirt reported events of): each listed
 * domain of an instance of that host, and nothing said of the others. */
static int sync_partial(struct txn *t, struct sync *s, const char *host)
{
	enum power_state power;
	struct obj *o;
	json_t *d;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(s->args, "domains"), i, d) {
		o = obj_by_uuid(text_arg(d, "uuid"));
		if (!o || o->kind != &instance_kind ||
		    strcmp(obj_text(o, I_HOST), host) != 0)
			continue;
		power = POWER_NOSTATE;
		power_state_parse(text_arg(d, "power_state"), &power);
		if ((rc = sync_one(t, o, host, false, true, power)) < 0)
			break;
	}
	return rc;
}

static int sync_run(struct txn *t, void *ctx)
{
	struct sync *s = ctx;
	const char *host = text_arg(s->args, "host");
	bool startup = json_is_true(json_object_get(s->args, "startup"));
	json_t *domains, *d, *power_name;
	struct obj *o;
	const char *uuid;
	enum power_state power;
	size_t i;
	int rc = 0;

	json_array_clear(s->orphans); /* a retried run starts over */
	if (json_is_true(json_object_get(s->args, "partial")))
		return sync_partial(t, s, host);
	domains = json_object();
	if (!domains)
		return -ENOMEM;
	json_array_foreach(json_object_get(s->args, "domains"), i, d)
		json_object_set(domains, text_arg(d, "uuid"),
				json_object_get(d, "power_state"));
	for (o = obj_top_coll(&instance_kind)->head; o && rc == 0; o = o->next) {
		if (strcmp(obj_text(o, I_HOST), host) != 0)
			continue;
		power_name = json_object_get(domains, o->uuid);
		power = POWER_NOSTATE;
		power_state_parse(json_string_value(power_name), &power);
		rc = sync_one(t, o, host, startup, power_name != NULL, power);
		json_object_del(domains, o->uuid);
	}
	/* What is left belongs to no instance of this host: an instance
	 * with no host, one evacuated from it, or one deleted, goes. */
	json_object_foreach(domains, uuid, d) {
		if (rc < 0)
			break;
		o = obj_by_uuid(uuid);
		if (o ? o->kind == &instance_kind && obj_int(o, I_TASK_STATE) ==
			TASK_NONE && (!obj_text(o, I_HOST)[0] ||
				      strcmp(obj_text(o, I_EVACUATED_FROM), host) == 0) :
			was_deleted(uuid, host))
			json_array_append_new(s->orphans, json_string(uuid));
		else if (o)
			log_warn("sync: %s has a domain of %s, which runs on %s",
				 host, o->name, o->kind == &instance_kind ?
				 obj_text(o, I_HOST) : "no host");
	}
	if (rc == 0)
		forget_gone(host, domains);
	json_decref(domains);
	return rc;
}

static void terminated(void *ctx, int err, json_t *result,
		       const struct rpc_error *e)
{
	if (err < 0)
		log_warn("sync: cannot terminate an orphan domain: %s", e->message);
}

static void sync_then(void *ctx, int err)
{
	struct sync *s = ctx;
	const char *host = text_arg(s->args, "host");
	json_t *uuid;
	size_t i;

	if (err < 0)
		log_error("sync: cannot record what %s reports: %s", host,
			  strerror(-err));
	json_array_foreach(err < 0 ? NULL : s->orphans, i, uuid) {
		/* A deleted instance has no name left: its UUID stands in. */
		log_info("sync: %s has domain %s, which it does not run: terminating it",
			 host, json_string_value(uuid));
		conductor_cast(&compute_terminate_instance, host, NULL,
			       json_pack("{s:{s:O, s:O}}", "instance", "uuid",
					 uuid, "name", uuid),
			       terminated, NULL);
	}
	s->done(s->ctx);
	json_decref(s->args);
	json_decref(s->orphans);
	free(s);
}

void sync_power_states(json_t *args, void (*done)(void *ctx), void *ctx)
{
	struct sync *s = calloc(1, sizeof(*s));

	if (!s || !(s->orphans = json_array())) {
		free(s);
		done(ctx);
		return;
	}
	s->args = json_incref(args);
	s->done = done;
	s->ctx = ctx;
	store_do(sync_run, sync_then, s);
}

/* --- the sweep --- */

/* Tasks asked of their host at most per sweep: the rest wait for the
 * next one. */
#define SWEEP_ASK_MAX 64

static struct {
	struct loop *loop;
	long long timer;
	int64_t timeout_ns;
	atomic_bool running;      /* a sweep op is out */
} sw;

/* A task asked of its host. */
struct query {
	char uuid[UUID_STR_LEN];
	char host[64];
	enum task_state task;
	json_t *state;            /* the answer */
};

static int sweep_run(struct txn *t, void *ctx)
{
	json_t *queries = ctx, *q;
	int64_t now = clock_real_ns(), since;
	struct rpc_error why = { 0 };
	char fault[1024];
	struct obj *o, *rec;
	enum task_state task;
	int rc = 0, down;

	json_array_clear(queries);
	for (o = obj_top_coll(&instance_kind)->head; o && rc == 0; o = o->next) {
		task = (enum task_state)obj_int(o, I_TASK_STATE);
		if (task == TASK_NONE || task == TASK_SCHEDULING ||
		    task == TASK_DELETING || !obj_text(o, I_HOST)[0])
			continue;
		rec = action_record_running(o, NULL);
		since = rec ? action_record_started_ns(rec) : o->updated_ns;
		if (now - since < sw.timeout_ns)
			continue;
		down = conductor_check_service("novafs-compute",
					       obj_text(o, I_HOST), &why);
		if (down == -EHOSTDOWN) {
			snprintf(fault, sizeof(fault), "HostDown: %s; task %s abandoned",
				 why.message, task_state_name(task));
			rc = end_task(t, o, -1, POWER_NOSTATE, NULL, fault);
		} else if (down == 0 && json_array_size(queries) < SWEEP_ASK_MAX) {
			q = json_pack("{s:s, s:s, s:s, s:i}", "uuid", o->uuid,
				      "name", o->name, "host", obj_text(o, I_HOST),
				      "task", (int)task);
			if (q)
				json_array_append_new(queries, q);
		}
	}
	return rc;
}

static int answer_run(struct txn *t, void *ctx)
{
	struct query *q = ctx;
	struct obj *o = obj_by_uuid(q->uuid);
	enum power_state power = POWER_NOSTATE;
	bool exists = json_is_true(json_object_get(q->state, "exists"));
	char fault[1024];

	if (!o || o->kind != &instance_kind || o->dead ||
	    obj_int(o, I_TASK_STATE) != q->task ||
	    strcmp(obj_text(o, I_HOST), q->host) != 0)
		return 0; /* it ended meanwhile */
	power_state_parse(text_arg(q->state, "power_state"), &power);
	snprintf(fault, sizeof(fault),
		 "TaskTimeout: no report of %s from %s in %lld s; the host says %s",
		 task_state_name(q->task), q->host,
		 (long long)(sw.timeout_ns / 1000000000),
		 exists ? power_state_name(power) : "it has no domain");
	return end_task(t, o, exists, power,
			json_string_value(json_object_get(q->state, "flavor")),
			fault);
}

static void answer_then(void *ctx, int err)
{
	struct query *q = ctx;

	if (err < 0)
		log_error("sweep: cannot record what %s says: %s", q->host,
			  strerror(-err));
	json_decref(q->state);
	free(q);
}

static void answered(void *ctx, int err, json_t *result,
		     const struct rpc_error *e)
{
	struct query *q = ctx;

	if (err < 0) {
		/* Asked again at the next sweep. */
		log_info("sweep: %s did not say how %s is: %s", q->host, q->uuid,
			 e->message);
		free(q);
		return;
	}
	q->state = json_incref(result);
	store_do(answer_run, answer_then, q);
}

static void ask(json_t *query)
{
	struct query *q = calloc(1, sizeof(*q));
	const char *uuid = text_arg(query, "uuid");

	if (!q)
		return;
	snprintf(q->uuid, sizeof(q->uuid), "%s", uuid);
	snprintf(q->host, sizeof(q->host), "%s", text_arg(query, "host"));
	q->task = (enum task_state)json_integer_value(json_object_get(query, "task"));
	conductor_call(&compute_get_instance_state, q->host, NULL,
		       json_pack("{s:{s:s, s:s}}", "instance", "uuid", uuid,
				 "name", text_arg(query, "name")),
		       answered, q);
}

static void sweep_then(void *ctx, int err)
{
	json_t *queries = ctx, *q;
	size_t i;

	if (err < 0)
		log_error("sweep: %s", strerror(-err));
	json_array_foreach(queries, i, q)
		ask(q);
	json_decref(queries);
	atomic_store(&sw.running, false);
}

static long long sweep_tick(struct loop *l, void *ctx)
{
	json_t *queries;
	long long every = sw.timeout_ns / 4000000;

	if (!atomic_exchange(&sw.running, true)) {
		if (!(queries = json_array())) {
			atomic_store(&sw.running, false);
			return 1000;
		}
		store_do(sweep_run, sweep_then, queries);
	}
	return every < 1000 ? 1000 : every;
}

int sync_sweep_start(struct loop *loop, long long task_timeout_s)
{
	sw.loop = loop;
	sw.timeout_ns = task_timeout_s * 1000000000LL;
	sw.timer = loop_timer(loop, 1000, sweep_tick, NULL);
	return sw.timer < 0 ? (int)sw.timer : 0;
}

void sync_sweep_stop(void)
{
	if (sw.loop && sw.timer > 0)
		loop_timer_cancel(sw.loop, sw.timer);
	sw.loop = NULL;
	sw.timer = 0;
}
