/*
 * methods.c - the list of every declared service, for the generated
 * reference (rpc_contract_doc) and for tools that look methods up by name.
 */
#include "rpc/methods.h"

#include <stddef.h>

const struct rpc_service_decl *const rpc_services[] = {
	&compute_service,
	&scheduler_service,
	&conductor_service,
	NULL,
};
