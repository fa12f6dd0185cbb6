/*
 * methods_scheduler.c - the contract of topic scheduler: placement, and
 * the heartbeats compute hosts fan out (which novafs hears too).
 */
#include "rpc/methods.h"

#include <errno.h>
#include <string.h>

#include "rpc/bus.h"

static const struct rpc_field flavor_members[] = {
	{ "name", RPC_T_NAME, 0, 0, 0, NULL, NULL, NULL },
	RPC_FLAVOR_SIZES,
	{ NULL },
};

/* A list of host names. */
static const struct rpc_field host_item[] = {
	{ NULL, RPC_T_HOST, 0, 0, 0, NULL, NULL, NULL },
	{ NULL },
};

#define MAX_HOSTS 100000

const char *const group_policies[] = { "affinity", "anti-affinity", NULL };

static const struct rpc_field group_members[] = {
	{ "name", RPC_T_NAME, 0, 0, 0, NULL, NULL, NULL },
	{ "policy", RPC_T_ENUM, 0, 0, 0, group_policies, NULL, NULL },
	{ "hosts", RPC_T_ARRAY, 0, 0, MAX_HOSTS, NULL, host_item,
	  "the hosts the group's other instances are on" },
	{ NULL },
};

static const struct rpc_field select_args[] = {
	{ "instance_uuid", RPC_T_UUID, 0, 0, 0, NULL, NULL, NULL },
	{ "flavor", RPC_T_OBJECT, 0, 0, 0, NULL, flavor_members, NULL },
	{ "force_host", RPC_T_HOST, RPC_OPTIONAL, 0, 0, NULL, NULL,
	  "the only host it may go to (`instances/NAME/host` written before "
	  "the first start); the other filters still apply" },
	{ "group", RPC_T_OBJECT, RPC_OPTIONAL, 0, 0, NULL, group_members,
	  "its server group" },
	{ "ignore_hosts", RPC_T_ARRAY, RPC_OPTIONAL, 0, MAX_HOSTS, NULL,
	  host_item, "hosts already tried (a reschedule) or being left (an "
	  "evacuation)" },
	{ "disabled_hosts", RPC_T_ARRAY, RPC_OPTIONAL, 0, MAX_HOSTS, NULL,
	  host_item, "hosts an operator disabled (`hosts/NAME/ctl`)" },
	{ NULL },
};

static const struct rpc_field select_result_members[] = {
	{ "host", RPC_T_HOST, 0, 0, 0, NULL, NULL, "the compute host chosen" },
	{ "limits", RPC_T_OBJECT, 0, 0, 0, NULL, rpc_limits_members,
	  "the host's capacity times the allocation ratios: what it may hold "
	  "in all, for `start_instance` to check its claim against" },
	{ NULL },
};

static const struct rpc_field release_args[] = {
	{ "instance_uuid", RPC_T_UUID, 0, 0, 0, NULL, NULL, NULL },
	{ "host", RPC_T_HOST, RPC_OPTIONAL, 0, 0, NULL, NULL,
	  "where it was placed; absent when its placement's answer never "
	  "came (a timeout): whatever claim it has goes" },
	{ "flavor", RPC_T_OBJECT, 0, 0, 0, NULL, flavor_members,
	  "what it held there" },
	{ NULL },
};

static const struct rpc_field uuid_item[] = {
	{ NULL, RPC_T_UUID, 0, 0, 0, NULL, NULL, NULL },
	{ NULL },
};

static const struct rpc_field select_result = {
	NULL, RPC_T_OBJECT, 0, 0, 0, NULL, select_result_members, NULL
};

#define COUNT(name, doc) \
	{ name, RPC_T_INT, RPC_OPTIONAL, 0, 1LL << 40, NULL, NULL, doc }

const char *const service_binaries[] = {
	"novafs-compute", "novafs-scheduler", "novafs-network", NULL
};

/* The role that runs each of service_binaries. */
static const unsigned binary_roles[] = {
	RPC_ROLE_COMPUTE, RPC_ROLE_SCHEDULER, RPC_ROLE_NETWORK,
};

/* A heartbeat speaks for its sender only: novafs-compute on HOST from
 * compute-HOST, the others from their service's user. */
static int capabilities_sender(const struct rpc_request *req,
			       struct rpc_error *e)
{
	json_t *args = rpc_request_args(req);
	const char *binary = json_string_value(json_object_get(args, "binary"));
	const char *host = json_string_value(json_object_get(args, "host"));
	size_t i;

	for (i = 0; service_binaries[i]; i++)
		if (strcmp(service_binaries[i], binary) == 0)
			break;
	if (service_binaries[i] &&
	    rpc_request_from(req, binary_roles[i],
			     binary_roles[i] == RPC_ROLE_COMPUTE ? host : NULL))
		return 0;
	return rpc_error_set(e, -EACCES, "NotAuthorized",
			     "user %s may not report %s on %s",
			     rpc_request_sender(req) ? rpc_request_sender(req) : "?",
			     binary, host);
}

static const struct rpc_field capabilities_args[] = {
	{ "binary", RPC_T_ENUM, 0, 0, 0, service_binaries, NULL,
	  "the reporting service" },
	{ "host", RPC_T_HOST, 0, 0, 0, NULL, NULL,
	  "the host it runs on; a compute host's sender must be compute-HOST" },
	{ "up", RPC_T_BOOL, 0, 0, 0, NULL, NULL,
	  "false when the service stops (its numbers are then absent)" },
	{ "report_interval", RPC_T_INT, RPC_OPTIONAL, 1, 86400, NULL, NULL,
	  "seconds until the next report" },
	COUNT("vcpus", NULL),
	COUNT("vcpus_used", NULL),
	COUNT("memory_mb", NULL),
	COUNT("memory_mb_used", NULL),
	COUNT("disk_gb", NULL),
	COUNT("disk_gb_used", NULL),
	{ "hypervisor_type", RPC_T_STRING, RPC_OPTIONAL, 0, 31, NULL, NULL, NULL },
	{ "version", RPC_T_STRING, RPC_OPTIONAL, 0, 31, NULL, NULL,
	  "the service's novafs version" },
	{ "instances", RPC_T_ARRAY, RPC_OPTIONAL, 0, RPC_MAX_DOMAINS, NULL,
	  uuid_item, "a compute host's: the UUIDs of the domains its usage "
	  "counts (the scheduler drops its claim for each)" },
	{ NULL },
};

const struct rpc_method_decl scheduler_select_destinations = {
	&scheduler_service, "select_destinations", RPC_CALL, "1.1", RPC_ROLE_API,
	select_args, &select_result,
	"Chooses a host for the instance and claims the flavor on it, until "
	"the host reports the instance in its usage or the claim is released "
	"(a new request for the same instance replaces its claim).  Fails "
	"with `NoValidHost` saying why each host was rejected."
};

const struct rpc_method_decl scheduler_release_resources = {
	&scheduler_service, "release_resources", RPC_CAST, "1.1", RPC_ROLE_API,
	release_args, NULL,
	"The instance no longer holds anything on host (deleted, or its first "
	"start failed): its claim goes, or, when the host's last report "
	"counted it, its sizes are taken off that report until a report no "
	"longer lists it.  Idempotent."
};

const struct rpc_method_decl scheduler_update_service_capabilities = {
	&scheduler_service, "update_service_capabilities", RPC_FANOUT, "1.1",
	RPC_ROLE_COMPUTE | RPC_ROLE_SCHEDULER | RPC_ROLE_NETWORK,
	capabilities_args, NULL,
	"Every service's heartbeat, at start, every report interval, and with "
	"`up: false` when it stops; a compute host's carries its capacity and "
	"usage.",
	capabilities_sender,
	"each service reports only for itself: `novafs-compute` on HOST from "
	"user `compute-HOST`, `novafs-scheduler` from `scheduler`, "
	"`novafs-network` from `network`."
};

static const struct rpc_method_decl *const scheduler_methods[] = {
	&scheduler_select_destinations,
	&scheduler_release_resources,
	&scheduler_update_service_capabilities,
	NULL,
};

const struct rpc_service_decl scheduler_service = {
	"scheduler", "1.1", NULL, RPC_ROLE_SCHEDULER, scheduler_methods,
	"novafs-scheduler consumes `scheduler`, `scheduler.HOST` and its fanout; "
	"novafs listens to the fanout alone, to see the compute hosts."
};
