/*
 * host.h - hosts/: the compute hosts, their capacity and usage as their
 * heartbeats report them, whether they take new instances, and a view of
 * the instances on each.
 *
 * A host appears with its first heartbeat (service.c records it) and is
 * kept across restarts with the operator's choice: `echo disable REASON >
 * hosts/NAME/ctl` stops new placements on it (the scheduler is told with
 * each request, so it never works from a stale list), `enable` reverts;
 * `evacuate` rebuilds the instances of a host that is down on other
 * hosts (actions.h).  rmdir forgets a host that is down and holds no
 * instance.
 */
#ifndef NOVAFS_HOST_H
#define NOVAFS_HOST_H

#include <stdbool.h>

#include <jansson.h>

struct obj;
struct txn;

enum {
	H_ENABLED,
	H_DISABLED_REASON,
	H_UP,
	H_VCPUS,
	H_VCPUS_USED,
	H_MEMORY_MB,
	H_MEMORY_MB_USED,
	H_DISK_GB,
	H_DISK_GB_USED,
	H_RUNNING_VMS,
	H_HYPERVISOR_TYPE,
	H_FAULT,          /* why the last ctl write or rmdir was refused */
	H_NFIELDS
};

extern const struct kind host_kind;

/* The host called name, or NULL.  Under a lock, or on the committer. */
struct obj *host_find(const char *name);

/* For the heartbeat op: stages a compute host's report (args as the
 * contract has it), creating hosts/NAME when it is new; and its state. */
int host_stage_report(struct txn *t, const char *name, json_t *args);
int host_stage_up(struct txn *t, const char *name, bool up);

/* The names of the disabled hosts, for the scheduler.  On the
 * committer.  NULL when out of memory. */
json_t *host_disabled(void);

#endif
