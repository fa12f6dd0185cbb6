/*
 * main.c - novafs-network: hands out fixed IPs and MACs to instances.
 *
 * The glue between the bus and the allocation code: it serves topic
 * network (the shared queue, network.HOST and the fanout) as RabbitMQ
 * user network, turns allocate_for_instance's definitions into networks
 * (network.h), allocates in its own database (store.h) and answers only
 * once the allocation is committed, frees an instance's allocations on
 * deallocate_for_instance and forgets a network on delete_network, and
 * heartbeats as novafs-network so that novafs lists it in services/.
 * The bus lets only novafs send these methods.
 *
 * Everything happens on the loop thread, the database included: a commit
 * waits for the disk (synchronous=FULL), which is what an answer must
 * wait for anyway.  A message redelivered after a crash finds its work
 * done and gets the same answer (store.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/loop.h"
#include "rpc/bus.h"
#include "rpc/methods.h"
#include "mac.h"
#include "network.h"
#include "store.h"

struct netmgr_config {
	char *db;
};

static const struct opt netmgr_options[] = {
	{ "network", "db", "--db", OPT_STR, offsetof(struct netmgr_config, db),
	  "/var/lib/novafs/network.db", 0, 0, NULL, "PATH",
	  "the SQLite database of the addresses and MACs handed out "
	  "(novafs-network's own)", NULL },
	OPT_END
};

struct netmgr {
	struct netmgr_store *store;
};

/* The answer: {"nics": [{network, ip, mac}, ...]}; NULL when out of
 * memory. */
static json_t *nics_to_json(const struct netmgr_nic *nics, size_t n)
{
	char ip[IPV4_STR_LEN], mac[MAC_STR_LEN];
	json_t *list = json_array(), *nic;
	size_t i;

	for (i = 0; list && i < n; i++) {
		nic = json_pack("{s:s, s:s, s:s}", "network", nics[i].network,
				"ip", ipv4_format(nics[i].ip, ip),
				"mac", mac_format(nics[i].mac, mac));
		if (!nic || json_array_append_new(list, nic) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list ? json_pack("{s:o}", "nics", list) : NULL;
}

static void allocate_for_instance(void *ctx, struct rpc_request *req)
{
	struct netmgr *nm = ctx;
	json_t *args = rpc_request_args(req), *result = NULL;
	const char *instance = json_string_value(json_object_get(args, "instance_uuid"));
	struct netmgr_network nets[RPC_MAX_NICS];
	struct netmgr_nic nics[RPC_MAX_NICS];
	char ip[IPV4_STR_LEN], mac[MAC_STR_LEN];
	struct rpc_error e = { 0 };
	size_t n = 0, i;
	int rc;

	rc = netmgr_networks_from_json(json_object_get(args, "networks"), nets,
				       RPC_MAX_NICS, &n, &e);
	if (rc == 0)
		rc = netmgr_store_allocate(nm->store, instance, nets, n, nics, &e);
	if (rc == 0 && !(result = nics_to_json(nics, n)))
		rc = rpc_error_set(&e, -ENOMEM, NULL, "out of memory");
	if (rc < 0)
		log_info("allocate_for_instance instance %s: %s: %s", instance,
			 e.cls, e.message);
	for (i = 0; rc == 0 && i < n; i++)
		log_info("allocate_for_instance instance %s: %s on %s, MAC %s",
			 instance, ipv4_format(nics[i].ip, ip), nics[i].network,
			 mac_format(nics[i].mac, mac));
	rpc_request_done(req, result, rc < 0 ? &e : NULL);
}

struct released {
	const char *instance;
};

static void log_released(void *ctx, const struct netmgr_nic *nic)
{
	const struct released *r = ctx;
	char ip[IPV4_STR_LEN], mac[MAC_STR_LEN];

	log_info("deallocate_for_instance instance %s: released %s on %s, MAC %s",
		 r->instance, ipv4_format(nic->ip, ip), nic->network,
		 mac_format(nic->mac, mac));
}

static void deallocate_for_instance(void *ctx, struct rpc_request *req)
{
	struct netmgr *nm = ctx;
	struct released r = {
		json_string_value(json_object_get(rpc_request_args(req),
						  "instance_uuid")),
	};
	struct rpc_error e = { 0 };
	int rc;

	rc = netmgr_store_deallocate(nm->store, r.instance, log_released, &r, &e);
	if (rc < 0)
		log_warn("deallocate_for_instance instance %s: %s", r.instance,
			 e.message);
	else if (rc == 0)
		log_info("deallocate_for_instance instance %s: nothing held",
			 r.instance);
	rpc_request_done(req, NULL, rc < 0 ? &e : NULL);
}

static void delete_network(void *ctx, struct rpc_request *req)
{
	struct netmgr *nm = ctx;
	const char *name = json_string_value(json_object_get(rpc_request_args(req),
							     "name"));
	struct rpc_error e = { 0 };
	int rc;

	rc = netmgr_store_delete_network(nm->store, name, &e);
	if (rc < 0)
		log_warn("delete_network %s: %s", name, e.message);
	else
		log_info("delete_network %s: forgotten, %d allocation%s dropped",
			 name, rc, rc == 1 ? "" : "s");
	rpc_request_done(req, NULL, rc < 0 ? &e : NULL);
}

static const struct rpc_handler network_handlers[] = {
	{ &network_allocate_for_instance, allocate_for_instance },
	{ &network_deallocate_for_instance, deallocate_for_instance },
	{ &network_delete_network, delete_network },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	struct rpc_bus_config bus_cfg = { 0 };
	struct rpc_service_config svc_cfg = { 0 };
	struct netmgr_config cfg = { 0 };
	const struct opt *const tables[] = {
		rpc_service_options, rpc_bus_options, netmgr_options, NULL,
	};
	void *const bases[] = { &svc_cfg, &bus_cfg, &cfg };
	const struct opts_spec spec = {
		"novafs-network", "Hands out fixed IPs and MACs to instances.",
		NULL, "/etc/novafs/network.conf", tables, bases,
	};
	struct netmgr nm = { NULL };
	struct rpc_heartbeat *hb = NULL;
	struct rpc_bus *bus = NULL;
	struct rpc_error e = { 0 };
	struct daemon d;
	int status, rc;

	status = daemon_start(&d, &spec, NULL, &argc, argv, 0);
	if (status >= 0)
		return status;
	status = 1;
	rc = netmgr_store_open(cfg.db, netmgr_getrandom, NULL, &nm.store, &e);
	if (rc < 0) {
		log_error("cannot open the network database: %s", e.message);
		goto out;
	}
	rc = rpc_service_host(&svc_cfg, &e);
	if (rc == 0)
		rc = rpc_bus_new(d.loop, &bus_cfg, "network", &bus, &e);
	if (rc < 0) {
		log_error("cannot connect to the message bus: %s", e.message);
		goto out;
	}
	rc = rpc_serve(bus, &network_service, svc_cfg.host, network_handlers,
		       &nm, &e);
	if (rc == 0)
		rc = rpc_heartbeat_start(bus, "novafs-network", svc_cfg.host,
					 svc_cfg.report_interval_s, NULL, NULL,
					 &hb, &e);
	if (rc < 0) {
		log_error("cannot serve topic network as %s: %s", svc_cfg.host,
			  e.message);
		goto out;
	}
	log_info("serving topic network on %s (database %s)", svc_cfg.host,
		 cfg.db);
	rc = loop_run(d.loop);
	if (rc < 0)
		log_error("the event loop failed: %s", strerror(-rc));
	rpc_heartbeat_stop(hb);
	status = rc < 0 ? 1 : 0;
out:
	rpc_bus_free(bus);
	netmgr_store_close(nm.store);
	return daemon_finish(&d, &spec, NULL, status);
}
