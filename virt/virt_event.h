/*
 * virt_event.h - libvirt's event loop on the service's loop (common/loop.h).
 *
 * libvirt needs an event loop for domain events and keepalives.  Rather
 * than a thread running virEventRunDefaultImpl() (which would then need
 * locking around everything the compute daemon owns), its handles and
 * timeouts become watches and timers of the one loop that also runs the
 * AMQP connection: libvirt's callbacks then run on the daemon's only
 * thread, between RPC handlers, like everything else.
 *
 * libvirt takes one event implementation per process
 * (virEventRegisterImpl), which must be registered before the first
 * virConnectOpen, so this module keeps the loop in a static.
 */
#ifndef NOVAFS_VIRT_VIRT_EVENT_H
#define NOVAFS_VIRT_VIRT_EVENT_H

struct loop;

/* Makes loop libvirt's event loop.  Returns 0 (also when loop already
 * is), or -EBUSY when another loop is. */
int virt_event_register(struct loop *loop);

#endif
