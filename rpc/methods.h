/*
 * methods.h - every message novafs services exchange, declared once (see
 * contract.h).  Callers and handlers name these objects; docs/rpc.md is
 * generated from them.
 *
 * Adding a method: declare it in the service's methods_TOPIC.c, list it in
 * that service's table, add it here, and give the serving side a handler.
 * Adding an argument a server may not know yet bumps the service's minor
 * version and the method's version (oslo's rule: an old server refuses the
 * newer request with UnsupportedVersion instead of misreading it).
 */
#ifndef NOVAFS_RPC_METHODS_H
#define NOVAFS_RPC_METHODS_H

#include "rpc/contract.h"

/* The bounds every service applies to what it is sent. */
#define RPC_MAX_VCPUS 128
#define RPC_MAX_MEMORY_MB 262144   /* 256 GiB */
#define RPC_MAX_DISK_GB 65536
#define RPC_MAX_FAULT 1024

/* The sizes a flavor gives an instance, bounded alike wherever they
 * travel (struct rpc_field initialisers). */
#define RPC_FLAVOR_SIZES \
	{ "vcpus", RPC_T_INT, 0, 1, RPC_MAX_VCPUS }, \
	{ "memory_mb", RPC_T_INT, 0, 16, RPC_MAX_MEMORY_MB }, \
	{ "disk_gb", RPC_T_INT, 0, 0, RPC_MAX_DISK_GB }

/* The largest image file: 1 TiB. */
#define RPC_MAX_IMAGE_BYTES (1LL << 40)

/* Glance's disk formats novafs knows: raw, qcow2, iso, aki (a kernel),
 * ari (a ramdisk), ami (a raw disk). */
extern const char *const rpc_disk_formats[];

/* The most NICs an instance has: networks it names. */
#define RPC_MAX_NICS 8

/* The most a host may hold in all once it holds an instance: what
 * select_destinations answers and start_instance passes on. */
extern const struct rpc_field rpc_limits_members[];

/* topic compute (novafs-compute), server HOST */
extern const struct rpc_service_decl compute_service;
extern const struct rpc_method_decl compute_start_instance;
extern const struct rpc_method_decl compute_stop_instance;
extern const struct rpc_method_decl compute_reboot_instance;
extern const struct rpc_method_decl compute_pause_instance;
extern const struct rpc_method_decl compute_unpause_instance;
extern const struct rpc_method_decl compute_suspend_instance;
extern const struct rpc_method_decl compute_resume_instance;
extern const struct rpc_method_decl compute_rebuild_instance;
extern const struct rpc_method_decl compute_resize_instance;
extern const struct rpc_method_decl compute_terminate_instance;
extern const struct rpc_method_decl compute_get_instance_state;
extern const struct rpc_method_decl compute_publish_service_capabilities;

/* The binaries that heartbeat, NULL-terminated: "novafs-compute", ... */
extern const char *const service_binaries[];

/* topic scheduler (novafs-scheduler) */
extern const struct rpc_service_decl scheduler_service;
extern const struct rpc_method_decl scheduler_select_destinations;
extern const struct rpc_method_decl scheduler_release_resources;
/* A server group's policies, NULL-terminated: "affinity", "anti-affinity". */
extern const char *const group_policies[];
extern const struct rpc_method_decl scheduler_update_service_capabilities;

/* topic network (novafs-network) */
extern const struct rpc_service_decl network_service;
extern const struct rpc_method_decl network_allocate_for_instance;
extern const struct rpc_method_decl network_deallocate_for_instance;
extern const struct rpc_method_decl network_delete_network;

/* topic conductor (novafs) */
extern const struct rpc_service_decl conductor_service;
extern const struct rpc_method_decl conductor_instance_update;
extern const struct rpc_method_decl conductor_sync_power_states;
extern const struct rpc_method_decl conductor_console_output;

/* The most domains one sync_power_states lists, and the most console
 * bytes one console_output carries. */
#define RPC_MAX_DOMAINS 100000
#define RPC_MAX_CONSOLE_CHUNK 65536

#endif
