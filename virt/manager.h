/*
 * manager.h - the compute manager: RPC methods of topic compute, state
 * reports to the conductor and capability reports to the scheduler.
 *
 * It sits between the bus and a driver (driver.h), as Nova's
 * ComputeManager does: a handler parses its arguments, asks the driver to
 * act, and reports the outcome.  Every report leaves the host from one of
 * two functions, so what a host says about itself has one shape:
 * compute_report_instance() (instance_update to topic conductor) and
 * compute_report_capabilities() (update_service_capabilities to the
 * scheduler fanout).
 */
#ifndef NOVAFS_VIRT_MANAGER_H
#define NOVAFS_VIRT_MANAGER_H

#include <stdbool.h>
#include <jansson.h>

#include "instance.h"
#include "rpc.h"

struct virt_driver;

struct compute_manager {
	struct rpc_conn *conn;      /* borrowed */
	struct virt_driver *drv;    /* borrowed */
	const char *host;
	int report_interval;        /* seconds */
	bool report_failing;        /* the last capability report failed */
	json_t *pending;            /* instance_update args not yet delivered,
				     * oldest first; owned, NULL when none */
};

/* Frees what the manager owns (undelivered updates, which are logged). */
void compute_manager_release(struct compute_manager *m);

/* The methods of topic compute; ctx is a struct compute_manager. */
extern const struct rpc_method compute_methods[];

/*
 * The args of an instance_update cast: {uuid, expected_task_state (a new
 * reference to expected, or null), vm_state, power_state, task_state:
 * null, host, fault: null, or {class, message} when fault is not NULL}.
 * Returns a new reference, or NULL when out of memory.
 */
json_t *compute_instance_update_args(const char *uuid, json_t *expected,
				     const char *vm_state,
				     enum virt_power_state power,
				     const char *host,
				     const struct rpc_error *fault);

/* Casts instance_update for uuid to topic conductor.  An update that
 * cannot be delivered (novafs down: no consumer, or no broker) is kept and
 * sent again, in order, before the next one and on every periodic report:
 * the conductor applies an update only while its expected_task_state
 * holds, so a late or repeated one is harmless.  Returns 0 when delivered,
 * else -errno (and the update waits). */
int compute_report_instance(struct compute_manager *m, const char *uuid,
			    json_t *expected, const char *vm_state,
			    enum virt_power_state power,
			    const struct rpc_error *fault);

/* Fanout-casts update_service_capabilities: the driver's numbers with
 * "up": true, or only {host, up: false}.  Logs a failure once until a
 * report succeeds again.  Returns 0 or -errno. */
int compute_report_capabilities(struct compute_manager *m, bool up);

/* A service_run() periodic task: compute_report_capabilities(ctx, true). */
void compute_periodic_report(void *ctx);

#endif
