/*
 * request.h - what novafs asks of the scheduler, parsed once from the
 * arguments of select_destinations and release_resources (their contract
 * is in rpc/methods_scheduler.c) into the form the filters and claims
 * use.
 *
 * The bus has checked the arguments against the contract before a
 * handler runs; the parsers check again what they rely on, so that unit
 * tests and any other caller get -EINVAL rather than a crash.  Host names
 * in a request are borrowed from the arguments: a request is valid while
 * its JSON lives.
 */
#ifndef NOVAFS_SCHED_REQUEST_H
#define NOVAFS_SCHED_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "common/uuid.h"
#include "host_state.h"

struct rpc_error;

/* A set of host names, sorted for binary search; the names are borrowed.
 * Zeroed is empty; free with host_set_release(). */
struct host_set {
	const char **names;
	size_t n, alloc;
};

/* Adds name (borrowed) to set; sorts and removes duplicates only when
 * host_set_seal() is called.  Returns 0 or -ENOMEM. */
int host_set_add(struct host_set *set, const char *name);
/* Sorts set and drops duplicates, after the last host_set_add(). */
void host_set_seal(struct host_set *set);
/* Whether the sealed set holds name. */
bool host_set_has(const struct host_set *set, const char *name);
void host_set_release(struct host_set *set);

enum sched_policy {
	SCHED_POLICY_NONE,           /* in no server group */
	SCHED_POLICY_AFFINITY,       /* all on one host */
	SCHED_POLICY_ANTI_AFFINITY,  /* each on a host of its own */
};

/* One select_destinations request. */
struct sched_request {
	char instance_uuid[UUID_STR_LEN];   /* lower case */
	char flavor_name[SCHED_NAME_LEN];
	struct sched_resources flavor;
	const char *force_host;             /* NULL: none */
	const char *group;                  /* its server group; NULL: none */
	enum sched_policy policy;
	struct host_set group_hosts;        /* where its other members are */
	struct host_set ignore_hosts;       /* tried already */
	struct host_set disabled_hosts;     /* disabled by an operator */
};

/*
 * Parses select_destinations args ({"instance_uuid", "flavor": {"name",
 * "vcpus", "memory_mb", "disk_gb"}, and optionally "force_host", "group":
 * {"name", "policy", "hosts"}, "ignore_hosts", "disabled_hosts"}) into
 * req.  Returns 0, or -EINVAL with e, or -ENOMEM; req must be released
 * with sched_request_release() either way.
 */
int sched_request_from_json(json_t *args, struct sched_request *req,
			    struct rpc_error *e);
void sched_request_release(struct sched_request *req);

/* One release_resources. */
struct sched_release_request {
	char instance_uuid[UUID_STR_LEN];   /* lower case */
	const char *host;                   /* borrowed; NULL: any */
	char flavor_name[SCHED_NAME_LEN];
	struct sched_resources flavor;
};

/* Parses release_resources args ({"instance_uuid", "host", "flavor"}).
 * Returns 0 or -EINVAL with e. */
int sched_release_from_json(json_t *args, struct sched_release_request *req,
			    struct rpc_error *e);

#endif
