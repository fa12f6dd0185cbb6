/*
 * lifecycle.h - which action each instance state allows: Nova's vm_state /
 * task_state machine as one table.
 *
 * An instance is in exactly one vm_state (stopped, active, error, ...) and at
 * most one task (scheduling, spawning, powering-on, powering-off, deleting).
 * A request is accepted only when no task is running and the vm_state is in
 * the action's allowed set; the action then names the task it starts.  The
 * table is pure data and has no I/O, so the FUSE layer, the API layer and
 * the unit tests all read the same rules.
 */
#ifndef NOVAFS_LIFECYCLE_H
#define NOVAFS_LIFECYCLE_H

#include <stddef.h>

struct instance;
struct rpc_error;

enum instance_action {
	ACTION_START,
	ACTION_STOP,
	ACTION_DELETE,
};

struct action_rule {
	enum instance_action action;
	const char *name;           /* the word written to ctl */
	const char *const *allowed; /* vm_states, NULL-terminated */
	const char *task;           /* task_state while it runs */
};

/* Parses a ctl write: one command word, surrounding whitespace (echo's
 * newline) ignored.  Returns the rule, or NULL for anything else. */
const struct action_rule *lifecycle_parse(const char *text, size_t len);
const struct action_rule *lifecycle_rule(enum instance_action action);

/* Returns 0 when inst may take the action now, else -EBUSY (class
 * InstanceInvalidState) with a reason naming the state and what the action
 * needs. */
int lifecycle_check(const struct action_rule *rule, const struct instance *inst,
		    struct rpc_error *e);

#endif
