/*
 * methods_network.c - the contract of topic network: fixed-IP and MAC
 * allocation, which novafs-network alone owns (its own database).
 *
 * novafs owns the networks' definitions and sends the ones an instance
 * needs with each allocation, so novafs-network needs no copy of novafs's
 * database and never asks back; it keeps what it handed out durably
 * before it answers.
 */
#include "rpc/methods.h"

static const struct rpc_field network_members[] = {
	{ "name", RPC_T_NAME, 0, 0, 0, NULL, NULL, NULL },
	{ "cidr", RPC_T_STRING, 0, 9, 18, NULL, NULL, "\"192.0.2.0/24\"" },
	{ "gateway", RPC_T_STRING, 0, 7, 15, NULL, NULL,
	  "never handed out, even inside the DHCP range" },
	{ "dhcp_start", RPC_T_STRING, 0, 7, 15, NULL, NULL,
	  "the first address handed out" },
	{ "dhcp_end", RPC_T_STRING, 0, 7, 15, NULL, NULL, "the last" },
	{ NULL },
};

static const struct rpc_field network_item[] = {
	{ NULL, RPC_T_OBJECT, 0, 0, 0, NULL, network_members, NULL },
	{ NULL },
};

static const struct rpc_field allocate_args[] = {
	{ "instance_uuid", RPC_T_UUID, 0, 0, 0, NULL, NULL, NULL },
	{ "networks", RPC_T_ARRAY, 0, 1, RPC_MAX_NICS, NULL, network_item,
	  "one per NIC, in the instance's order; each name at most once" },
	{ NULL },
};

static const struct rpc_field nic_members[] = {
	{ "network", RPC_T_NAME, 0, 0, 0, NULL, NULL, NULL },
	{ "ip", RPC_T_STRING, 0, 7, 15, NULL, NULL, NULL },
	{ "mac", RPC_T_STRING, 0, 17, 17, NULL, NULL,
	  "locally administered (fa:16:3e:…), unique among all it handed out" },
	{ NULL },
};

static const struct rpc_field nic_item[] = {
	{ NULL, RPC_T_OBJECT, 0, 0, 0, NULL, nic_members, NULL },
	{ NULL },
};

static const struct rpc_field allocate_result_members[] = {
	{ "nics", RPC_T_ARRAY, 0, 1, RPC_MAX_NICS, NULL, nic_item,
	  "in the order of `networks`" },
	{ NULL },
};

static const struct rpc_field allocate_result = {
	NULL, RPC_T_OBJECT, 0, 0, 0, NULL, allocate_result_members, NULL
};

static const struct rpc_field deallocate_args[] = {
	{ "instance_uuid", RPC_T_UUID, 0, 0, 0, NULL, NULL, NULL },
	{ NULL },
};

static const struct rpc_field delete_network_args[] = {
	{ "name", RPC_T_NAME, 0, 0, 0, NULL, NULL, NULL },
	{ NULL },
};

const struct rpc_method_decl network_allocate_for_instance = {
	&network_service, "allocate_for_instance", RPC_CALL, "1.0", RPC_ROLE_API,
	allocate_args, &allocate_result,
	"Gives the instance an address and a MAC on each network, all or "
	"nothing, committed before the answer; what it held on networks not "
	"named is released in the same transaction (its networks changed "
	"after a first start that failed).  Idempotent: an instance that "
	"already has an address on a network gets the same one again.  The "
	"first free address after the last one handed out is taken, wrapping "
	"around at the range's end, so that a released address is reused "
	"last.  Fails with `NoMoreFixedIps` when a network's range is full "
	"(and nothing is allocated), `InvalidInput` when a definition is not "
	"a valid network."
};

const struct rpc_method_decl network_deallocate_for_instance = {
	&network_service, "deallocate_for_instance", RPC_CAST, "1.0",
	RPC_ROLE_API, deallocate_args, NULL,
	"The instance is deleted: its addresses and MACs are free again.  "
	"Idempotent."
};

const struct rpc_method_decl network_delete_network = {
	&network_service, "delete_network", RPC_CAST, "1.0", RPC_ROLE_API,
	delete_network_args, NULL,
	"The network is deleted (no instance uses it): whatever novafs-network "
	"kept of it goes, so that a network made later under the same name "
	"starts empty.  Idempotent."
};

static const struct rpc_method_decl *const network_methods[] = {
	&network_allocate_for_instance,
	&network_deallocate_for_instance,
	&network_delete_network,
	NULL,
};

const struct rpc_service_decl network_service = {
	"network", "1.0", NULL, RPC_ROLE_NETWORK, network_methods,
	"novafs-network consumes `network` (shared) and `network.HOST`, and "
	"heartbeats as `novafs-network`."
};
