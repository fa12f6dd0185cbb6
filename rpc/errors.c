/*
 * errors.c - struct rpc_error and the failure class <-> errno table of
 * docs/rpc.md.
 *
 * A failure crosses the wire as an exception class name (oslo.messaging's
 * form, so Python peers understand it); C callers want an errno.  The table
 * below is the single place where the two meet: a class novafs raises maps
 * to one errno and back, so a failure keeps its meaning across any number
 * of hops.
 */
#include "rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct rpc_class_map {
	const char *cls;
	int err; /* positive errno */
};

/* The first entry for an errno is the class sent for it. */
static const struct rpc_class_map rpc_classes[] = {
	{ "InvalidInput", EINVAL },
	{ "ValueError", EINVAL },
	{ "NotFound", ENOENT },
	{ "InstanceInvalidState", EBUSY },
	{ "NoValidHost", EHOSTUNREACH },
	{ "ServiceUnavailable", EHOSTDOWN },
	{ "MessagingTimeout", ETIMEDOUT },
	{ "NoSuchMethod", EOPNOTSUPP },
	{ "ConnectionError", ENOTCONN },
	{ "LibvirtError", EIO },
};

#define RPC_NCLASSES (sizeof(rpc_classes) / sizeof(rpc_classes[0]))

int rpc_errno_from_class(const char *cls)
{
	size_t i;

	if (!cls)
		return EREMOTEIO;
	for (i = 0; i < RPC_NCLASSES; i++)
		if (strcmp(rpc_classes[i].cls, cls) == 0)
			return rpc_classes[i].err;
	return EREMOTEIO;
}

const char *rpc_class_from_errno(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < RPC_NCLASSES; i++)
		if (rpc_classes[i].err == err)
			return rpc_classes[i].cls;
	return "RemoteError";
}

int rpc_error_set(struct rpc_error *e, int err, const char *cls,
		  const char *fmt, ...)
{
	char cls_buf[sizeof(e->cls)], msg[sizeof(e->message)];
	va_list ap;
	size_t len;

	if (!e)
		return err;
	/* Format into copies first: callers may pass e->cls or e->message
	 * back in, to re-raise a failure with its own class and text. */
	if (!cls || !*cls)
		cls = rpc_class_from_errno(err);
	snprintf(cls_buf, sizeof(cls_buf), "%s", cls);
	msg[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	e->err = err;
	memcpy(e->cls, cls_buf, sizeof(e->cls));
	memcpy(e->message, msg, sizeof(e->message));
	len = strlen(e->message);
	while (len > 0 && (e->message[len - 1] == '\n' || e->message[len - 1] == '\r'))
		e->message[--len] = '\0';
	return err;
}
