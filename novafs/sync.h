/*
 * sync.h - keeping state true: what compute hosts say of their domains
 * (Nova's _sync_power_states and init_host), and the sweep that ends the
 * tasks nothing else ends.
 *
 * A compute host lists its domains (sync_power_states) when it starts and
 * every report interval, and those with libvirt lifecycle events (a
 * partial list: the others are not missing) as the events come.  For each
 * instance of that host with no task, vm_state follows its domain's power
 * state (a domain destroyed or paused behind novafs's back shows at once);
 * an instance whose domain is missing becomes stopped with a fault, and
 * `start` defines it again; a domain of an instance deleted while its host
 * could not hear (sync_deleted), or evacuated from it while it was down,
 * is terminated.  The
 * first list after the host started ends every task the host was running:
 * whatever it was doing is lost, and the list says what is true.
 *
 * A task that nothing ends (a report lost, a call that timed out, a host
 * that died) is swept: a task older than task_timeout is asked of its host
 * (get_instance_state) and ends as the host says; if the host is down it
 * ends in the state it was in, with a fault.  So no task outlives
 * task_timeout + service_down_time by more than a sweep interval
 * (task_timeout / 4).
 */
#ifndef NOVAFS_SYNC_H
#define NOVAFS_SYNC_H

#include <jansson.h>

struct loop;

/* Applies a sync_power_states (args checked against the contract and its
 * sender rule); calls done(ctx) on the committer thread once applied. */
void sync_power_states(json_t *args, void (*done)(void *ctx), void *ctx);

/* An instance that ran on host was deleted: a domain of it that host
 * still lists (its terminate was lost) is terminated.  Only such domains
 * are: a domain novafs knows nothing of may be another deployment's on a
 * shared hypervisor, and is left alone.  Any thread. */
void sync_deleted(const char *uuid, const char *host);

/* Starts the sweep on loop, the bus thread's.  0 or -errno. */
int sync_sweep_start(struct loop *loop, long long task_timeout_s);
/* Stops it (on loop's thread, or once loop no longer runs). */
void sync_sweep_stop(void);

#endif
