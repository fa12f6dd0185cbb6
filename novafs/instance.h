/*
 * instance.h - the instance kind: instances/NAME/ and its files.
 *
 * Desired state (flavor; before the first start, a forced host, a
 * server group and its networks, `default` for a new instance; at any
 * time the state it should be in, target_state, which reconcile.h
 * pursues) is kept exactly as written; observed state (vm_state,
 * task_state, power_state, host, fault; ip and mac, from novafs-network at
 * the first start) comes from the actions novafs runs and the reports
 * compute hosts send.  A compute host that refuses
 * a first start for want of room (its claim failed) gets the instance
 * rescheduled on another host, up to the scheduler's max_attempts hosts
 * in all, each try in the start's action record.
 */
#ifndef NOVAFS_INSTANCE_H
#define NOVAFS_INSTANCE_H

#include <stdbool.h>

#include <jansson.h>

struct obj;
struct rpc_error;
struct txn;

enum {
	I_FLAVOR_RAW,   /* the flavor file's bytes, as written */
	I_FLAVOR,       /* the flavor named there, "" when none */
	I_VM_STATE,
	I_TASK_STATE,
	I_POWER_STATE,
	I_HOST,
	I_FAULT,
	I_LAUNCHED,     /* has been placed on a host */
	I_GROUP,        /* its server group's name, "" when none */
	I_HOST_FORCED,  /* host was written before the first start */
	I_TRIED,        /* hosts that refused it, "a b c": a first start's
			 * reschedules */
	I_EVACUATED_FROM, /* the host it was last evacuated from */
	I_NETWORK_RAW,  /* the network file's bytes, as written */
	I_NETWORKS,     /* the networks named there, one a line: a NIC each */
	I_IPS,          /* its address on each, one a line (network.h) */
	I_MACS,         /* its NICs' MACs, one a line */
	I_TARGET_RAW,   /* the target_state file's bytes, as written */
	I_TARGET,       /* the target state named there, "" when none */
	I_SPEC_RAW,     /* the spec file's bytes, as last written */
	I_IMAGE_RAW,    /* the image file's bytes, as written */
	I_IMAGE,        /* the image named there, "" when none: booted
			 * from (image.h), else diskless */
	I_NFIELDS
};

extern const struct kind instance_kind;

/* Stages flavor name as o's flavor, its file reading "name\n": what a
 * resize leaves, as the host reports it.  For ops. */
int instance_stage_flavor(struct txn *t, struct obj *o, const char *name);

/* Stages fault "Class: message" of e on o, and logs it.  For ops. */
int instance_stage_fault(struct txn *t, struct obj *o, const struct rpc_error *e);

/* After a crash, tasks only novafs drives (scheduling, deleting) can never
 * finish: puts them back to none with a fault.  Start-up only.  Returns
 * the number repaired, or -errno. */
int instance_recover(void);

/* What every notification about inst says of it (Nova's instance
 * notification payload): instance_id, display_name, state, task_state,
 * power_state, host, instance_type, fault, user_id.  Under a lock that
 * keeps inst still.  NULL when out of memory. */
json_t *instance_payload(const struct obj *inst);

/* Appends a compute host's console_output (args checked against the
 * contract) to the instance's console, if that host runs it.  Any
 * thread. */
void instance_console(json_t *args);

/* Applies a compute host's instance_update (args checked against the
 * contract and its sender rule: host is the sender's) for request (its
 * _context_request_id, or NULL); calls done(ctx) on the committer thread
 * when it was applied or dropped. */
void instance_report(json_t *args, const char *request,
		     void (*done)(void *ctx), void *ctx);

#endif
