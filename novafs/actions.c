/*
 * actions.c - the action table and its runner (see actions.h).
 *
 * A run is a small state machine whose steps run where their input is:
 * claim (committer: validate and claim the task), then the bus (bus
 * thread: ask the scheduler, the compute host), then the committer again
 * to record what happened.  No step blocks; each hands the run to the
 * next.  Whatever happens, the run ends in finish(), which completes the
 * write or rmdir that asked for it.
 *
 * A step that records a change and sends a message sends it from inside
 * its op, once the change is staged, instead of after the commit: the
 * commit's fsync and the broker's confirm (RabbitMQ's own fsync of a
 * persistent message) then overlap, and the step ends when both are done
 * (step_sent).  The request still returns only once both are durable.
 * The message can only be acted on after the change is visible: whatever
 * a compute host reports goes through the committer, after this batch.
 * Should the commit fail after the message went out (a full or failing
 * disk), the host's report no longer matches the task and is dropped,
 * and the writer gets EIO: the same as a crash between the two.
 */
#include "actions.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "action_record.h"
#include "conductor.h"
#include "flavor.h"
#include "group.h"
#include "host.h"
#include "image.h"
#include "instance.h"
#include "network.h"
#include "node.h"
#include "obj.h"
#include "service.h"
#include "store.h"
#include "sync.h"

#define VM(s) (1u << (s))

/* Nova's compute API rules (nova/compute/api.py's check_instance_state). */
#define ANY_VM (~0u)
#define HARD_REBOOTABLE (VM(VM_ACTIVE) | VM(VM_STOPPED) | VM(VM_PAUSED) | \
			 VM(VM_SUSPENDED) | VM(VM_ERROR))
#define STOPPABLE (VM(VM_ACTIVE) | VM(VM_PAUSED) | VM(VM_ERROR))
#define EVACUABLE (VM(VM_ACTIVE) | VM(VM_STOPPED) | VM(VM_PAUSED) | \
		   VM(VM_SUSPENDED) | VM(VM_ERROR))

int action_max_attempts = 3;

const struct action actions[] = {
	{ "start", NULL, VM(VM_STOPPED) | VM(VM_ERROR), TASK_POWERING_ON,
	  &compute_start_instance, NULL, ACTION_STEADY, VM_ACTIVE, "power_on" },
	{ "stop", NULL, STOPPABLE, TASK_POWERING_OFF, &compute_stop_instance,
	  "{\"clean_shutdown\": true}", ACTION_NEEDS_HOST | ACTION_STEADY,
	  VM_STOPPED, "power_off" },
	{ "stop", "hard", STOPPABLE, TASK_POWERING_OFF, &compute_stop_instance,
	  "{\"clean_shutdown\": false}", ACTION_NEEDS_HOST | ACTION_STEADY,
	  VM_STOPPED, "power_off" },
	{ "reboot", NULL, VM(VM_ACTIVE), TASK_REBOOTING, &compute_reboot_instance,
	  "{\"reboot_type\": \"SOFT\"}", ACTION_NEEDS_HOST, VM_ACTIVE, "reboot" },
	{ "reboot", "hard", HARD_REBOOTABLE, TASK_REBOOTING_HARD,
	  &compute_reboot_instance, "{\"reboot_type\": \"HARD\"}",
	  ACTION_NEEDS_HOST, VM_ACTIVE, "reboot" },
	{ "pause", NULL, VM(VM_ACTIVE), TASK_PAUSING, &compute_pause_instance,
	  NULL, ACTION_NEEDS_HOST | ACTION_STEADY, VM_PAUSED, "pause" },
	{ "unpause", NULL, VM(VM_PAUSED), TASK_UNPAUSING,
	  &compute_unpause_instance, NULL, ACTION_NEEDS_HOST | ACTION_STEADY,
	  VM_ACTIVE, "unpause" },
	{ "suspend", NULL, VM(VM_ACTIVE), TASK_SUSPENDING,
	  &compute_suspend_instance, NULL, ACTION_NEEDS_HOST | ACTION_STEADY,
	  VM_SUSPENDED, "suspend" },
	{ "resume", NULL, VM(VM_SUSPENDED), TASK_RESUMING,
	  &compute_resume_instance, NULL, ACTION_NEEDS_HOST | ACTION_STEADY,
	  VM_ACTIVE, "resume" },
	{ "rebuild", NULL, VM(VM_ACTIVE) | VM(VM_STOPPED) | VM(VM_ERROR),
	  TASK_REBUILDING, &compute_rebuild_instance, NULL, ACTION_NEEDS_HOST,
	  VM_ACTIVE, "rebuild" },
	{ "resize", ACTION_ARG_FLAVOR, VM(VM_STOPPED), TASK_RESIZING,
	  &compute_resize_instance, NULL, ACTION_NEEDS_HOST, VM_STOPPED, "resize" },
	{ "evacuate", NULL, EVACUABLE, TASK_REBUILDING, &compute_start_instance,
	  NULL, ACTION_NEEDS_HOST | ACTION_ROOT, VM_ACTIVE, "evacuate" },
	{ "delete", NULL, ANY_VM, TASK_DELETING, &compute_terminate_instance,
	  NULL, ACTION_ANY_TASK, VM_STOPPED, "delete" },
	{ "reset-state", NULL, ANY_VM, TASK_NONE, NULL, NULL,
	  ACTION_ROOT | ACTION_ANY_TASK, VM_ERROR, "reset_state" },
	{ "reset-state", "active", ANY_VM, TASK_NONE, NULL, NULL,
	  ACTION_ROOT | ACTION_ANY_TASK, VM_ACTIVE, "reset_state" },
	{ "reset-state", "error", ANY_VM, TASK_NONE, NULL, NULL,
	  ACTION_ROOT | ACTION_ANY_TASK, VM_ERROR, "reset_state" },
	{ NULL },
};

static const struct action *action_named(const char *name)
{
	const struct action *a;

	for (a = actions; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

const char *action_event(const char *name)
{
	const struct action *a = action_named(name);

	return a ? a->event : NULL;
}

void action_table_markdown(FILE *f)
{
	const struct action *a;
	int s;

	fputs("| command | allowed when the instance is | task while it runs | "
	      "compute method | | leaves it |\n"
	      "|---|---|---|---|---|---|\n", f);
	for (a = actions; a->name; a++) {
		fprintf(f, "| `%s%s%s` | ", a->name, a->arg ? " " : "",
			a->arg ? a->arg : "");
		if (a->allowed == ANY_VM) {
			fputs("any", f);
		} else {
			for (s = 0; s < VM_STATE_COUNT; s++)
				if (a->allowed & VM(s))
					fprintf(f, "%s%s", (a->allowed & (VM(s) - 1)) ?
						", " : "", vm_state_name((enum vm_state)s));
		}
		if (a->flags & ACTION_NEEDS_HOST)
			fputs(" (once started)", f);
		if (a->flags & ACTION_ANY_TASK)
			fputs(", also during a task", f);
		fprintf(f, " | %s | ", a->task == TASK_NONE ? "none" :
			a == actions ? "powering-on (first start: scheduling, spawning)" :
			task_state_name(a->task));
		if (a->method)
			fprintf(f, "`%s`%s%s%s | %s | ", a->method->name,
				a->options ? " `" : "", a->options ? a->options : "",
				a->options ? "`" : "",
				a->method->kind == RPC_CALL ? "call" : "cast");
		else
			fputs("none | | ", f);
		fprintf(f, "%s%s |\n", a->method == &compute_terminate_instance ?
			"(gone)" : vm_state_name(a->success),
			a->flags & ACTION_ROOT ? " (root only)" : "");
	}
}

const struct action *action_parse(const char *line, size_t len,
				  const char **arg, size_t *arg_len)
{
	const char *end, *word, *rest;
	const struct action *a;
	size_t wlen, rlen;

	text_trim(&line, &len);
	end = line + len;
	for (word = line; line < end && !text_blank(line[0]); line++)
		;
	wlen = (size_t)(line - word);
	while (line < end && text_blank(line[0]))
		line++;
	rest = line;
	rlen = (size_t)(end - rest);
	for (a = actions; a->name; a++) {
		if (strlen(a->name) != wlen || memcmp(a->name, word, wlen) != 0)
			continue;
		if (!a->arg ? rlen == 0 :
		    strcmp(a->arg, ACTION_ARG_FLAVOR) == 0 ?
		    rlen > 0 && !memchr(rest, '\n', rlen) :
		    strlen(a->arg) == rlen && memcmp(a->arg, rest, rlen) == 0) {
			if (arg) {
				*arg = rest;
				*arg_len = rlen;
			}
			return a;
		}
	}
	return NULL;
}

int action_check(const struct action *a, const char *name, enum vm_state vm,
		 enum task_state task, struct rpc_error *e)
{
	struct strbuf allowed = STRBUF_INIT;
	bool literal;
	int s, rc;

	if (task != TASK_NONE && !(a->flags & ACTION_ANY_TASK))
		return rpc_error_set(e, -EBUSY, "InstanceInvalidState",
				     "cannot %s %s: task %s is in progress",
				     a->name, name, task_state_name(task));
	if (a->allowed & VM(vm))
		return 0;
	for (s = 0; s < VM_STATE_COUNT; s++)
		if (a->allowed & VM(s))
			strbuf_addf(&allowed, "%s%s", allowed.len ? " or " : "",
				    vm_state_name((enum vm_state)s));
	/* "reboot hard", but "resize", not "resize FLAVOR". */
	literal = a->arg && strcmp(a->arg, ACTION_ARG_FLAVOR) != 0;
	rc = rpc_error_set(e, -EBUSY, "InstanceInvalidState",
			   "cannot %s%s%s %s: it is %s (%s needs %s)", a->name,
			   literal ? " " : "", literal ? a->arg : "", name,
			   vm_state_name(vm), a->name, allowed.buf);
	strbuf_release(&allowed);
	return rc;
}

/* One action in progress. */
struct run {
	struct wreq *w;
	struct obj *o;               /* a reference */
	const struct action *a;
	/* the reconciler's: chooses a at the claim (action_converge) */
	const struct action *(*pick)(const struct obj *inst);
	enum task_state task;        /* the task claimed */
	bool first;                  /* a first start: scheduled first */
	bool evacuate;               /* an evacuation: scheduled too */
	bool launched;               /* it had been placed on a host */
	bool forced;                 /* its host was written, not chosen */
	bool scheduling;             /* the scheduler was asked */
	bool chosen;                 /* the scheduler chose host (and claimed
				      * the flavor there) */
	bool allocate;               /* a first start that needs addresses */
	bool networked;              /* delete: it may hold addresses */
	json_t *allocated;           /* novafs-network's answer */
	char host[64];
	char from[64];               /* evacuate: the host it leaves */
	json_t *limits;              /* the chosen host's, from the scheduler */
	json_t *release;             /* delete: release_resources' args */
	char new_flavor[OBJ_NAME_MAX + 1]; /* resize: its argument */
	json_t *instance;            /* the instance as compute hosts see it */
	json_t *flavor;              /* as the scheduler sees it */
	bool keep_state;             /* a failure leaves vm_state alone */
	struct rpc_error e;          /* why it failed */
	char request[48];            /* "req-UUID" */
	uid_t uid;                   /* who asked */
	struct obj *rec;             /* its action record (lives with o) */
	/* A step whose commit and message go out together (step_send):
	 * how many of the two are still out, what each gave, and what to do
	 * once both are in. */
	atomic_int pending;
	int commit_err;
	int bus_err;
	void (*sent)(struct run *r);
};

static void finish(struct run *r, int err)
{
	if (r->w)
		wreq_done(r->w, err);
	json_decref(r->instance);
	json_decref(r->flavor);
	json_decref(r->limits);
	json_decref(r->release);
	json_decref(r->allocated);
	obj_put(r->o);
	free(r);
}

/* Transport failures leave the instance as it was: retrying may work. */
static bool transport_failure(int err)
{
	return err == -ENETDOWN || err == -EHOSTDOWN || err == -ETIMEDOUT ||
	       err == -ENOMEM || err == -EIO;
}

static void released(void *ctx, int err, json_t *result,
		     const struct rpc_error *e)
{
	if (err < 0)
		log_warn("cannot release a claim: %s", e->message);
}

/* The flavor as the scheduler sees it, or NULL when out of memory. */
static json_t *flavor_json(const struct obj *fl)
{
	return json_pack("{s:s, s:I, s:I, s:I}", "name", fl->name,
			 "vcpus", (json_int_t)obj_int(fl, FLAVOR_VCPUS),
			 "memory_mb", (json_int_t)obj_int(fl, FLAVOR_MEMORY_MB),
			 "disk_gb", (json_int_t)obj_int(fl, FLAVOR_DISK_GB));
}

/* release_resources' arguments for inst on host (NULL: wherever its
 * claim is), from the committed state; NULL without a flavor or memory. */
static json_t *release_args(const struct obj *inst, const char *host)
{
	struct obj *fl = flavor_find(obj_text(inst, I_FLAVOR));

	return fl ? json_pack("{s:s, s:s*, s:o}", "instance_uuid", inst->uuid,
			      "host", host, "flavor", flavor_json(fl)) : NULL;
}

void action_release_claim(const struct obj *inst, const char *host,
			  const char *request_id)
{
	json_t *args = release_args(inst, host);

	if (args)
		conductor_cast(&scheduler_release_resources, NULL, request_id,
			       args, released, NULL);
}

/* Ends the claimed task with r->e: in error when the remote side refused,
 * as it was when it could not be reached; a first start that failed after
 * scheduling forgets its host. */
static int fail_run(struct txn *t, void *ctx)
{
	struct run *r = ctx;
	int rc;

	if (r->o->dead || obj_int(r->o, I_TASK_STATE) != r->task)
		return r->e.err; /* somebody else ended it already */
	txn_set_request(t, r->request);
	if ((rc = txn_touch(t, r->o)) < 0 ||
	    (rc = txn_set_int(t, r->o, I_TASK_STATE, TASK_NONE)) < 0 ||
	    (rc = instance_stage_fault(t, r->o, &r->e)) < 0)
		return rc;
	if (r->rec) {
		char fault[sizeof(r->e.cls) + sizeof(r->e.message) + 2];

		snprintf(fault, sizeof(fault), "%s: %s", r->e.cls, r->e.message);
		if ((rc = action_record_finish(t, r->rec, false, fault)) < 0)
			return rc;
	}
	if (!r->keep_state && !transport_failure(r->e.err) &&
	    (rc = txn_set_int(t, r->o, I_VM_STATE, VM_ERROR)) < 0)
		return rc;
	if (r->first && !r->forced && (rc = txn_set_text(t, r->o, I_HOST, "")) < 0)
		return rc;
	if (r->first && (rc = txn_set_int(t, r->o, I_LAUNCHED, 0)) < 0)
		return rc;
	if (r->first && r->chosen)
		action_release_claim(r->o, r->host, r->request);
	else if (r->first && r->scheduling && transport_failure(r->e.err))
		/* The scheduler may still answer (it was slow, not gone) and
		 * claim room for a start that will not happen: released
		 * after it, in the same queue. */
		action_release_claim(r->o, NULL, r->request);
	return r->e.err;
}

static void fail_then(void *ctx, int err)
{
	struct run *r = ctx;

	finish(r, r->e.err ? r->e.err : err);
}

static void fail(struct run *r, int err, const struct rpc_error *e)
{
	if (e && e->err)
		r->e = *e;
	else
		rpc_error_set(&r->e, err, NULL, "%s", strerror(-err));
	store_do(fail_run, fail_then, r);
}

/*
 * The overlapped step (see the top of this file).  An op's run() calls
 * step_send(r, sent) just before sending, and its then() is
 * step_committed: when both the commit and the message are in, sent(r)
 * runs, with r->bus_err and r->e telling how the message went.  A run()
 * that refuses before sending leaves nothing pending: its then() ends
 * the run with the refusal.
 */
static void step_arrived(struct run *r)
{
	void (*sent)(struct run *r) = r->sent;

	if (atomic_fetch_sub(&r->pending, 1) != 1)
		return;
	r->sent = NULL;
	if (r->commit_err < 0) {
		log_warn("%s: %s was sent, but its claim could not be recorded: %s",
			 r->o->name, r->a->name, strerror(-r->commit_err));
		finish(r, r->commit_err);
		return;
	}
	sent(r);
}

static void step_send(struct run *r, void (*sent)(struct run *r))
{
	r->sent = sent;
	r->commit_err = r->bus_err = 0;
	atomic_store(&r->pending, 2);
}

static void step_committed(void *ctx, int err)
{
	struct run *r = ctx;

	if (!r->sent) {
		finish(r, err);
		return;
	}
	r->commit_err = err;
	step_arrived(r);
}

/* The message of a step_send() came back; r->e has why it failed. */
static void bus_done(struct run *r, int err, const struct rpc_error *e)
{
	r->bus_err = err;
	if (err < 0) {
		if (e && e->err)
			r->e = *e;
		else
			rpc_error_set(&r->e, err, NULL, "%s", strerror(-err));
	}
	step_arrived(r);
}

static void cast_done(void *ctx, int err, json_t *result,
		      const struct rpc_error *e)
{
	bus_done(ctx, err, e);
}

/*
 * A call's answer is its outcome (no instance_update follows): recorded
 * here.  Only resize is a call; it leaves the instance stopped with its
 * new flavor.
 */
static int answered_run(struct txn *t, void *ctx)
{
	struct run *r = ctx;
	int rc;

	if (r->o->dead || obj_int(r->o, I_TASK_STATE) != r->task)
		return 0; /* ended meanwhile (reset-state, a sync) */
	txn_set_request(t, r->request);
	if ((rc = txn_touch(t, r->o)) < 0 ||
	    (rc = txn_set_int(t, r->o, I_TASK_STATE, TASK_NONE)) < 0 ||
	    (rc = txn_set_int(t, r->o, I_VM_STATE, r->a->success)) < 0 ||
	    (rc = txn_set_text(t, r->o, I_FAULT, "")) < 0 ||
	    (rc = instance_stage_flavor(t, r->o, r->new_flavor)) < 0)
		return rc;
	if (r->rec && (rc = action_record_finish(t, r->rec, true, "")) < 0)
		return rc;
	log_info("%s: %s %s done", r->o->name, r->a->name, r->new_flavor);
	return 0;
}

static void answered_then(void *ctx, int err)
{
	finish(ctx, err);
}

/* The host has the request (a cast) or has answered (a call). */
static void host_asked(struct run *r)
{
	if (r->bus_err == -ETIMEDOUT && r->a->method->kind == RPC_CALL) {
		/* Not a failure: the host may have done it.  The task stays,
		 * and the stuck-task sweep learns the outcome from the host. */
		log_warn("%s: %s: no answer from %s in time; its outcome will be "
			 "asked of the host", r->o->name, r->a->name, r->host);
		finish(r, r->bus_err);
	} else if (r->bus_err < 0) {
		/* A host that refused a call (no room) changed nothing. */
		r->keep_state = r->a->method->kind == RPC_CALL;
		fail(r, r->bus_err, &r->e);
	} else if (r->a->method->kind == RPC_CALL) {
		store_do(answered_run, answered_then, r);
	} else {
		finish(r, 0);
	}
}

/* Whether m may (re)define the instance's domain (a reboot does when the
 * domain is gone), and so needs its NICs. */
static bool defines_domain(const struct rpc_method_decl *m)
{
	return m == &compute_start_instance || m == &compute_reboot_instance ||
	       m == &compute_rebuild_instance || m == &compute_resize_instance;
}

/* The arguments of the action's method: the instance (with its NICs
 * where the domain is defined), the task it runs as, and the row's
 * options. */
static json_t *host_args(struct run *r)
{
	json_t *nics = defines_domain(r->a->method) ?
		       network_nics(r->o, r->allocated) : NULL;
	json_t *args;

	if (nics)
		json_object_set_new(r->instance, "nics", nics);
	args = json_pack("{s:O, s:s, s:O*}", "instance", r->instance,
			 "expected_task_state", task_state_name(r->task),
			 "limits", r->limits);
	json_t *options = r->a->options ? json_loads(r->a->options, 0, NULL) : NULL;

	if (args && r->a->options &&
	    (!options || json_object_update(args, options) < 0)) {
		json_decref(args);
		args = NULL;
	}
	json_decref(options);
	return args;
}

/* Asks the instance's host to act, as the action's method. */
static void ask_host(struct run *r)
{
	json_t *args = host_args(r);

	step_send(r, host_asked);
	if (!args)
		cast_done(r, -ENOMEM, NULL, NULL);
	else if (r->a->method->kind == RPC_CALL)
		conductor_call(r->a->method, r->host, r->request, args,
			       cast_done, r);
	else
		conductor_cast(r->a->method, r->host, r->request, args,
			       cast_done, r);
}

static void deallocated(void *ctx, int err, json_t *result,
			const struct rpc_error *e)
{
	if (err < 0)
		log_warn("cannot release addresses: %s", e->message);
}

/* inst's addresses are free again, whatever novafs-network gave it. */
static void deallocate(const struct obj *inst, const char *request_id)
{
	conductor_cast(&network_deallocate_for_instance, NULL, request_id,
		       json_pack("{s:s}", "instance_uuid", inst->uuid),
		       deallocated, NULL);
}

/* Stages the addresses novafs-network gave r's instance, if it was
 * asked, and says them in ips ("192.0.2.5 198.51.100.7").  An answer that
 * does not fit ends the run (fail_run). */
static int stage_addresses(struct txn *t, struct run *r, struct strbuf *ips)
{
	struct strbuf macs = STRBUF_INIT;
	char *nl;
	int rc;

	if (!r->allocated)
		return 0;
	rc = network_read_allocation(r->o, r->allocated, ips, &macs, &r->e);
	if (rc < 0) {
		deallocate(r->o, r->request);
		rc = fail_run(t, r);
	} else if ((rc = txn_set_text(t, r->o, I_IPS, ips->buf)) == 0) {
		rc = txn_set_text(t, r->o, I_MACS, macs.buf);
	}
	strbuf_release(&macs);
	for (nl = ips->buf; (nl = strchr(nl, '\n')); )
		*nl = ' ';
	return rc;
}

/* The scheduler chose a host: record it (and the addresses the
 * instance was given), and start there. */
static int spawn_run(struct txn *t, void *ctx)
{
	struct strbuf ips = STRBUF_INIT;
	struct run *r = ctx;
	int rc;

	if (r->o->dead) {
		/* Deleted while it was scheduled: nothing will start, and
		 * its delete gave back what it held then. */
		action_release_claim(r->o, r->host, r->request);
		if (r->allocated)
			deallocate(r->o, r->request);
		return -ENOENT;
	}
	if (obj_int(r->o, I_TASK_STATE) != r->task) {
		/* Nothing will start there. */
		action_release_claim(r->o, r->host, r->request);
		return rpc_error_set(&r->e, -EBUSY, "InstanceInvalidState",
				     "%s changed while it was being scheduled",
				     r->o->name);
	}
	txn_set_request(t, r->request);
	if ((rc = txn_touch(t, r->o)) < 0 ||
	    (rc = stage_addresses(t, r, &ips)) < 0) {
		strbuf_release(&ips);
		return rc;
	}
	if ((rc = txn_set_text(t, r->o, I_HOST, r->host)) < 0 ||
	    (rc = txn_set_int(t, r->o, I_LAUNCHED, 1)) < 0 ||
	    (r->evacuate &&
	     (rc = txn_set_text(t, r->o, I_EVACUATED_FROM, r->from)) < 0) ||
	    (!r->evacuate &&
	     (rc = txn_set_int(t, r->o, I_TASK_STATE, TASK_SPAWNING)) < 0) ||
	    (r->rec && (rc = action_record_event(t, r->rec, "scheduled on %s%s%s",
						 r->host, ips.len ? ", addresses " : "",
						 ips.buf)) < 0)) {
		strbuf_release(&ips);
		return rc;
	}
	if (!r->evacuate)
		r->task = TASK_SPAWNING;
	log_info("%s: scheduled on %s%s%s", r->o->name, r->host,
		 ips.len ? ", addresses " : "", ips.buf);
	strbuf_release(&ips);
	ask_host(r);
	return 0;
}

static void scheduled(void *ctx, int err, json_t *result,
		      const struct rpc_error *e)
{
	struct run *r = ctx;

	if (err == 0) {
		snprintf(r->host, sizeof(r->host), "%s",
			 json_string_value(json_object_get(result, "host")));
		r->limits = json_incref(json_object_get(result, "limits"));
		r->chosen = true;
	}
	bus_done(r, err, e);
}

static void addresses_given(void *ctx, int err, json_t *result,
			    const struct rpc_error *e)
{
	struct run *r = ctx;

	if (err < 0) {
		/* NoMoreFixedIps: nothing was allocated (all or nothing). */
		fail(r, err, e);
		return;
	}
	r->allocated = json_incref(result);
	store_do(spawn_run, step_committed, r);
}

/* Asks novafs-network for the instance's addresses, between placement
 * and start as Nova's build does, so that a start no host has room for
 * takes no address.  The definitions sent are read here, on the bus
 * thread, without a lock: a network is fixed while an instance of it
 * is scheduling (network.h). */
static void ask_network(struct run *r)
{
	json_t *args;

	obj_rdlock();
	args = network_allocate_args(r->o);
	obj_unlock();
	if (!args) {
		fail(r, -ENOMEM, NULL);
		return;
	}
	conductor_call(&network_allocate_for_instance, NULL, r->request, args,
		       addresses_given, r);
}

/* The claim is recorded and the scheduler has answered.  An evacuation
 * that finds no host leaves the instance as it was. */
static void host_chosen(struct run *r)
{
	r->keep_state = r->evacuate;
	if (r->bus_err < 0)
		fail(r, r->bus_err, &r->e);
	else if (r->allocate)
		ask_network(r);
	else
		store_do(spawn_run, step_committed, r);
}

/* 0 when inst's server group, if any, can place it: it exists and has
 * a policy.  Else -EINVAL with e. */
static int check_group(const struct obj *inst, struct rpc_error *e)
{
	const char *name = obj_text(inst, I_GROUP);
	const struct obj *g = name[0] ? group_find(name) : NULL;

	if (name[0] && !g)
		return rpc_error_set(e, -EINVAL, "InstanceGroupNotFound",
				     "group %s does not exist", name);
	if (g && !obj_len(g, G_POLICY))
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "group %s has no policy: write affinity or "
				     "anti-affinity to groups/%s/policy", name, name);
	return 0;
}

/* Adds each host of the blank-separated list to the array hosts. */
static int add_hosts(json_t *hosts, const char *list)
{
	char name[OBJ_NAME_MAX + 1];
	size_t n;

	while (*list) {
		n = strcspn(list, " ");
		if (n && n <= OBJ_NAME_MAX) {
			snprintf(name, sizeof(name), "%.*s", (int)n, list);
			if (json_array_append_new(hosts, json_string(name)) < 0)
				return -ENOMEM;
		}
		list += n + (list[n] == ' ');
	}
	return 0;
}

/* What the scheduler is told of r's instance (committed state: on the
 * committer), or NULL with r->e. */
static json_t *scheduler_args(struct run *r)
{
	const char *group_name = obj_text(r->o, I_GROUP);
	json_t *args, *ignore, *group = NULL;
	struct obj *g = group_name[0] ? group_find(group_name) : NULL;

	/* Its group was checked at the claim, and cannot change while it
	 * is a member (group.h). */
	ignore = json_array();
	args = json_pack("{s:s, s:O, s:o*, s:o}", "instance_uuid", r->o->uuid,
			 "flavor", r->flavor,
			 "group", g ? (group = group_describe(g, r->o)) : NULL,
			 "disabled_hosts", host_disabled());
	if (args && r->forced)
		json_object_set_new(args, "force_host", json_string(r->host));
	if (ignore && r->evacuate)
		json_array_append_new(ignore, json_string(r->from));
	if (!args || (g && !group) || !ignore ||
	    add_hosts(ignore, obj_text(r->o, I_TRIED)) < 0 ||
	    json_object_set_new(args, "ignore_hosts", ignore) < 0) {
		json_decref(args);
		rpc_error_set(&r->e, -ENOMEM, NULL, "out of memory");
		return NULL;
	}
	return args;
}

/* Asks the scheduler where a first start (or an evacuation) goes; from
 * an op, which it is a step of. */
static void ask_scheduler(struct run *r)
{
	json_t *args = scheduler_args(r);

	step_send(r, host_chosen);
	if (!args) {
		scheduled(r, r->e.err, NULL, &r->e);
		return;
	}
	r->scheduling = true;
	conductor_call(&scheduler_select_destinations, NULL, r->request, args,
		       scheduled, r);
}

/*
 * Delete, as Nova's: the host is cast terminate_instance, and the instance is
 * forgotten as soon as the broker has the request, so that rmdir never
 * waits on a host (the kernel holds instances/ for as long as an rmdir in
 * it runs).  A stopped host finds the request in its durable queue when
 * it runs again; a host whose queue is gone (removed for good) cannot
 * have the domain any more, and the instance goes all the same: Nova's
 * local delete.  Only a bus that is down keeps the instance, to be
 * deleted again later.
 */

static int delete_run(struct txn *t, void *ctx)
{
	struct run *r = ctx;
	int rc;

	if (r->o->dead)
		return 0;
	txn_set_request(t, r->request);
	rc = txn_delete(t, r->o);
	if (rc == 0)
		log_info("%s: deleted", r->o->name);
	return rc;
}

static void delete_then(void *ctx, int err)
{
	struct run *r = ctx;

	if (err == 0 && r->launched)
		sync_deleted(r->o->uuid, r->host);
	/* Its resources are free at once, not at the host's next report. */
	if (err == 0 && r->release)
		conductor_cast(&scheduler_release_resources, NULL, r->request,
			       json_incref(r->release), released, NULL);
	if (err == 0 && r->networked)
		deallocate(r->o, r->request);
	finish(r, err);
}

/* The host has the terminate request, or has no queue any more. */
static void terminated(struct run *r)
{
	if (r->bus_err == -EHOSTDOWN)
		log_warn("%s: %s: deleting it here (the domain goes if %s ever runs again)",
			 r->o->name, r->e.message, r->host);
	if (r->bus_err < 0 && r->bus_err != -EHOSTDOWN) {
		r->keep_state = true;
		fail(r, r->bus_err, &r->e);
		return;
	}
	store_do(delete_run, delete_then, r);
}

/* Casts terminate_instance to the instance's host; an instance that never
 * had one has nothing to terminate. */
static void ask_terminate(struct run *r)
{
	json_t *args;

	step_send(r, terminated);
	if (!r->launched) {
		cast_done(r, 0, NULL, NULL);
		return;
	}
	args = json_pack("{s:{s:s, s:s}}", "instance", "uuid", r->o->uuid,
			 "name", r->o->name);
	if (!args)
		cast_done(r, -ENOMEM, NULL, NULL);
	else
		conductor_cast(&compute_terminate_instance, r->host, r->request,
			       args, cast_done, r);
}

/* The image r's instance boots from, into r->instance where the domain
 * is defined.  A first start and a resize check first that the flavor
 * has room for it (an image an instance names cannot be removed, and an
 * active one never changes, so later actions need not). */
static int describe_image(struct run *r, const struct obj *fl,
			  struct rpc_error *e)
{
	const char *name = obj_text(r->o, I_IMAGE);
	struct obj *img;
	int rc;

	if (!name[0] || !defines_domain(r->a->method))
		return 0;
	img = image_find(name);
	if (!img)
		return rpc_error_set(e, -EINVAL, "ImageNotFound",
				     "image %s does not exist", name);
	if ((r->first || r->new_flavor[0]) && (rc = image_check(img, fl, e)) < 0)
		return rc;
	if (json_object_set_new(r->instance, "image", image_wire(img)) < 0)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	return 0;
}

/* The instance and flavor objects the bus needs, from the committed
 * state (the committer's to read): with its flavor, or the one a resize
 * asks for. */
static int describe(struct run *r, struct rpc_error *e)
{
	const char *name = r->new_flavor[0] ? r->new_flavor : obj_text(r->o, I_FLAVOR);
	struct obj *fl;

	if (r->new_flavor[0] && strcmp(r->new_flavor, obj_text(r->o, I_FLAVOR)) == 0)
		return rpc_error_set(e, -EINVAL, "CannotResizeToSameFlavor",
				     "%s already has flavor %s", r->o->name,
				     r->new_flavor);
	if (!name[0])
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "%s has no flavor: write one to its flavor file first",
				     r->o->name);
	fl = flavor_find(name);
	if (!fl)
		return rpc_error_set(e, -EINVAL, "FlavorNotFound",
				     "flavor %s does not exist", name);
	r->flavor = flavor_json(fl);
	r->instance = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}",
				"uuid", r->o->uuid, "name", r->o->name,
				"flavor", fl->name,
				"vcpus", (json_int_t)obj_int(fl, FLAVOR_VCPUS),
				"memory_mb", (json_int_t)obj_int(fl, FLAVOR_MEMORY_MB),
				"disk_gb", (json_int_t)obj_int(fl, FLAVOR_DISK_GB));
	if (!r->flavor || !r->instance)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	return describe_image(r, fl, e);
}

/* An action novafs does alone (reset-state): Nova's reset-state ends
 * whatever task runs (its action ends in error) and sets the state,
 * recorded as an action of its own. */
static int local_run(struct txn *t, struct run *r)
{
	struct obj *stuck = action_record_running(r->o, NULL);
	int rc;

	if (stuck && (rc = action_record_finish(t, stuck, false,
						"ended by reset-state")) < 0)
		return rc;
	if ((rc = txn_set_int(t, r->o, I_TASK_STATE, TASK_NONE)) < 0 ||
	    (rc = txn_set_int(t, r->o, I_VM_STATE, r->a->success)) < 0 ||
	    (rc = txn_set_text(t, r->o, I_FAULT, "")) < 0 ||
	    (rc = action_record_start(t, r->o, r->a->name, r->request, r->uid,
				      &r->rec)) < 0 ||
	    (rc = action_record_finish(t, r->rec, true, "")) < 0)
		return rc;
	log_info("%s: %s to %s (%s)", r->o->name, r->a->name,
		 vm_state_name(r->a->success), r->request);
	return 0;
}

/* 0 unless a is one ctl may not run because inst has a target_state
 * (the reconciler's to reach): then -EBUSY with e. */
static int check_target(const struct action *a, const struct obj *inst,
			struct rpc_error *e)
{
	if (!(a->flags & ACTION_STEADY) || !obj_len(inst, I_TARGET))
		return 0;
	return rpc_error_set(e, -EBUSY, "InstanceInvalidState",
			     "%s has target_state %s: write target_state "
			     "instead, or empty it to use ctl", inst->name,
			     obj_text(inst, I_TARGET));
}

/* Claims the action's task, or refuses with the reason in fault. */
static int claim_run(struct txn *t, void *ctx)
{
	struct run *r = ctx;
	struct rpc_error e = { 0 };
	int rc;

	if (r->o->dead)
		return -ENOENT;
	rc = txn_touch(t, r->o);
	if (rc < 0)
		return rc;
	if (r->pick && !(r->a = r->pick(r->o)))
		return -EALREADY;
	txn_set_request(t, r->request);
	snprintf(r->host, sizeof(r->host), "%s", obj_text(r->o, I_HOST));
	r->launched = obj_int(r->o, I_LAUNCHED);
	r->forced = obj_int(r->o, I_HOST_FORCED) && !r->launched;
	r->evacuate = r->a->task == TASK_REBUILDING &&
		      r->a->method == &compute_start_instance;
	r->first = r->a->method == &compute_start_instance && !r->launched;
	r->task = r->first ? TASK_SCHEDULING : r->a->task;
	rc = r->pick ? 0 : check_target(r->a, r->o, &e);
	if (rc == 0)
		rc = action_check(r->a, r->o->name,
				  (enum vm_state)obj_int(r->o, I_VM_STATE),
				  (enum task_state)obj_int(r->o, I_TASK_STATE), &e);
	if (rc == 0 && (r->a->flags & ACTION_ROOT) && r->uid != 0)
		rc = rpc_error_set(&e, -EPERM, "Forbidden",
				   "%s is for root alone", r->a->name);
	if (rc == 0 && (r->a->flags & ACTION_NEEDS_HOST) && !r->launched)
		rc = rpc_error_set(&e, -EBUSY, "InstanceInvalidState",
				   "cannot %s %s: it has never been started",
				   r->a->name, r->o->name);
	if (rc == 0 && !r->a->method)
		return local_run(t, r);
	if (rc == 0 && r->a->method != &compute_terminate_instance)
		rc = describe(r, &e);
	/* What a delete gives back, said once it is done. */
	if (rc == 0 && r->a->method == &compute_terminate_instance && r->launched &&
	    !(r->release = release_args(r->o, r->host)))
		rc = rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
	if (rc == 0 && r->first)
		rc = check_group(r->o, &e);
	/* An instance holds its addresses from its first start until it
	 * is deleted; one whose allocation's answer was lost may hold them
	 * without knowing. */
	r->allocate = r->first && obj_len(r->o, I_NETWORKS) && !obj_len(r->o, I_IPS);
	r->networked = obj_len(r->o, I_NETWORKS) || obj_len(r->o, I_IPS);
	if (rc == 0 && r->allocate)
		rc = network_check(r->o, &e);
	if (rc == 0 && r->allocate)
		rc = conductor_check_service("novafs-network", NULL, &e);
	/* Fail fast: a service known to be down is not asked.  A delete
	 * goes on regardless (see action_delete); an evacuation is for a
	 * host that is down. */
	if (rc == 0 && (r->first || r->evacuate))
		rc = conductor_check_service("novafs-scheduler", NULL, &e);
	if (rc == 0 && r->evacuate &&
	    service_check("novafs-compute", r->host, NULL) == 0)
		rc = rpc_error_set(&e, -EBUSY, "ComputeHostNotDown",
				   "cannot evacuate %s: its host %s is up",
				   r->o->name, r->host);
	else if (rc == 0 && r->launched && !r->evacuate &&
		 r->a->method != &compute_terminate_instance)
		rc = conductor_check_service("novafs-compute", r->host, &e);
	if (rc < 0) {
		instance_stage_fault(t, r->o, &e);
		return rc;
	}
	if (r->evacuate)
		snprintf(r->from, sizeof(r->from), "%s", r->host);
	if ((rc = txn_set_int(t, r->o, I_TASK_STATE, r->task)) < 0 ||
	    (rc = txn_set_text(t, r->o, I_FAULT, "")) < 0 ||
	    (r->first && (rc = txn_set_text(t, r->o, I_TRIED, "")) < 0))
		return rc;
	if (r->a->method != &compute_terminate_instance &&
	    (rc = action_record_start(t, r->o, r->a->name, r->request, r->uid,
				      &r->rec)) < 0)
		return rc;
	log_info("%s: %s requested (%s)", r->o->name, r->a->name, r->request);
	if (r->a->method == &compute_terminate_instance)
		ask_terminate(r);
	else if (r->first || r->evacuate)
		ask_scheduler(r);
	else
		ask_host(r);
	return 0;
}

static struct run *run_new(struct obj *o, const struct action *a,
			   struct wreq *w)
{
	struct run *r = calloc(1, sizeof(*r));
	char uuid[UUID_STR_LEN];

	if (!r) {
		wreq_done(w, -ENOMEM);
		return NULL;
	}
	r->w = w;
	r->o = o;
	obj_get(o);
	r->a = a;
	r->uid = w->uid;
	uuid_generate_str(uuid);
	snprintf(r->request, sizeof(r->request), "req-%s", uuid);
	return r;
}

/* An unknown command is refused with its reason in fault. */
struct refusal {
	struct wreq *w;
	struct obj *o;
	struct rpc_error e;
};

static int refuse_run(struct txn *t, void *ctx)
{
	struct refusal *rf = ctx;
	int rc;

	if (rf->o->dead)
		return -ENOENT;
	if ((rc = txn_touch(t, rf->o)) < 0 ||
	    (rc = instance_stage_fault(t, rf->o, &rf->e)) < 0)
		return rc;
	return rf->e.err;
}

static void refuse_then(void *ctx, int err)
{
	struct refusal *rf = ctx;

	wreq_done(rf->w, err);
	obj_put(rf->o);
	free(rf);
}

/* Adds a's command ("stop hard", "resize FLAVOR") to sb, after sep when
 * sb is not empty. */
static void add_command(struct strbuf *sb, const struct action *a,
			const char *sep)
{
	strbuf_addf(sb, "%s%s%s%s", sb->len ? sep : "", a->name,
		    a->arg ? " " : "", a->arg ? a->arg : "");
}

/* "start stop stop hard ... resize FLAVOR": what ctl takes. */
static void list_commands(struct strbuf *sb)
{
	const struct action *a;

	for (a = actions; a->name; a++)
		add_command(sb, a, ", ");
}

void action_list_allowed(const struct obj *inst, struct strbuf *out)
{
	enum vm_state vm = (enum vm_state)obj_int(inst, I_VM_STATE);
	enum task_state task = (enum task_state)obj_int(inst, I_TASK_STATE);
	const struct action *a;

	for (a = actions; a->name; a++) {
		if (action_check(a, inst->name, vm, task, NULL) < 0 ||
		    ((a->flags & ACTION_NEEDS_HOST) && !obj_int(inst, I_LAUNCHED)) ||
		    check_target(a, inst, NULL) < 0)
			continue;
		add_command(out, a, "");
		strbuf_addch(out, '\n');
	}
}

void action_command(struct obj *inst, const char *line, size_t len,
		    struct wreq *w)
{
	struct strbuf commands = STRBUF_INIT;
	const char *arg = NULL;
	size_t arg_len = 0;
	const struct action *a = action_parse(line, len, &arg, &arg_len);
	struct refusal *rf;
	struct run *r;

	if (a && (!a->arg || strcmp(a->arg, ACTION_ARG_FLAVOR) != 0 ||
		  arg_len <= OBJ_NAME_MAX)) {
		r = run_new(inst, a, w);
		if (!r)
			return;
		if (a->arg && strcmp(a->arg, ACTION_ARG_FLAVOR) == 0)
			snprintf(r->new_flavor, sizeof(r->new_flavor), "%.*s",
				 (int)arg_len, arg);
		store_do(claim_run, step_committed, r);
		return;
	}
	rf = calloc(1, sizeof(*rf));
	if (!rf) {
		wreq_done(w, -ENOMEM);
		return;
	}
	rf->w = w;
	rf->o = inst;
	obj_get(inst);
	list_commands(&commands);
	rpc_error_set(&rf->e, -EINVAL, "InvalidInput",
		      "unknown command \"%.*s\" (commands: %s)",
		      (int)(len > 64 ? 64 : len), line, commands.buf);
	strbuf_release(&commands);
	store_do(refuse_run, refuse_then, rf);
}

void action_delete(struct obj *inst, struct wreq *w)
{
	struct run *r = run_new(inst, action_named("delete"), w);

	if (r)
		store_do(claim_run, step_committed, r);
}

void action_converge(struct obj *inst,
		     const struct action *(*pick)(const struct obj *inst),
		     struct wreq *w)
{
	struct run *r = run_new(inst, NULL, w);

	if (!r)
		return;
	r->pick = pick;
	store_do(claim_run, step_committed, r);
}

void action_evacuate(struct obj *inst, struct wreq *w)
{
	struct run *r = run_new(inst, action_named("evacuate"), w);

	if (r)
		store_do(claim_run, step_committed, r);
}

/* A reschedule's first step: the instance as it is now, then the
 * scheduler. */
static int reschedule_run(struct txn *t, void *ctx)
{
	struct run *r = ctx;

	if (r->o->dead)
		return -ENOENT;
	if (obj_int(r->o, I_TASK_STATE) != TASK_SCHEDULING)
		return 0; /* ended meanwhile (deleted, reset) */
	r->rec = action_record_running(r->o, r->request[0] ? r->request : NULL);
	if (describe(r, &r->e) < 0)
		return fail_run(t, r);
	ask_scheduler(r);
	return 0;
}

void action_reschedule(struct obj *inst, const char *request_id)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r) {
		log_error("%s: cannot reschedule: out of memory", inst->name);
		return;
	}
	r->o = inst;
	obj_get(inst);
	r->a = actions; /* start */
	r->first = true;
	r->task = TASK_SCHEDULING;
	snprintf(r->request, sizeof(r->request), "%s", request_id);
	store_do(reschedule_run, step_committed, r);
}
