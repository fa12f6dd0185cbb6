/*
 * states.h - the instance state vocabulary every service shares: Nova's
 * vm_state, task_state and power_state (nova/compute/vm_states.py,
 * task_states.py, power_state.py), as enumerations with one name table
 * each.
 *
 * The names are what the wire carries and what the mount shows; the
 * enumerations are what the code compares.  A name that is not in a table
 * is not a state: the contracts refuse it (RPC_T_ENUM over the *_names
 * arrays) and the parse functions return -EINVAL, so nothing unknown is
 * ever stored.
 */
#ifndef NOVAFS_RPC_STATES_H
#define NOVAFS_RPC_STATES_H

enum vm_state {
	VM_BUILDING,
	VM_ACTIVE,
	VM_PAUSED,
	VM_SUSPENDED,
	VM_STOPPED,
	VM_ERROR,
	VM_STATE_COUNT
};

/* TASK_NONE is shown as "none" in the mount and sent as null. */
enum task_state {
	TASK_NONE,
	TASK_SCHEDULING,
	TASK_SPAWNING,
	TASK_POWERING_ON,
	TASK_POWERING_OFF,
	TASK_REBOOTING,
	TASK_REBOOTING_HARD,
	TASK_PAUSING,
	TASK_UNPAUSING,
	TASK_SUSPENDING,
	TASK_RESUMING,
	TASK_REBUILDING,
	TASK_RESIZING,
	TASK_DELETING,
	TASK_STATE_COUNT
};

enum power_state {
	POWER_NOSTATE,
	POWER_RUNNING,
	POWER_PAUSED,
	POWER_SHUTDOWN,
	POWER_CRASHED,
	POWER_SUSPENDED,
	POWER_STATE_COUNT
};

/* NULL-terminated name tables, indexed by the enumerations.  On the wire
 * no task is null, not "none": task_state_wire_names (the table without
 * its first entry) is what contracts accept. */
extern const char *const vm_state_names[];
extern const char *const task_state_names[];      /* "none", "scheduling", ... */
#define task_state_wire_names (&task_state_names[1]) /* "scheduling", ... */
extern const char *const power_state_names[];

const char *vm_state_name(enum vm_state s);
const char *task_state_name(enum task_state s);
const char *power_state_name(enum power_state s);

/* Each returns 0 and sets *out, or -EINVAL for a name not in its table.
 * task_state_parse accepts "none" (and NULL) as TASK_NONE. */
int vm_state_parse(const char *name, enum vm_state *out);
int task_state_parse(const char *name, enum task_state *out);
int power_state_parse(const char *name, enum power_state *out);

/* The vm_state a domain in power state p is in: running is active,
 * paused paused, suspended suspended, anything else (shut down, crashed,
 * missing) stopped.  What a compute host reports after acting, and what
 * novafs follows when a domain changed behind its back. */
enum vm_state vm_state_of_power(enum power_state p);

#endif
