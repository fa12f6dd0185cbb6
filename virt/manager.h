/*
 * manager.h - the compute manager: the handlers of topic compute, the
 * state reports to the conductor and the host's heartbeat.
 *
 * It sits between the bus and a driver (driver.h), as Nova's
 * ComputeManager does: the bus has checked a request against its
 * declaration and its sender (only novafs asks a compute host to act), a
 * handler asks the driver to act and reports the outcome.  What a host
 * says about an instance leaves it in one shape, compute_instance_update_args(),
 * as conductor_instance_update; what it says about itself is its
 * heartbeat (rpc/bus.h, "Heartbeats": its capacity, what its domains hold
 * and which domains those are, counted as it is sent) and the list of its
 * domains (sync.h).  A start that carries the scheduler's limits is a
 * placement, claimed against the host's own count before anything is
 * defined (capacity.h).  Around it: operations that wait for a guest
 * (guest_wait.h) and the consoles (console.h).
 */
#ifndef NOVAFS_VIRT_MANAGER_H
#define NOVAFS_VIRT_MANAGER_H

#include <jansson.h>

#include "common/hash.h"
#include "common/uuid.h"
#include "rpc/states.h"

struct console;
struct loop;
struct rpc_bus;
struct rpc_error;
struct rpc_heartbeat;
struct rpc_request;
struct virt_driver;

#define COMPUTE_CHANGED_MAX 64

struct compute_manager {
	/* Set by the caller before compute_manager_start(). */
	struct rpc_bus *bus;        /* borrowed */
	struct virt_driver *drv;    /* borrowed */
	const char *host;           /* borrowed */
	long long report_interval_s;
	long long shutdown_timeout_s; /* a clean stop or soft reboot */

	/* Owned by the manager. */
	struct loop *loop;          /* the bus's */
	struct rpc_heartbeat *heartbeat; /* the bus's */
	struct hash_table waits;    /* struct guest_wait by uuid */
	struct console *console;
	long long sync_timer;       /* every report interval */
	long long sync_soon;        /* a debounced sync after an event; 0: none */
	/* The domains with events since the last sync, for a partial one;
	 * nchanged > COMPUTE_CHANGED_MAX: too many, the next one is full. */
	char changed[COMPUTE_CHANGED_MAX][UUID_STR_LEN];
	size_t nchanged;
};

/*
 * Serves topic compute as m->host (its shared queue, compute.HOST and the
 * fanout), starts the heartbeat, sends the startup sync_power_states and
 * listens to the driver's lifecycle events.  Returns 0 or -errno with e.
 */
int compute_manager_start(struct compute_manager *m, struct rpc_error *e);
/* Says the host stops (a heartbeat with up: false) and waits until the
 * broker took it and every report before it; timers stop first, and
 * operations waiting for a guest are left unanswered (their requests
 * are redelivered to the next run).  Call from main, with the loop
 * stopped. */
void compute_manager_stop(struct compute_manager *m);
/* Frees what the manager owns; after rpc_bus_free(), which cancels the
 * callbacks that still point into it. */
void compute_manager_free(struct compute_manager *m);

/*
 * The args of a conductor_instance_update: {uuid, expected_task_state
 * (expected, or null for TASK_NONE), vm_state, power_state, task_state:
 * null, host, fault: null, or {class, message} when fault is not NULL}.
 * Returns a new reference, or NULL when out of memory.
 */
json_t *compute_instance_update_args(const char *uuid,
				     enum task_state expected,
				     enum vm_state vm_state,
				     enum power_state power, const char *host,
				     const struct rpc_error *fault);

/*
 * Ends the cast req about instance uuid: logs and casts its one
 * instance_update, with the vm_state the domain is in now
 * (vm_state_of_power, rpc/states.h), or error with e as the fault when rc < 0.  req
 * is done once the broker has taken the report.
 */
void compute_finish(struct compute_manager *m, struct rpc_request *req,
		    const char *uuid, int rc, const struct rpc_error *e);

#endif
