/*
 * test_virt_event.c - libvirt's event loop on a novafs loop: handles and
 * timeouts through libvirt's public virEvent* calls (which go to the
 * registered implementation), free callbacks run later and never inside
 * the removal, and the driver's lifecycle events on test:///default.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libvirt/libvirt.h>

#include "common/loop.h"
#include "rpc/rpc.h"
#include "../../virt/driver.h"
#include "../../virt/virt_event.h"
#include "testhelp.h"

#define LUUID "6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6b"

static int fired, freed, handle_events, removing;

static void count_free(void *opaque)
{
	CHECK_MSG(!removing, "a free callback never runs inside the removal");
	freed++;
}

static void on_timeout(int timer, void *opaque)
{
	fired++;
	if (fired == 3)
		virEventUpdateTimeout(timer, -1);
}

static void on_handle(int watch, int fd, int events, void *opaque)
{
	char c;

	handle_events = events;
	if (read(fd, &c, 1) == 1 && c == 'x') {
		removing = 1;
		virEventRemoveHandle(watch);
		removing = 0;
	}
}

/* Runs l for up to ms, or until *flag is set. */
static void run_until(struct loop *l, int *flag, int ms)
{
	int i;

	for (i = 0; i < ms / 10 && !*flag; i++)
		loop_run_once(l, 10);
}

static void test_timeouts_and_handles(struct loop *l)
{
	int fds[2], id, i;

	id = virEventAddTimeout(5, on_timeout, NULL, count_free);
	CHECK(id > 0);
	for (i = 0; i < 100 && fired < 3; i++)
		loop_run_once(l, 10);
	CHECK_INT(fired, 3);
	for (i = 0; i < 5; i++)
		loop_run_once(l, 10);
	CHECK_MSG(fired == 3, "a disabled timeout does not fire");
	virEventUpdateTimeout(id, 0);
	loop_run_once(l, 10);
	CHECK_MSG(fired == 4, "period 0 fires at the next iteration");
	removing = 1;
	CHECK_INT(virEventRemoveTimeout(id), 0);
	removing = 0;
	CHECK_INT(freed, 0);
	loop_run_once(l, 10);
	CHECK_MSG(freed == 1, "the free callback ran at the next iteration");
	CHECK_INT(fired, 4);
	CHECK(virEventRemoveTimeout(id) < 0);

	CHECK_INT(pipe(fds), 0);
	id = virEventAddHandle(fds[0], VIR_EVENT_HANDLE_READABLE, on_handle, NULL,
			       count_free);
	CHECK(id > 0);
	CHECK_INT(write(fds[1], "a", 1), 1);
	run_until(l, &handle_events, 1000);
	CHECK_INT(handle_events, VIR_EVENT_HANDLE_READABLE);
	handle_events = 0;
	virEventUpdateHandle(id, 0);
	CHECK_INT(write(fds[1], "x", 1), 1);
	for (i = 0; i < 5; i++)
		loop_run_once(l, 10);
	CHECK_MSG(handle_events == 0, "a handle that asks for nothing is not called");
	virEventUpdateHandle(id, VIR_EVENT_HANDLE_READABLE);
	run_until(l, &handle_events, 1000);
	CHECK_MSG(handle_events == VIR_EVENT_HANDLE_READABLE,
		  "the callback removed its own handle");
	loop_run_once(l, 10);
	CHECK_INT(freed, 2);
	close(fds[1]);
	close(fds[0]);
}

struct seen {
	int events, started;
	char uuid[40];
};

static void on_lifecycle(void *ctx, const char *uuid, bool started)
{
	struct seen *s = ctx;

	s->events++;
	s->started += started;
	snprintf(s->uuid, sizeof(s->uuid), "%s", uuid);
}

static void test_lifecycle(struct loop *l)
{
	struct libvirt_config cfg = {
		.uri = "test:///default", .virt_type = "test", .loop = l,
	};
	struct virt_instance inst = { LUUID, "web1", "m1.small", 1, 512, 1 };
	struct virt_driver *d = NULL;
	struct rpc_error e = { 0 };
	struct seen s = { 0 };
	virConnectPtr other;
	virDomainPtr dom;
	int i;

	CHECK_INT(libvirt_driver_open(&cfg, &d, &e), 0);
	if (!d)
		return;
	CHECK_INT(d->ops->on_event(d, on_lifecycle, &s, &e), 0);
	CHECK_INT(d->ops->power_on(d, &inst, &e), 0);
	run_until(l, &s.started, 2000);
	CHECK_MSG(s.started == 1, "a start is seen (%d events)", s.events);
	CHECK_STR(s.uuid, LUUID);

	/* Behind the driver's back, through another connection. */
	other = virConnectOpen("test:///default");
	dom = other ? virDomainLookupByUUIDString(other, LUUID) : NULL;
	CHECK(dom != NULL);
	s.events = 0;
	if (dom)
		virDomainDestroy(dom);
	run_until(l, &s.events, 2000);
	CHECK_MSG(s.events >= 1 && s.started == 1, "a destroy behind its back is seen");

	/* The test driver's own domain is not ours: no event. */
	s.events = 0;
	if (dom)
		virDomainFree(dom);
	dom = other ? virDomainLookupByName(other, "test") : NULL;
	if (dom)
		virDomainSuspend(dom);
	for (i = 0; i < 20; i++)
		loop_run_once(l, 10);
	CHECK_MSG(s.events == 0, "events of other domains are not passed on");
	if (dom) {
		virDomainResume(dom);
		virDomainFree(dom);
	}
	if (other)
		virConnectClose(other);
	CHECK_INT(d->ops->destroy(d, LUUID, &e), 0);
	d->ops->close(d);
	loop_run_once(l, 10);
}

int main(void)
{
	struct loop *l = NULL, *other = NULL;

	if (loop_new(&l) < 0 || loop_new(&other) < 0)
		return 1;
	CHECK_INT(virt_event_register(l), 0);
	CHECK_INT(virt_event_register(l), 0);
	CHECK_INT(virt_event_register(other), -EBUSY);
	test_timeouts_and_handles(l);
	test_lifecycle(l);
	loop_free(other);
	loop_free(l);
	return test_done();
}
