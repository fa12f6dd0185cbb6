/*
 * api.h - what a filesystem operation means for novafs objects: the
 * compute API of Nova, with mkdir/rmdir/write in place of HTTP verbs.
 *
 * Each function validates first and fails fast with -errno and a reason in
 * e (class and message); then records the change in the store before it
 * sends anything on the bus, so that a crash never leaves a request that
 * the store does not know about.  A rejected request on an existing
 * instance also leaves its reason in that instance's fault.  Remote
 * refusals (no valid host) put the instance in vm_state error; transport
 * failures (broker or service unreachable, timeout) leave it as it was.
 */
#ifndef NOVAFS_API_H
#define NOVAFS_API_H

#include <stddef.h>
#include <sys/types.h>

struct rpc_error;
struct store;

void api_init(struct store *st);

/* 0 if name is a valid object name ([A-Za-z0-9._-]{1,63}, not . or ..),
 * else -EINVAL with a reason. */
int api_check_name(const char *name, struct rpc_error *e);

int api_instance_create(const char *name, uid_t uid, gid_t gid,
			struct rpc_error *e);
/* Destroys the libvirt domain on its host (a call: rmdir returns when the
 * domain is gone), then forgets the instance. */
int api_instance_delete(const char *name, struct rpc_error *e);
/* A command written to ctl. */
int api_instance_command(const char *name, const char *text, size_t len,
			 struct rpc_error *e);
/* A write to the flavor file: text must name a flavor (surrounding
 * whitespace ignored); the bytes are kept exactly as written. */
int api_instance_set_flavor(const char *name, const char *text, size_t len,
			    struct rpc_error *e);
/* chown of an instance directory (or a file in it). */
int api_instance_set_owner(const char *name, uid_t uid, gid_t gid,
			   struct rpc_error *e);

#endif
