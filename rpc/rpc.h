/*
 * rpc.h - how failures travel between novafs services.
 *
 * A failure crosses the wire as an exception class name and a message
 * (oslo.messaging's form, so Python peers understand it); C code wants an
 * errno.  struct rpc_error carries all three, and one table (errors.c,
 * documented in docs/rpc.md) maps classes to errnos and back, so a failure
 * keeps its meaning across any number of hops.
 *
 * The bus itself is in rpc/bus.h, the message contracts in
 * rpc/contract.h and rpc/methods.h, the state vocabulary in rpc/states.h.
 */
#ifndef NOVAFS_RPC_RPC_H
#define NOVAFS_RPC_RPC_H

struct rpc_error {
	int err;             /* -errno, 0 when no error */
	char cls[64];        /* exception class, e.g. "NoValidHost" */
	char message[512];   /* readable reason: one line, control bytes escaped */
};

/* Fills e (when not NULL) and returns err, so that a caller can write
 * `return rpc_error_set(e, -EINVAL, "InvalidInput", "bad %s", x);`.
 * A NULL or empty cls is replaced by rpc_class_from_errno(err).  The
 * message is kept on one line: control characters (a newline in a name a
 * user chose) are escaped, as in the log, so that a reason shown in a
 * fault file or a log line cannot forge another. */
int rpc_error_set(struct rpc_error *e, int err, const char *cls,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The errno a remote failure class maps to (EREMOTEIO for a class this
 * table does not know), and the class novafs sends for an errno. */
int rpc_errno_from_class(const char *cls);
const char *rpc_class_from_errno(int err);

/* The class table, for docs and tests: each row's class, errno, and when
 * novafs raises it.  Ends with a NULL class. */
struct rpc_class_map {
	const char *cls;
	int err;             /* positive errno */
	const char *when;
};
extern const struct rpc_class_map rpc_classes[];

#endif
