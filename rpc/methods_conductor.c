/*
 * methods_conductor.c - the contract of topic conductor: what compute
 * hosts report to novafs.
 */
#include "rpc/methods.h"

#include <errno.h>

#include "rpc/bus.h"
#include "rpc/states.h"

static const struct rpc_field fault_members[] = {
	{ "class", RPC_T_STRING, 0, 1, 63, NULL, NULL, NULL },
	{ "message", RPC_T_STRING, 0, 0, RPC_MAX_FAULT, NULL, NULL, NULL },
	{ NULL },
};

static const struct rpc_field update_args[] = {
	{ "uuid", RPC_T_UUID, 0, 0, 0, NULL, NULL, NULL },
	{ "expected_task_state", RPC_T_ENUM, RPC_NULLABLE, 0, 0,
	  task_state_wire_names, NULL,
	  "the task the report is about: applied only while the instance still "
	  "has it (null: only while it has none)" },
	{ "vm_state", RPC_T_ENUM, 0, 0, 0, vm_state_names, NULL, NULL },
	{ "power_state", RPC_T_ENUM, 0, 0, 0, power_state_names, NULL, NULL },
	{ "task_state", RPC_T_ENUM, RPC_NULLABLE, 0, 0, task_state_wire_names,
	  NULL, "the task after the report, null for none" },
	{ "host", RPC_T_HOST, 0, 0, 0, NULL, NULL,
	  "the reporting host; must be the instance's, and the sender's" },
	{ "fault", RPC_T_OBJECT, RPC_NULLABLE, 0, 0, NULL, fault_members,
	  "why the task failed" },
	{ NULL },
};

/* A compute host reports as itself. */
static int update_sender(const struct rpc_request *req, struct rpc_error *e)
{
	const char *host = json_string_value(json_object_get(
		rpc_request_args(req), "host"));

	if (rpc_request_from_compute(req, host))
		return 0;
	return rpc_error_set(e, -EACCES, "NotAuthorized",
			     "user %s may not report for host %s",
			     rpc_request_sender(req) ? rpc_request_sender(req) : "?",
			     host);
}

const struct rpc_method_decl conductor_instance_update = {
	&conductor_service, "instance_update", RPC_CAST, "1.0", RPC_ROLE_COMPUTE,
	update_args, NULL,
	"A compute host reports an instance's state after acting on it.  novafs "
	"applies it only while the instance's task is `expected_task_state` "
	"(Nova's rule), so a redelivered or stale report changes nothing, and "
	"only from the compute host that runs the instance.",
	update_sender,
	"`host` is the sender's: user `compute-HOST` reports only as HOST."
};

static const struct rpc_field domain_members[] = {
	{ "uuid", RPC_T_UUID, 0, 0, 0, NULL, NULL, "the instance's UUID" },
	{ "power_state", RPC_T_ENUM, 0, 0, 0, power_state_names, NULL, NULL },
	{ NULL },
};

static const struct rpc_field domain_item[] = {
	{ "domain", RPC_T_OBJECT, 0, 0, 0, NULL, domain_members, NULL },
	{ NULL },
};

static const struct rpc_field sync_args[] = {
	{ "host", RPC_T_HOST, 0, 0, 0, NULL, NULL, "the reporting host" },
	{ "startup", RPC_T_BOOL, 0, 0, 0, NULL, NULL,
	  "true for the first sync after the host started: any task it was "
	  "running before is over" },
	{ "domains", RPC_T_ARRAY, 0, 0, RPC_MAX_DOMAINS, NULL, domain_item,
	  "every novafs domain the host has, with its power state (with "
	  "`partial`, those that changed)" },
	{ "partial", RPC_T_BOOL, RPC_OPTIONAL, 0, 0, NULL, NULL,
	  "true: only the domains libvirt reported events of since the last "
	  "sync; a domain it does not list is not missing" },
	{ NULL },
};

const struct rpc_method_decl conductor_sync_power_states = {
	&conductor_service, "sync_power_states", RPC_CAST, "1.1",
	RPC_ROLE_COMPUTE, sync_args, NULL,
	"A compute host lists its domains: when it starts and every report "
	"interval (Nova's `_sync_power_states`), and, `partial`, those libvirt "
	"reported a lifecycle event of.  novafs makes the state of each instance it "
	"runs with no task follow its domain's power state, marks an instance "
	"whose domain is missing `stopped` with a fault, and casts "
	"`terminate_instance` back for a domain that belongs to no instance "
	"of that host.",
	update_sender,
	"`host` is the sender's."
};

static const struct rpc_field console_args[] = {
	{ "host", RPC_T_HOST, 0, 0, 0, NULL, NULL, "the reporting host" },
	{ "uuid", RPC_T_UUID, 0, 0, 0, NULL, NULL, "the instance's UUID" },
	{ "data", RPC_T_STRING, 0, 1, RPC_MAX_CONSOLE_CHUNK, NULL, NULL,
	  "what the guest's serial console printed since the last chunk" },
	{ NULL },
};

const struct rpc_method_decl conductor_console_output = {
	&conductor_service, "console_output", RPC_CAST, "1.1", RPC_ROLE_COMPUTE,
	console_args, NULL,
	"The next bytes of an instance's serial console, in order, from the "
	"host that runs it; novafs appends them to `instances/NAME/console`.",
	update_sender,
	"`host` is the sender's, and must run the instance."
};

static const struct rpc_method_decl *const conductor_methods[] = {
	&conductor_instance_update,
	&conductor_sync_power_states,
	&conductor_console_output,
	NULL,
};

const struct rpc_service_decl conductor_service = {
	"conductor", "1.1", NULL, RPC_ROLE_API, conductor_methods,
	"The novafs daemon consumes `conductor` and applies what compute hosts "
	"report to its store."
};
