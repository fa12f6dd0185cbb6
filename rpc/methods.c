/*
 * methods.c - the list of every declared service, for the generated
 * reference (rpc_contract_doc) and for tools that look methods up by name,
 * and the members more than one service's methods share.
 */
#include "rpc/methods.h"

#include <stddef.h>

const char *const rpc_disk_formats[] = {
	"raw", "qcow2", "iso", "aki", "ari", "ami", NULL,
};

const struct rpc_field rpc_limits_members[] = {
	{ "vcpus", RPC_T_INT, 0, 0, 1LL << 40, NULL, NULL, NULL },
	{ "memory_mb", RPC_T_INT, 0, 0, 1LL << 40, NULL, NULL, NULL },
	{ "disk_gb", RPC_T_INT, 0, 0, 1LL << 40, NULL, NULL, NULL },
	{ NULL },
};

const struct rpc_service_decl *const rpc_services[] = {
	&compute_service,
	&scheduler_service,
	&network_service,
	&conductor_service,
	NULL,
};
