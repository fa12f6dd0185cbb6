/*
 * actions.h - what an instance can be asked to do, as one table (Nova's
 * compute API state rules), and the runner that does any row of it.
 *
 * Each action names the vm_states that allow it, the task it runs as, the
 * compute method it needs and the state it leaves on success.  An action
 * is refused at once (EBUSY, the reason in fault) when the state does not
 * allow it or another task runs.  A run claims its task in the store,
 * then talks to the scheduler and the compute host through the bus, and
 * completes the write that asked for it when the broker has taken the
 * request (casts) or the answer came (calls).  Remote refusals (no valid
 * host, a libvirt error) put the instance in error; an unreachable bus,
 * service or a timeout leaves it as it was, with the reason in fault.
 *
 * A first start asks the scheduler for a host first, telling it the
 * instance's forced host, its server group and where the group's other
 * instances are, the hosts already tried and the disabled ones; the
 * host's limits from the answer go with start_instance, so that the host
 * checks its own claim.  What the scheduler claimed is released when the
 * instance is deleted or its first start fails.  evacuate (root) rebuilds
 * an instance of a host that is down on another host.
 */
#ifndef NOVAFS_ACTIONS_H
#define NOVAFS_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rpc/states.h"

struct obj;
struct rpc_error;
struct rpc_method_decl;
struct strbuf;
struct wreq;

/* What ACTION_ARG_FLAVOR stands for: the action's argument names a
 * flavor ("resize m1.small"). */
#define ACTION_ARG_FLAVOR "FLAVOR"

#define ACTION_NEEDS_HOST 0x1u /* refused on an instance never started */
#define ACTION_ROOT       0x2u /* for root alone */
#define ACTION_ANY_TASK   0x4u /* allowed while a task runs (it ends it) */
#define ACTION_STEADY     0x8u /* changes the state an instance stays in:
				* ctl's is refused while its target_state
				* is set (reconcile.h) */

struct action {
	const char *name;                    /* the word written to ctl */
	const char *arg;                     /* the word after it: NULL for
					      * none, or ACTION_ARG_FLAVOR */
	unsigned allowed;                    /* 1 << vm_state, for each allowed */
	enum task_state task;                /* while it runs */
	/* What the compute host is asked; its kind (cast or call) is how.
	 * NULL: novafs alone does it. */
	const struct rpc_method_decl *method;
	const char *options;                 /* JSON object merged into the
					      * method's arguments, or NULL */
	unsigned flags;                      /* ACTION_* */
	enum vm_state success;               /* the state it leaves */
	const char *event;                   /* Nova's name for it in
					      * notifications: "power_on" */
};

/* The table, ending with a NULL name. */
extern const struct action actions[];

/* The action a ctl line names ("stop hard", "resize m1.small"; words
 * separated by blanks, surrounding whitespace ignored), or NULL; *arg and
 * *arg_len get the argument an ACTION_ARG_FLAVOR row takes. */
const struct action *action_parse(const char *line, size_t len,
				  const char **arg, size_t *arg_len);
/* Writes the table as the README shows it (Markdown, one row per
 * action). */
void action_table_markdown(FILE *f);

/* The notification name of the action called name ("power_on" for
 * "start"), or NULL. */
const char *action_event(const char *name);
/* 0 when an instance in vm and task may take a now, else -EBUSY with the
 * reason ("cannot stop web1: it is stopped (stop needs active or
 * paused or error)"). */
int action_check(const struct action *a, const char *name, enum vm_state vm,
		 enum task_state task, struct rpc_error *e);

/* Runs a ctl line on an instance; completes w.  An ACTION_STEADY one is
 * refused (EBUSY, the reason in fault) while the instance has a
 * target_state. */
void action_command(struct obj *inst, const char *line, size_t len,
		    struct wreq *w);
/* The reconciler's way in (reconcile.h): runs, as w's writer, the action
 * pick(inst) names from the committed state when the run claims its task
 * (on the committer), so that the choice and the claim see the same
 * instance; completes w, with -EALREADY when pick says NULL (nothing to
 * do now).  Not refused for the target_state it serves. */
void action_converge(struct obj *inst,
		     const struct action *(*pick)(const struct obj *inst),
		     struct wreq *w);
/* What ctl reads: the commands the instance's state allows now (as
 * action_check says, those that need a host only once it was placed),
 * one a line in table order ("resize FLAVOR" as such), without those ctl
 * refuses while a target_state is set.  Under a lock that keeps inst
 * still. */
void action_list_allowed(const struct obj *inst, struct strbuf *out);
/* rmdir: destroys the instance's domain on its host, then forgets it. */
void action_delete(struct obj *inst, struct wreq *w);
/* hosts/NAME/ctl's evacuate, for one instance of that host: as writing
 * "evacuate" to its ctl by the writer of w. */
void action_evacuate(struct obj *inst, struct wreq *w);

/*
 * A compute host refused a first start for want of room: the committer
 * has put inst back to scheduling (instance.c); this asks the scheduler
 * for another host, avoiding those in its tried list, as part of
 * request_id's action.  On the committer.
 */
void action_reschedule(struct obj *inst, const char *request_id);

/* A first start on host (NULL: wherever the scheduler placed it, if it
 * did) failed for good: what the scheduler claimed there is free again.
 * On the committer. */
void action_release_claim(const struct obj *inst, const char *host,
			  const char *request_id);

/* How many hosts a first start may try (Nova's [scheduler]
 * max_attempts); set before the mount. */
extern int action_max_attempts;

#endif
