/*
 * libvirt_driver.c - the compute driver over libvirt; see driver.h.
 *
 * One thread owns the driver (the compute daemon's only thread), so the
 * libvirt connection needs no locking.  libvirt's default error handler
 * prints every error to stderr; it is silenced and errors are read with
 * virGetLastErrorMessage() instead, so that each failure is logged once, by
 * the manager, with its instance.  A connection that died (libvirtd
 * restarted) is reopened before the next operation.
 *
 * Domains of novafs instances are found by libvirt UUID, which is the
 * instance uuid; usage is summed over every domain named instance-*,
 * running or not, because a stopped instance keeps its resources.
 */
#include "driver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "common/strbuf.h"
#include "rpc/rpc.h"
#include "domain_xml.h"

struct libvirt_driver {
	struct virt_driver base;
	virConnectPtr conn;
	char *uri;
	char virt_type[16];
	long long disk_gb;          /* > 0: configured capacity */
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

/* Turns libvirt's last error into e; returns -EIO. */
static int lv_error(struct rpc_error *e)
{
	const char *msg = virGetLastErrorMessage();

	return rpc_error_set(e, -EIO, "LibvirtError", "%s",
			     msg ? msg : "unknown libvirt error");
}

/* Reopens the connection when it is gone.  Returns 0 or -EIO with e. */
static int lv_ensure_conn(struct libvirt_driver *lv, struct rpc_error *e)
{
	if (lv->conn && virConnectIsAlive(lv->conn) == 1)
		return 0;
	if (lv->conn)
		virConnectClose(lv->conn);
	lv->conn = virConnectOpen(lv->uri);
	if (!lv->conn)
		return lv_error(e);
	return 0;
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
	return lv_error(e);
}

static int lv_power_on(struct virt_driver *d, const struct virt_instance *inst,
		       struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);
	struct strbuf xml = STRBUF_INIT;
	virDomainPtr dom = NULL;
	int state = VIR_DOMAIN_NOSTATE, reason;
	int r;

	r = lv_lookup(lv, inst->uuid, &dom, e);
	if (r < 0)
		goto out;
	if (!dom) {
		r = domain_xml_build(inst, lv->virt_type, &xml);
		if (r < 0) {
			rpc_error_set(e, r, "InvalidInput", "unknown virt type %s",
				      lv->virt_type);
			goto out;
		}
		dom = virDomainDefineXML(lv->conn, xml.buf);
		if (!dom) {
			r = lv_error(e);
			goto out;
		}
	}
	if (virDomainGetState(dom, &state, &reason, 0) < 0) {
		r = lv_error(e);
		goto out;
	}
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		break;
	case VIR_DOMAIN_PAUSED:
		if (virDomainResume(dom) < 0)
			r = lv_error(e);
		break;
	default:
		if (virDomainCreate(dom) < 0)
			r = lv_error(e);
		break;
	}
out:
	if (dom)
		virDomainFree(dom);
	strbuf_release(&xml);
	return r;
}

/* Destroys dom (a hard power-off) if it runs. */
static int power_off_domain(virDomainPtr dom, struct rpc_error *e)
{
	int active = virDomainIsActive(dom);

	if (active < 0 || (active == 1 && virDomainDestroy(dom) < 0))
		return lv_error(e);
	return 0;
}

static int lv_power_off(struct virt_driver *d, const char *uuid,
			struct rpc_error *e)
{
	virDomainPtr dom = NULL;
	int r;

	r = lv_lookup(to_lv(d), uuid, &dom, e);
	if (r < 0 || !dom)
		goto out;
	r = power_off_domain(dom, e);
out:
	if (dom)
		virDomainFree(dom);
	return r;
}

static int lv_destroy(struct virt_driver *d, const char *uuid,
		      struct rpc_error *e)
{
	virDomainPtr dom = NULL;
	int r;

	r = lv_lookup(to_lv(d), uuid, &dom, e);
	if (r < 0 || !dom)
		goto out;
	r = power_off_domain(dom, e);
	if (r < 0)
		goto out;
	/* A transient domain is gone once destroyed. */
	if (virDomainIsPersistent(dom) == 1 &&
	    virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
				   VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA) < 0 &&
	    virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
		r = lv_error(e);
out:
	if (dom)
		virDomainFree(dom);
	return r;
}

/* Nova's libvirt driver's mapping (LIBVIRT_POWER_STATE): a domain shutting
 * down counts as shut down, a blocked one as running. */
static enum power_state power_state_of(int state)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return POWER_RUNNING;
	case VIR_DOMAIN_PAUSED:
		return POWER_PAUSED;
	case VIR_DOMAIN_SHUTDOWN:
	case VIR_DOMAIN_SHUTOFF:
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

static enum power_state lv_power_state(struct virt_driver *d, const char *uuid)
{
	struct rpc_error e = { 0 };
	virDomainPtr dom = NULL;
	enum power_state ps = POWER_NOSTATE;
	int state, reason;

	if (lv_lookup(to_lv(d), uuid, &dom, &e) == 0 && dom &&
	    virDomainGetState(dom, &state, &reason, 0) == 0)
		ps = power_state_of(state);
	if (dom)
		virDomainFree(dom);
	return ps;
}

/* Adds what one instance-* domain holds to st. */
static void add_domain_usage(virDomainPtr dom, struct virt_host_stats *st)
{
	const char *name = virDomainGetName(dom);
	unsigned long long disk_gb;
	virDomainInfo info;
	char *meta;

	if (!name || strncmp(name, INSTANCE_DOMAIN_PREFIX,
			     sizeof(INSTANCE_DOMAIN_PREFIX) - 1) != 0)
		return;
	if (virDomainGetInfo(dom, &info) == 0) {
		st->vcpus_used += info.nrVirtCpu;
		st->memory_mb_used += (long long)(info.maxMem / 1024);
	}
	meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
				    NOVAFS_XMLNS, 0);
	if (meta && domain_xml_metadata_disk_gb(meta, &disk_gb) == 0)
		st->disk_gb_used += (long long)disk_gb;
	free(meta);
	virResetLastError();
}

static int lv_host_stats(struct virt_driver *d, struct virt_host_stats *st,
			 struct rpc_error *e)
{
	struct libvirt_driver *lv = to_lv(d);
	virDomainPtr *doms = NULL;
	virNodeInfo node;
	struct statvfs vfs;
	const char *type;
	int i, n = 0, r;

	memset(st, 0, sizeof(*st));
	r = lv_ensure_conn(lv, e);
	if (r < 0)
		goto out;
	if (virNodeGetInfo(lv->conn, &node) < 0) {
		r = lv_error(e);
		goto out;
	}
	st->vcpus = node.cpus;
	st->memory_mb = (long long)(node.memory / 1024);
	if (lv->disk_gb > 0)
		st->disk_gb = lv->disk_gb;
	else if (statvfs("/", &vfs) == 0)
		st->disk_gb = (long long)(((unsigned long long)vfs.f_blocks *
					   vfs.f_frsize) >> 30);
	type = virConnectGetType(lv->conn);
	snprintf(st->hypervisor_type, sizeof(st->hypervisor_type), "%s",
		 type ? type : "unknown");

	n = virConnectListAllDomains(lv->conn, &doms, 0);
	if (n < 0) {
		r = lv_error(e);
		goto out;
	}
	for (i = 0; i < n; i++)
		add_domain_usage(doms[i], st);
out:
	for (i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
	return r;
}

static void lv_close(struct virt_driver *d)
{
	struct libvirt_driver *lv = to_lv(d);

	if (!lv)
		return;
	if (lv->conn)
		virConnectClose(lv->conn);
	free(lv->uri);
	free(lv);
}

static const struct virt_driver_ops libvirt_ops = {
	.power_on = lv_power_on,
	.power_off = lv_power_off,
	.destroy = lv_destroy,
	.exists = lv_exists,
	.power_state = lv_power_state,
	.host_stats = lv_host_stats,
	.close = lv_close,
};

const char *libvirt_default_virt_type(const char *uri)
{
	if (uri && strncmp(uri, "test:", 5) == 0)
		return "test";
	return access("/dev/kvm", R_OK | W_OK) == 0 ? "kvm" : "qemu";
}

int libvirt_driver_open(const char *uri, const char *virt_type,
			long long disk_gb, struct virt_driver **out,
			struct rpc_error *e)
{
	struct libvirt_driver *lv = NULL;
	int r = 0;

	*out = NULL;
	if (strcmp(virt_type, "test") != 0 && strcmp(virt_type, "qemu") != 0 &&
	    strcmp(virt_type, "kvm") != 0)
		return rpc_error_set(e, -EINVAL, "InvalidInput",
				     "virt type must be test, qemu or kvm, not %s",
				     virt_type);
	virSetErrorFunc(NULL, silent_error_handler);
	lv = calloc(1, sizeof(*lv));
	if (!lv || !(lv->uri = strdup(uri))) {
		r = rpc_error_set(e, -ENOMEM, NULL, "out of memory");
		goto out;
	}
	lv->base.ops = &libvirt_ops;
	lv->disk_gb = disk_gb;
	snprintf(lv->virt_type, sizeof(lv->virt_type), "%s", virt_type);
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
