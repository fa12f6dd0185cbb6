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
 * heartbeat, the driver's numbers (rpc/bus.h, "Heartbeats").
 */
#ifndef NOVAFS_VIRT_MANAGER_H
#define NOVAFS_VIRT_MANAGER_H

#include <jansson.h>

#include "rpc/states.h"

struct rpc_bus;
struct rpc_error;
struct rpc_heartbeat;
struct virt_driver;

struct compute_manager {
	struct rpc_bus *bus;        /* borrowed */
	struct virt_driver *drv;    /* borrowed */
	const char *host;           /* borrowed */
	long long report_interval_s;
	struct rpc_heartbeat *heartbeat; /* the bus's */
};

/*
 * Serves topic compute as m->host (its shared queue, compute.HOST and the
 * fanout) and starts the heartbeat.  Returns 0 or -errno with e.
 */
int compute_manager_start(struct compute_manager *m, struct rpc_error *e);
/* Says the host stops (a heartbeat with up: false) and waits until the
 * broker took it and every report before it.  Call from main, with the
 * loop stopped. */
void compute_manager_stop(struct compute_manager *m);

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

#endif
