/*
 * libvirt_driver.c - the compute driver over libvirt; see driver.h.
 *
 * One thread owns the driver (the compute daemon's only thread), so the
 * libvirt connection needs no locking.  libvirt's default error handler
 * prints every error to stderr; it is silenced and errors are read with
 * virGetLastErrorMessage() instead, so that each failure is logged once, by
 * the manager, with its instance.  A connection that died (libvirtd
 * restarted) is reopened before the next operation, with its lifecycle
 * callback registered again; with an event loop, keepalives notice a
 * dead libvirtd.
 *
 * Domains of novafs instances are found by libvirt UUID, which is the
 * instance uuid.  The listing gives each novafs domain's sizes with its
 * state, read from every one defined, running or not, because a stopped
 * instance keeps its resources; a domain that cannot be read fails the
 * listing rather than go uncounted, unless it vanished meanwhile.
 *
 * The host's libvirt networks for NICs are network.c's, and the
 * instances' disks disk.c's, on this driver's connection: plug_nics,
 * domain_nics and unplug_nics only connect and hand over, and a define
 * makes the disk it needs first (deleting it again when the define
 * fails) and destroy deletes it after the domain, so that the network
 * and disk code share the connection and its reconnects.
 *
 * A test-driver host of a given size (libvirt_config.test_host) runs on
 * a private test hypervisor: libvirt's test driver reads a host's
 * definition from the file its URI names, and here that file is a memfd
 * the driver writes, so that virNodeGetInfo reports the size the host was
 * given.  Nothing else can reach that hypervisor, as with test:///default,
 * and the file goes with the process however it ends.
 */
#include "driver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "capacity.h"
#include "disk.h"
#include "domain_xml.h"
#include "network.h"
#include "virt_event.h"

struct libvirt_driver {
	struct virt_driver base;
	virConnectPtr conn;
	char *uri;
	int test_fd;                /* the private test host's definition; -1: none */
	char *console_dir;          /* NULL: no console logs */
	char *instances_dir;        /* the disks' pool (disk.h) */
	char *image_dir;            /* the image store (disk.h) */
	char virt_type[16];
	long long disk_gb;          /* > 0: configured capacity */
	bool events;                /* an event loop is registered */
	int callback;               /* the lifecycle callback's id on conn; -1: none */
	virt_event_fn event_fn;     /* NULL: nobody listens */
	void *event_ctx;
};

static struct libvirt_driver *to_lv(struct virt_driver *d)
{
	return (struct libvirt_driver *)d;
}

static void silent_error_handler(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

int libvirt_error(struct rpc_error *e)
{
	const char *msg = virGetLastErrorMessage();

	return rpc_error_set(e, -EIO, "LibvirtError", "%s",
			     msg ? msg : "unknown libvirt error");
}

/* Whether dom is a novafs domain: named instance-<its own uuid>.  Fills
 * uuid (when not NULL) with its uuid. */
static bool is_novafs(virDomainPtr dom, char uuid[UUID_STR_LEN])
{
	char buf[VIR_UUID_STRING_BUFLEN], name[DOMAIN_NAME_LEN];
	const char *have = virDomainGetName(dom);

	if (!have || virDomainGetUUIDString(dom, buf) < 0)
		return false;
	domain_xml_name(buf, name);
	if (strcmp(have, name) != 0)
		return false;
	if (uuid)
		snprintf(uuid, UUID_STR_LEN, "%s", buf);
	return true;
}

static int lifecycle(virConnectPtr conn, virDomainPtr dom, int event,
		     int detail, void *opaque)
{
	struct libvirt_driver *lv = opaque;
	char uuid[UUID_STR_LEN];

	if (lv->event_fn && is_novafs(dom, uuid))
		lv->event_fn(lv->event_ctx, uuid, event == VIR_DOMAIN_EVENT_STARTED);
	virResetLastError();
	return 0;
}

/* Closes the connection, if any.  The lifecycle callback goes first:
 * events queued already would otherwise still reach it. */
static void lv_disconnect(struct libvirt_driver *lv)
{
	if (!lv->conn)
		return;
	if (lv->callback >= 0)
		virConnectDomainEventDeregisterAny(lv->conn, lv->callback);
	lv->callback = -1;
	virConnectClose(lv->conn);
	lv->conn = NULL;
	virResetLastError();
}

/* Reopens the connection when it is gone.  Returns 0 or -EIO with e. */
static int lv_ensure_conn(struct libvirt_driver *lv, struct rpc_error *e)
{
	if (lv->conn && virConnectIsAlive(lv->conn) == 1)
		return 0;
	lv_disconnect(lv);
	lv->conn = virConnectOpen(lv->uri);
	if (!lv->conn)
		return libvirt_error(e);
	if (!lv->events)
		return 0;
	/* Not every driver keeps alive (local ones need not): best effort. */
	virConnectSetKeepAlive(lv->conn, 5, 3);
	lv->callback = virConnectDomainEventRegisterAny(
		lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(lifecycle), lv, NULL);
	return lv->callback < 0 ? libvirt_error(e) : 0;
}

/*
 * Looks the domain of uuid up.  Returns 0 with *dom (NULL when there is no
 * such domain), or -EIO with e.
 */
static int lv_lookup(struct libvirt_driver *lv, const char *uuid,
		     virDomainPtr *dom, struct rpc_error *e)
{
	int r;

	*dom = NULL;
	r = lv_ensure_conn(lv, e);
	if (r < 0)
		return r;
	*dom = virDomainLookupByUUIDString(lv->conn, uuid);
	if (*dom)
		return 0;
	if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
		virResetLastError();
		return 0;
	}
	return libvirt_error(e);
}

/* The state of dom (VIR_DOMAIN_*), or -EIO with e. */
static int domain_state(virDomainPtr dom, struct rpc_error *e)
{
	int state, reason;

	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return libvirt_error(e);
	return state;
}

/* What a domain operation does, given the domain and its state. */
typedef int (*domain_op_fn)(struct libvirt_driver *lv, virDomainPtr dom,
			    int state, struct rpc_error *e);

/* Runs op on the domain of uuid; success, doing nothing, when there is
 * none. */
static int with_domain(struct virt_driver *d, const char *uuid, domain_op_fn op,
		       struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);
	virDomainPtr dom = NULL;
	int r, state;

	r = lv_lookup(lv, uuid, &dom, e);
	if (r < 0 || !dom)
		goto out;
	state = domain_state(dom, e);
	r = state < 0 ? state : op(lv, dom, state, e);
out:
	if (dom)
		virDomainFree(dom);
	return r;
}

static bool running(int state)
{
	return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED;
}

/*
 * Defines the domain of inst (anew, or over the shut-off one it has), its
 * disk made or grown first (disk.h), into *dom.  A disk made here is
 * deleted again when the define fails.  Returns 0 or -errno with e.
 */
static int lv_define(struct libvirt_driver *lv, const struct virt_instance *inst,
		     virDomainPtr *dom, struct rpc_error *e)
{
	struct strbuf xml = STRBUF_INIT, disk = STRBUF_INIT;
	struct rpc_error ignored = { 0 };
	struct virt_instance def = *inst;
	bool made = false;
	int r;

	*dom = NULL;
	r = disk_prepare(lv->conn, lv->instances_dir, lv->image_dir, inst,
			 &disk, &made, e);
	if (r < 0)
		goto out;
	def.disk = disk.len ? disk.buf : NULL;
	r = domain_xml_build(&def, lv->virt_type, lv->console_dir, &xml);
	if (r < 0) {
		rpc_error_set(e, r, "InvalidInput", "unknown virt type %s",
			      lv->virt_type);
		goto out;
	}
	*dom = virDomainDefineXML(lv->conn, xml.buf);
	if (!*dom)
		r = libvirt_error(e);
out:
	if (r < 0 && made)
		disk_delete(lv->conn, lv->instances_dir, inst->uuid, &ignored);
	strbuf_release(&disk);
	strbuf_release(&xml);
	return r;
}

static int lv_power_on(struct virt_driver *d, const struct virt_instance *inst,
		       struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);
	virDomainPtr dom = NULL;
	int state, r;

	r = lv_lookup(lv, inst->uuid, &dom, e);
	if (r == 0 && !dom)
		r = lv_define(lv, inst, &dom, e);
	if (r < 0)
		goto out;
	state = r = domain_state(dom, e);
	if (r < 0)
		goto out;
	r = 0;
	if (state == VIR_DOMAIN_PAUSED) {
		if (virDomainResume(dom) < 0)
			r = libvirt_error(e);
	} else if (!running(state)) {
		/* Restores the managed save, when there is one. */
		if (virDomainCreate(dom) < 0)
			r = libvirt_error(e);
	}
out:
	if (dom)
		virDomainFree(dom);
	return r;
}

static int op_power_off(struct libvirt_driver *lv, virDomainPtr dom, int state,
			struct rpc_error *e)
{
	if (state != VIR_DOMAIN_SHUTOFF && state != VIR_DOMAIN_CRASHED &&
	    virDomainDestroy(dom) < 0 && virDomainIsActive(dom) != 0)
		return libvirt_error(e);
	if (virDomainHasManagedSaveImage(dom, 0) == 1 &&
	    virDomainManagedSaveRemove(dom, 0) < 0)
		return libvirt_error(e);
	virResetLastError();
	return 0;
}

static int lv_power_off(struct virt_driver *d, const char *uuid,
			struct rpc_error *e)
{
	return with_domain(d, uuid, op_power_off, e);
}

static int op_shutdown(struct libvirt_driver *lv, virDomainPtr dom, int state,
		       struct rpc_error *e)
{
	if (running(state) && virDomainShutdown(dom) < 0)
		return libvirt_error(e);
	return 0;
}

static int lv_shutdown(struct virt_driver *d, const char *uuid,
		       struct rpc_error *e)
{
	return with_domain(d, uuid, op_shutdown, e);
}

static int op_pause(struct libvirt_driver *lv, virDomainPtr dom, int state,
		    struct rpc_error *e)
{
	if (running(state) && virDomainSuspend(dom) < 0)
		return libvirt_error(e);
	return 0;
}

static int lv_pause(struct virt_driver *d, const char *uuid, struct rpc_error *e)
{
	return with_domain(d, uuid, op_pause, e);
}

static int op_unpause(struct libvirt_driver *lv, virDomainPtr dom, int state,
		      struct rpc_error *e)
{
	if (state == VIR_DOMAIN_PAUSED && virDomainResume(dom) < 0)
		return libvirt_error(e);
	return 0;
}

static int lv_unpause(struct virt_driver *d, const char *uuid,
		      struct rpc_error *e)
{
	return with_domain(d, uuid, op_unpause, e);
}

static int op_suspend(struct libvirt_driver *lv, virDomainPtr dom, int state,
		      struct rpc_error *e)
{
	if ((running(state) || state == VIR_DOMAIN_PAUSED) &&
	    virDomainManagedSave(dom, VIR_DOMAIN_SAVE_RUNNING) < 0)
		return libvirt_error(e);
	return 0;
}

static int lv_suspend(struct virt_driver *d, const char *uuid,
		      struct rpc_error *e)
{
	return with_domain(d, uuid, op_suspend, e);
}

static int op_resume(struct libvirt_driver *lv, virDomainPtr dom, int state,
		     struct rpc_error *e)
{
	if (state == VIR_DOMAIN_SHUTOFF &&
	    virDomainHasManagedSaveImage(dom, 0) == 1 && virDomainCreate(dom) < 0)
		return libvirt_error(e);
	virResetLastError();
	return 0;
}

static int lv_resume(struct virt_driver *d, const char *uuid,
		     struct rpc_error *e)
{
	return with_domain(d, uuid, op_resume, e);
}

static int op_destroy(struct libvirt_driver *lv, virDomainPtr dom, int state,
		      struct rpc_error *e)
{
	int r = op_power_off(lv, dom, state, e);

	/* A transient domain is gone once destroyed. */
	if (r == 0 && virDomainIsPersistent(dom) == 1 &&
	    virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
				   VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA) < 0 &&
	    virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
		r = libvirt_error(e);
	virResetLastError();
	return r;
}

/* The disk goes after the domain, which holds it until then; also when
 * the domain is missing (a define that failed half-way, a redelivery). */
static int lv_destroy(struct virt_driver *d, const char *uuid,
		      struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);
	int r = with_domain(d, uuid, op_destroy, e);

	return r < 0 ? r : disk_delete(lv->conn, lv->instances_dir, uuid, e);
}

/* Nova's libvirt driver's mapping (LIBVIRT_POWER_STATE): a domain shutting
 * down counts as shut down, a blocked one as running; a shut-off domain
 * with a managed save is suspended. */
static enum power_state power_state_of(virDomainPtr dom, int state)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return POWER_RUNNING;
	case VIR_DOMAIN_PAUSED:
		return POWER_PAUSED;
	case VIR_DOMAIN_SHUTOFF:
		if (virDomainHasManagedSaveImage(dom, 0) == 1)
			return POWER_SUSPENDED;
		virResetLastError();
		return POWER_SHUTDOWN;
	case VIR_DOMAIN_SHUTDOWN:
		return POWER_SHUTDOWN;
	case VIR_DOMAIN_CRASHED:
		return POWER_CRASHED;
	case VIR_DOMAIN_PMSUSPENDED:
		return POWER_SUSPENDED;
	default:
		return POWER_NOSTATE;
	}
}

static int lv_exists(struct virt_driver *d, const char *uuid,
		     struct rpc_error *e)
{
	virDomainPtr dom = NULL;
	int rc = lv_lookup(to_lv(d), uuid, &dom, e);

	if (rc < 0)
		return rc;
	if (dom)
		virDomainFree(dom);
	return dom != NULL;
}

static int lv_plug_nics(struct virt_driver *d, const struct virt_instance *inst,
			struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);
	size_t i;
	int r = inst->nnics ? lv_ensure_conn(lv, e) : 0;

	for (i = 0; r == 0 && i < inst->nnics; i++)
		r = network_plug(lv->conn, &inst->nics[i], inst->name, e);
	return r;
}

static int lv_domain_nics(struct virt_driver *d, const char *uuid,
			  struct domain_nic *nics, struct rpc_error *e)
{
	virDomainPtr dom = NULL;
	const char *p;
	char *xml = NULL;
	int r, n = 0;

	r = lv_lookup(to_lv(d), uuid, &dom, e);
	if (r < 0 || !dom)
		goto out;
	xml = virDomainGetXMLDesc(dom, 0);
	if (!xml) {
		r = libvirt_error(e);
		goto out;
	}
	for (p = xml; n < DOMAIN_MAX_NICS && (p = domain_xml_next_nic(p, &nics[n])); )
		n++;
	r = n;
out:
	free(xml);
	if (dom)
		virDomainFree(dom);
	return r;
}

static int lv_unplug_nics(struct virt_driver *d, const struct domain_nic *nics,
			  size_t n, struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);
	int r = n ? lv_ensure_conn(lv, e) : 0;

	return r < 0 || n == 0 ? r : network_unplug(lv->conn, nics, n, e);
}

static enum power_state lv_power_state(struct virt_driver *d, const char *uuid)
{
	struct rpc_error e = { 0 };
	virDomainPtr dom = NULL;
	enum power_state ps = POWER_NOSTATE;
	int state;

	if (lv_lookup(to_lv(d), uuid, &dom, &e) == 0 && dom &&
	    (state = domain_state(dom, &e)) >= 0)
		ps = power_state_of(dom, state);
	if (dom)
		virDomainFree(dom);
	return ps;
}

static int lv_flavor(struct virt_driver *d, const char *uuid,
		     struct strbuf *out, struct rpc_error *e)
{
	virDomainPtr dom = NULL;
	char *meta = NULL;
	int r;

	strbuf_reset(out);
	r = lv_lookup(to_lv(d), uuid, &dom, e);
	if (r < 0 || !dom)
		goto out;
	meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
				    NOVAFS_XMLNS, 0);
	virResetLastError();
	r = domain_xml_metadata_text(meta, "flavor", out) == 0 && out->len ? 1 : 0;
out:
	free(meta);
	if (dom)
		virDomainFree(dom);
	return r;
}

/* Every domain of the connection: *doms (freed with free_domains) holds
 * the count returned, or -EIO with e. */
static int all_domains(struct libvirt_driver *lv, virDomainPtr **doms,
		       struct rpc_error *e)
{
	int n, r;

	*doms = NULL;
	r = lv_ensure_conn(lv, e);
	if (r < 0)
		return r;
	n = virConnectListAllDomains(lv->conn, doms, 0);
	return n < 0 ? libvirt_error(e) : n;
}

static void free_domains(virDomainPtr *doms, int n)
{
	int i;

	for (i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
}

/* The sizes dom was defined with: vCPUs and memory from libvirt, disk from
 * the novafs metadata. */
static int domain_sizes(virDomainPtr dom, struct virt_sizes *sz,
			struct rpc_error *e)
{
	unsigned long long disk_gb = 0;
	virDomainInfo info;
	char *meta;

	if (virDomainGetInfo(dom, &info) < 0)
		return libvirt_error(e);
	sz->vcpus = info.nrVirtCpu;
	sz->memory_mb = (long long)(info.maxMem / 1024);
	meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
				    NOVAFS_XMLNS, 0);
	domain_xml_metadata_disk_gb(meta, &disk_gb);
	free(meta);
	virResetLastError();
	sz->disk_gb = (long long)disk_gb;
	return 0;
}

static int lv_list(struct virt_driver *d, struct virt_domain_state **out,
		   size_t *count, struct rpc_error *e)
{
	struct virt_domain_state *list = NULL;
	virDomainPtr *doms = NULL;
	int i, n, state, r = 0;

	*out = NULL;
	*count = 0;
	n = all_domains(to_lv(d), &doms, e);
	if (n < 0)
		return n;
	list = calloc(n ? (size_t)n : 1, sizeof(*list));
	if (!list) {
		r = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct virt_domain_state *ds = &list[*count];

		if (!is_novafs(doms[i], ds->uuid))
			continue;
		state = r = domain_state(doms[i], e);
		if (r >= 0)
			r = domain_sizes(doms[i], &ds->sizes, e);
		/* One that vanished meanwhile is simply not listed. */
		if (r < 0 && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
			continue;
		if (r < 0) {
			*count = 0;
			goto out;
		}
		ds->power = power_state_of(doms[i], state);
		(*count)++;
	}
	r = 0;
	virResetLastError();
	*out = list;
	list = NULL;
out:
	free(list);
	free_domains(doms, n);
	return r;
}

static int lv_host_info(struct virt_driver *d, struct virt_host_info *h,
			struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);
	virNodeInfo node;
	struct statvfs vfs;
	const char *type;
	int r;

	memset(h, 0, sizeof(*h));
	r = lv_ensure_conn(lv, e);
	if (r < 0)
		return r;
	if (virNodeGetInfo(lv->conn, &node) < 0)
		return libvirt_error(e);
	h->total.vcpus = node.cpus;
	h->total.memory_mb = (long long)(node.memory / 1024);
	if (lv->disk_gb > 0)
		h->total.disk_gb = lv->disk_gb;
	else if (statvfs("/", &vfs) == 0)
		h->total.disk_gb = (long long)(((unsigned long long)vfs.f_blocks *
						vfs.f_frsize) >> 30);
	type = virConnectGetType(lv->conn);
	snprintf(h->hypervisor_type, sizeof(h->hypervisor_type), "%s",
		 type ? type : "unknown");
	return 0;
}

static int lv_resize(struct virt_driver *d, const struct virt_instance *inst,
		     struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);
	struct virt_domain_state *doms = NULL;
	struct virt_sizes want, have, used;
	struct virt_host_info h;
	virDomainPtr dom = NULL, redefined = NULL;
	size_t n = 0;
	int r, state;

	r = lv_lookup(lv, inst->uuid, &dom, e);
	if (r < 0)
		goto out;
	if (!dom) {
		r = rpc_error_set(e, -ENOENT, "NotFound",
				  "instance %s has no domain on this host",
				  inst->uuid);
		goto out;
	}
	state = r = domain_state(dom, e);
	if (r < 0)
		goto out;
	if (state != VIR_DOMAIN_SHUTOFF && state != VIR_DOMAIN_CRASHED) {
		r = rpc_error_set(e, -EBUSY, "InstanceInvalidState",
				  "instance %s must be stopped to be resized",
				  inst->uuid);
		goto out;
	}
	if (virDomainHasManagedSaveImage(dom, 0) == 1) {
		r = rpc_error_set(e, -EBUSY, "InstanceInvalidState",
				  "instance %s is suspended: it must be stopped "
				  "to be resized", inst->uuid);
		goto out;
	}
	r = domain_sizes(dom, &have, e);
	if (r < 0)
		goto out;
	r = lv_host_info(d, &h, e);
	if (r < 0)
		goto out;
	r = lv_list(d, &doms, &n, e);
	if (r < 0)
		goto out;
	capacity_used(doms, n, &used);
	capacity_sizes_of(inst, &want);
	r = capacity_check_growth(&h.total, &used, &have, &want, e);
	if (r < 0)
		goto out;
	r = lv_define(lv, inst, &redefined, e);
out:
	if (redefined)
		virDomainFree(redefined);
	if (dom)
		virDomainFree(dom);
	free(doms);
	return r;
}

static int lv_console_log(struct virt_driver *d, const char *uuid,
			  struct strbuf *out)
{
	struct libvirt_driver *lv = to_lv(d);

	if (!lv->console_dir || strcmp(lv->virt_type, "test") == 0)
		return -EOPNOTSUPP;
	domain_xml_console_log(lv->console_dir, uuid, out);
	return 0;
}

static int lv_on_event(struct virt_driver *d, virt_event_fn fn, void *ctx,
		       struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);

	if (!lv->events)
		return rpc_error_set(e, -EOPNOTSUPP, NULL,
				     "libvirt events need an event loop");
	lv->event_fn = fn;
	lv->event_ctx = ctx;
	return 0;
}

static void lv_close(struct virt_driver *d)
{
	struct libvirt_driver *lv = to_lv(d);

	if (!lv)
		return;
	lv_disconnect(lv);
	if (lv->test_fd >= 0)
		close(lv->test_fd);
	free(lv->uri);
	free(lv->console_dir);
	free(lv->instances_dir);
	free(lv->image_dir);
	free(lv);
}

static const struct virt_driver_ops libvirt_ops = {
	.power_on = lv_power_on,
	.power_off = lv_power_off,
	.shutdown = lv_shutdown,
	.pause = lv_pause,
	.unpause = lv_unpause,
	.suspend = lv_suspend,
	.resume = lv_resume,
	.resize = lv_resize,
	.destroy = lv_destroy,
	.plug_nics = lv_plug_nics,
	.domain_nics = lv_domain_nics,
	.unplug_nics = lv_unplug_nics,
	.exists = lv_exists,
	.power_state = lv_power_state,
	.flavor = lv_flavor,
	.list = lv_list,
	.host_info = lv_host_info,
	.console_log = lv_console_log,
	.on_event = lv_on_event,
	.close = lv_close,
};

const char *libvirt_default_virt_type(const char *uri)
{
	if (uri && (strncmp(uri, "test:", 5) == 0 || strncmp(uri, "test+", 5) == 0))
		return "test";
	return access("/dev/kvm", R_OK | W_OK) == 0 ? "kvm" : "qemu";
}

/*
 * Writes the definition of a private test hypervisor of size's vCPUs and
 * memory to a new memfd (lv->test_fd, open for as long as the driver) and
 * points lv->uri at it.  Beside the size, it is test:///default's: one
 * running domain "test" of its own, which is not novafs's.  Returns 0 or
 * -errno with e.
 */
static int test_host_make(struct libvirt_driver *lv,
			  const struct virt_sizes *size, struct rpc_error *e)
{
	struct strbuf xml = STRBUF_INIT, uri = STRBUF_INIT;
	ssize_t n;
	int r = 0;

	strbuf_addf(&xml,
		    "<node>\n"
		    "  <cpu><nodes>1</nodes><sockets>1</sockets><cores>%lld</cores>"
		    "<threads>1</threads></cpu>\n"
		    "  <memory>%lld</memory>\n"
		    "  <domain type='test'><name>test</name>"
		    "<uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>"
		    "<memory>8388608</memory><currentMemory>2097152</currentMemory>"
		    "<vcpu>2</vcpu><os><type>hvm</type></os></domain>\n"
		    "</node>\n", size->vcpus, size->memory_mb * 1024);
	lv->test_fd = memfd_create("novafs-test-host", MFD_CLOEXEC);
	if (lv->test_fd < 0)
		r = -errno;
	else if ((n = write(lv->test_fd, xml.buf, xml.len)) != (ssize_t)xml.len)
		r = n < 0 ? -errno : -EIO;
	if (r < 0) {
		rpc_error_set(e, r, NULL, "cannot write the test host's definition: %s",
			      strerror(-r));
		goto out;
	}
	/* libvirt's test driver opens the file named by the URI's path. */
	strbuf_addf(&uri, "test:///proc/self/fd/%d", lv->test_fd);
	lv->uri = strbuf_detach(&uri, NULL);
out:
	strbuf_release(&xml);
	return r;
}

/*
 * Sets *out to dir (the directory called what) as libvirt spells a pool's
 * path (it drops repeated and trailing slashes), so that the pool found,
 * or a path a request names, is compared with the same spelling.
 * Returns 0, or -EINVAL with e for a relative dir.
 */
static int directory(const char *what, const char *dir, char **out,
		     struct rpc_error *e)
{
	char *p, *q;

	if (dir[0] != '/')
		return rpc_error_set(e, -EINVAL, "InvalidInput", "the %s %s is "
				     "not an absolute path", what, dir);
	*out = strdup(dir);
	if (!*out)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	for (p = q = *out; *p; p++)
		if (*p != '/' || q == *out || q[-1] != '/')
			*q++ = *p;
	if (q > *out + 1 && q[-1] == '/')
		q--;
	*q = '\0';
	return 0;
}

int libvirt_driver_open(const struct libvirt_config *cfg,
			struct virt_driver **out, struct rpc_error *e)
{
	struct libvirt_driver *lv = NULL;
	int r = 0;

	*out = NULL;
	if (strcmp(cfg->virt_type, "test") != 0 &&
	    strcmp(cfg->virt_type, "qemu") != 0 &&
	    strcmp(cfg->virt_type, "kvm") != 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "virt type must be test, qemu or kvm, not %s",
				     cfg->virt_type);
	if (cfg->loop && virt_event_register(cfg->loop) < 0)
		return rpc_error_set(e, -EBUSY, NULL,
				     "libvirt's events run on another loop");
	virSetErrorFunc(NULL, silent_error_handler);
	lv = calloc(1, sizeof(*lv));
	if (!lv)
		return rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	lv->base.ops = &libvirt_ops;
	lv->callback = -1;
	lv->test_fd = -1;
	lv->disk_gb = cfg->test_host ? cfg->test_host->disk_gb : cfg->disk_gb;
	lv->events = cfg->loop != NULL;
	snprintf(lv->virt_type, sizeof(lv->virt_type), "%s", cfg->virt_type);
	if (cfg->test_host)
		r = test_host_make(lv, cfg->test_host, e);
	else if (!(lv->uri = strdup(cfg->uri)))
		r = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	if (r == 0 && cfg->console_dir &&
	    !(lv->console_dir = strdup(cfg->console_dir)))
		r = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
	if (r == 0)
		r = directory("instances directory", cfg->instances_dir ?
			      cfg->instances_dir : LIBVIRT_INSTANCES_DIR,
			      &lv->instances_dir, e);
	if (r == 0)
		r = directory("image store", cfg->image_dir ? cfg->image_dir :
			      LIBVIRT_IMAGE_DIR, &lv->image_dir, e);
	if (r == 0)
		r = lv_ensure_conn(lv, e);
	if (r < 0)
		goto out;
	*out = &lv->base;
	lv = NULL;
out:
	if (lv)
		lv_close(&lv->base);
	return r;
}
