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
 */
#ifndef NOVAFS_ACTIONS_H
#define NOVAFS_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "rpc/states.h"

struct obj;
struct rpc_error;
struct rpc_method_decl;
struct wreq;

struct action {
	const char *name;                    /* the word written to ctl */
	unsigned allowed;                    /* 1 << vm_state, for each allowed */
	enum task_state task;                /* while it runs */
	const struct rpc_method_decl *method;/* what the compute host is asked */
	enum vm_state success;               /* what the host reports on success */
};

/* The table, ending with a NULL name. */
extern const struct action actions[];

/* The action a ctl line names (surrounding whitespace ignored), or NULL. */
const struct action *action_parse(const char *line, size_t len);
/* 0 when an instance in vm and task may take a now, else -EBUSY with the
 * reason ("cannot stop web1: it is stopped (stop needs active)"). */
int action_check(const struct action *a, const char *name, enum vm_state vm,
		 enum task_state task, struct rpc_error *e);

/* Runs a ctl line on an instance; completes w. */
void action_command(struct obj *inst, const char *line, size_t len,
		    struct wreq *w);
/* rmdir: destroys the instance's domain on its host, then forgets it. */
void action_delete(struct obj *inst, struct wreq *w);

#endif
