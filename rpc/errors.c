/*
 * errors.c - struct rpc_error and the failure class <-> errno table (see
 * rpc.h).
 */
#include "rpc/rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"

/* The first entry for an errno is the class sent for it. */
const struct rpc_class_map rpc_classes[] = {
	{ "InvalidInput", EINVAL, "malformed arguments, or arguments outside their contract" },
	{ "ValueError", EINVAL, "(Python peers) a bad value" },
	{ "NotFound", ENOENT, "no such instance, flavor or host" },
	{ "InstanceInvalidState", EBUSY, "the action is not allowed in the current state" },
	{ "NoValidHost", EHOSTUNREACH, "the scheduler found no live host with room" },
	{ "ServiceUnavailable", EHOSTDOWN, "the target service is down, or nothing consumes its queue" },
	{ "MessagingTimeout", ETIMEDOUT, "a call got no reply in time" },
	{ "NoSuchMethod", EOPNOTSUPP, "the server has no such method" },
	{ "UnsupportedVersion", EPROTONOSUPPORT, "the server does not serve that version or namespace" },
	{ "NotAuthorized", EACCES, "the sender may not send that message" },
	{ "ConnectionError", ENETDOWN, "the message bus (RabbitMQ) is unreachable" },
	{ "LibvirtError", EIO, "libvirt refused an operation" },
	{ "ComputeResourcesUnavailable", ENOSPC, "the host has no room for what was asked (a resize, or a placement's claim)" },
	{ "NoMoreFixedIps", EADDRNOTAVAIL, "a network's DHCP range has no free address" },
	{ "ImageNotFound", ENOENT, "a compute host cannot find an image's file in the image store (not shared storage?)" },
	{ "ImageUnacceptable", EINVAL, "an image's file is not one a host can boot from" },
	{ "MessageDeliveryFailure", EIO, "the broker refused a message" },
	{ "InvalidReply", EPROTO, "a reply outside its contract" },
	{ NULL, 0, NULL },
};

int rpc_errno_from_class(const char *cls)
{
	size_t i;

	if (!cls)
		return EREMOTEIO;
	for (i = 0; rpc_classes[i].cls; i++)
		if (strcmp(rpc_classes[i].cls, cls) == 0)
			return rpc_classes[i].err;
	return EREMOTEIO;
}

const char *rpc_class_from_errno(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; rpc_classes[i].cls; i++)
		if (rpc_classes[i].err == err)
			return rpc_classes[i].cls;
	return "RemoteError";
}

int rpc_error_set(struct rpc_error *e, int err, const char *cls,
		  const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	char raw[sizeof(e->message)], cls_buf[sizeof(e->cls)];
	va_list ap;
	size_t len;

	if (!e)
		return err;
	/* Format into copies first: callers may pass e->cls or e->message
	 * back in, to re-raise a failure with its own class and text. */
	if (!cls || !*cls)
		cls = rpc_class_from_errno(err);
	snprintf(cls_buf, sizeof(cls_buf), "%s", cls);
	raw[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
	}
	len = strlen(raw);
	while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
		raw[--len] = '\0';
	strbuf_add_oneline(&msg, raw, len);
	e->err = err;
	memcpy(e->cls, cls_buf, sizeof(e->cls));
	snprintf(e->message, sizeof(e->message), "%s", msg.buf);
	strbuf_release(&msg);
	return err;
}
