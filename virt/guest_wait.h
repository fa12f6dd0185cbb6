/*
 * guest_wait.h - operations that wait for a guest: a clean stop and a
 * soft reboot.
 *
 * Both ask the guest to shut down (ACPI) and then wait, on a loop timer
 * and the domain's lifecycle events, never in a sleep, for the domain to
 * go off; the host serves every other request meanwhile.  A stop then
 * reports; a soft reboot starts the domain again first (Nova's
 * _soft_reboot: a shutdown and a start, so that the host knows the guest
 * obeyed).  A guest still running when shutdown_timeout passes is powered
 * off hard (and, for a reboot, started again: a hard reboot), as Nova's
 * clean_shutdown and reboot fallback do.  The request is acknowledged
 * once its one report was taken by the broker.
 *
 * One request at a time per domain: any other request that changes the
 * domain (a stop, hard or clean, a reboot, pause, terminate, ...) cuts the
 * wait short first: the waiting operation finishes at once as at its
 * timeout (powered off; a reboot started again), reports, and only then
 * does the new request run.  novafs sends a request only while no task
 * runs, so a second one means it stopped waiting for the first (a reset
 * task, a delete): the newer request wins, and the host never keeps it
 * waiting.  get_instance_state does not cut a wait short.
 */
#ifndef NOVAFS_VIRT_GUEST_WAIT_H
#define NOVAFS_VIRT_GUEST_WAIT_H

#include <stdbool.h>

struct compute_manager;
struct rpc_request;
struct virt_instance;

/* Sets up m's table of waits (m->waits), empty. */
void guest_wait_init(struct compute_manager *m);
/* Waits for inst's guest, already asked to shut down, to power off, then
 * (reboot) starts it again, and reports req.  Returns 0, or -ENOMEM (the
 * caller then finishes req itself). */
int guest_wait_start(struct compute_manager *m, struct rpc_request *req,
		     const struct virt_instance *inst, bool reboot);
/* Finishes the wait on uuid now, as its timeout would; nothing when
 * there is none. */
void guest_wait_cut(struct compute_manager *m, const char *uuid);
/* The domain uuid changed state: look at it now. */
void guest_wait_kick(struct compute_manager *m, const char *uuid);
/* Drops every wait without answering (the host stops: the requests are
 * redelivered); frees them. */
void guest_wait_drop_all(struct compute_manager *m);

#endif
