/*
 * sync.h - telling novafs which domains this host has: sync_power_states.
 *
 * Nova's compute manager reconciles in two places, and so does novafs:
 * init_host, once at start (startup: true: any task the host was running
 * before is over; novafs ends the tasks the host lost, marks instances
 * whose domains are missing and asks the host to terminate domains of
 * deleted instances), and _sync_power_states, every report interval.  On
 * top of those, every lifecycle event of a novafs domain (libvirt's, on
 * the loop) sends one soon, debounced by SYNC_DEBOUNCE_MS so that a burst
 * (a reboot is a stop and a start) is one message: a domain destroyed or
 * paused behind novafs's back shows within a fraction of a second.  That
 * one is partial: it lists only the domains with events (a host with a
 * thousand domains would otherwise send all of them for each action), or
 * all of them when more than COMPUTE_CHANGED_MAX changed.
 *
 * A sync lists novafs domains only, never another domain of a shared
 * hypervisor.  Every sync lists them all here, and that listing tells the
 * console tailer which domains to follow; a partial one sends novafs only
 * those with events.  The startup sync waits for the bus
 * like a report; the others are sent when the bus is up and dropped when
 * not (the next one says the same).
 */
#ifndef NOVAFS_VIRT_SYNC_H
#define NOVAFS_VIRT_SYNC_H

#define SYNC_DEBOUNCE_MS 100

struct compute_manager;

/* Sends the startup sync now and one every report interval.  Returns 0
 * or -errno (the timer could not be made). */
int sync_start(struct compute_manager *m);
/* Sends a partial sync SYNC_DEBOUNCE_MS from now that lists uuid (and
 * the others changed meanwhile), unless one is due by then. */
void sync_soon(struct compute_manager *m, const char *uuid);
/* Stops the timers. */
void sync_stop(struct compute_manager *m);

#endif
