/*
 * states.c - the state name tables of states.h.
 */
#include "rpc/states.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

const char *const vm_state_names[] = {
	[VM_BUILDING] = "building",
	[VM_ACTIVE] = "active",
	[VM_PAUSED] = "paused",
	[VM_SUSPENDED] = "suspended",
	[VM_STOPPED] = "stopped",
	[VM_ERROR] = "error",
	[VM_STATE_COUNT] = NULL,
};

const char *const task_state_names[] = {
	[TASK_NONE] = "none",
	[TASK_SCHEDULING] = "scheduling",
	[TASK_SPAWNING] = "spawning",
	[TASK_POWERING_ON] = "powering-on",
	[TASK_POWERING_OFF] = "powering-off",
	[TASK_REBOOTING] = "rebooting",
	[TASK_REBOOTING_HARD] = "rebooting_hard",
	[TASK_PAUSING] = "pausing",
	[TASK_UNPAUSING] = "unpausing",
	[TASK_SUSPENDING] = "suspending",
	[TASK_RESUMING] = "resuming",
	[TASK_REBUILDING] = "rebuilding",
	[TASK_RESIZING] = "resizing",
	[TASK_DELETING] = "deleting",
	[TASK_STATE_COUNT] = NULL,
};

const char *const power_state_names[] = {
	[POWER_NOSTATE] = "nostate",
	[POWER_RUNNING] = "running",
	[POWER_PAUSED] = "paused",
	[POWER_SHUTDOWN] = "shutdown",
	[POWER_CRASHED] = "crashed",
	[POWER_SUSPENDED] = "suspended",
	[POWER_STATE_COUNT] = NULL,
};

/* The index of name in a NULL-terminated table, or -EINVAL. */
static int lookup(const char *const *table, const char *name)
{
	int i;

	if (!name)
		return -EINVAL;
	for (i = 0; table[i]; i++)
		if (strcmp(table[i], name) == 0)
			return i;
	return -EINVAL;
}

const char *vm_state_name(enum vm_state s)
{
	return (unsigned)s < VM_STATE_COUNT ? vm_state_names[s] : "?";
}

const char *task_state_name(enum task_state s)
{
	return (unsigned)s < TASK_STATE_COUNT ? task_state_names[s] : "?";
}

const char *power_state_name(enum power_state s)
{
	return (unsigned)s < POWER_STATE_COUNT ? power_state_names[s] : "?";
}

int vm_state_parse(const char *name, enum vm_state *out)
{
	int i = lookup(vm_state_names, name);

	if (i < 0)
		return i;
	*out = (enum vm_state)i;
	return 0;
}

int task_state_parse(const char *name, enum task_state *out)
{
	int i = name ? lookup(task_state_names, name) : TASK_NONE;

	if (i < 0)
		return i;
	*out = (enum task_state)i;
	return 0;
}

int power_state_parse(const char *name, enum power_state *out)
{
	int i = lookup(power_state_names, name);

	if (i < 0)
		return i;
	*out = (enum power_state)i;
	return 0;
}

enum vm_state vm_state_of_power(enum power_state p)
{
	switch (p) {
	case POWER_RUNNING:
		return VM_ACTIVE;
	case POWER_PAUSED:
		return VM_PAUSED;
	case POWER_SUSPENDED:
		return VM_SUSPENDED;
	default:
		return VM_STOPPED;
	}
}
