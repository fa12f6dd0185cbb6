/*
 * methods_compute.c - the contract of topic compute: what novafs asks of a
 * compute host.  A compute host never reads the database, so each request
 * carries the instance as the host needs it.
 */
#include "rpc/methods.h"

#include "rpc/states.h"

static const struct rpc_field address_item[] = {
	{ NULL, RPC_T_STRING, 0, 7, 15, NULL, NULL, NULL },
	{ NULL },
};

/* A NIC: its address on one network, and that network as the host's
 * libvirt network (bridge, DHCP) is made from. */
static const struct rpc_field nic_members[] = {
	{ "network", RPC_T_NAME, 0, 0, 0, NULL, NULL,
	  "the network's name; its libvirt network is `novafs-NAME`" },
	{ "bridge", RPC_T_STRING, 0, 1, 15, NULL, NULL,
	  "the Linux bridge of that libvirt network" },
	{ "cidr", RPC_T_STRING, 0, 9, 18, NULL, NULL, NULL },
	{ "gateway", RPC_T_STRING, 0, 7, 15, NULL, NULL,
	  "the bridge's own address" },
	{ "dhcp_start", RPC_T_STRING, 0, 7, 15, NULL, NULL, NULL },
	{ "dhcp_end", RPC_T_STRING, 0, 7, 15, NULL, NULL, NULL },
	{ "dns", RPC_T_ARRAY, 0, 0, 8, NULL, address_item,
	  "DNS servers the network's dnsmasq forwards to" },
	{ "ip", RPC_T_STRING, 0, 7, 15, NULL, NULL,
	  "the instance's fixed IP: its DHCP host entry" },
	{ "mac", RPC_T_STRING, 0, 17, 17, NULL, NULL, NULL },
	{ NULL },
};

static const struct rpc_field nic_item[] = {
	{ NULL, RPC_T_OBJECT, 0, 0, 0, NULL, nic_members, NULL },
	{ NULL },
};

/* An image file in the image store, which compute hosts share with
 * novafs (the same path on every host: shared storage). */
#define IMAGE_FILE_MEMBERS(path_doc) \
	{ "id", RPC_T_UUID, 0, 0, 0, NULL, NULL, "the image's UUID" }, \
	{ "name", RPC_T_NAME, 0, 0, 0, NULL, NULL, "its name in the mount" }, \
	{ "path", RPC_T_STRING, 0, 2, 4095, NULL, NULL, path_doc }

static const struct rpc_field image_file_members[] = {
	IMAGE_FILE_MEMBERS("the absolute path of its bytes in the image store, "
			   "which is IMAGE_DIR/ID: a host takes no other path "
			   "(its `image_dir`); it only reads the file"),
	{ NULL },
};

/* The image an instance boots from: its disk, and for direct kernel
 * boot the kernel and ramdisk images it names. */
static const struct rpc_field image_members[] = {
	IMAGE_FILE_MEMBERS("the absolute path of its bytes in the image store, "
			   "which is IMAGE_DIR/ID: a host takes no other path "
			   "(its `image_dir`), as the backing file of the "
			   "instance's disk, which it never writes"),
	{ "disk_format", RPC_T_ENUM, 0, 0, 0, rpc_disk_formats, NULL,
	  "qcow2 or raw: the backing file's format; iso: attached as a "
	  "CD-ROM, read-only; ami: a raw disk" },
	{ "size", RPC_T_INT, 0, 0, RPC_MAX_IMAGE_BYTES, NULL, NULL,
	  "the image file's size in bytes" },
	{ "virtual_size", RPC_T_INT, 0, 0, RPC_MAX_IMAGE_BYTES, NULL, NULL,
	  "the disk's size in bytes as the guest sees it (a qcow2's virtual "
	  "size, else the file's size): the instance's disk is the larger of "
	  "it and the flavor's disk_gb" },
	{ "kernel", RPC_T_OBJECT, RPC_OPTIONAL, 0, 0, NULL, image_file_members,
	  "boot this kernel directly (with a serial console) instead of from "
	  "the disk" },
	{ "ramdisk", RPC_T_OBJECT, RPC_OPTIONAL, 0, 0, NULL, image_file_members,
	  "the initrd of a direct kernel boot" },
	{ NULL },
};

/* The instance object a compute host is sent. */
static const struct rpc_field instance_members[] = {
	{ "uuid", RPC_T_UUID, 0, 0, 0, NULL, NULL,
	  "the instance's UUID, also its libvirt domain's" },
	{ "name", RPC_T_NAME, 0, 0, 0, NULL, NULL, "its name in the mount" },
	{ "flavor", RPC_T_NAME, 0, 0, 0, NULL, NULL, "its flavor's name" },
	RPC_FLAVOR_SIZES,
	{ "nics", RPC_T_ARRAY, RPC_OPTIONAL, 0, RPC_MAX_NICS, NULL, nic_item,
	  "(1.3: start, reboot, rebuild and resize) one per network, in order: the "
	  "host makes each libvirt network it lacks and the instance's DHCP "
	  "host entry, and attaches a NIC with that MAC" },
	{ "image", RPC_T_OBJECT, RPC_OPTIONAL, 0, 0, NULL, image_members,
	  "(1.4: start, reboot, rebuild and resize) absent: the instance boots "
	  "diskless.  Present: its disk is a qcow2 overlay on the image, made "
	  "by the host when the domain is defined and removed with it; "
	  "rebuild makes it again from the image" },
	{ NULL },
};

static const struct rpc_field instance_ref_members[] = {
	{ "uuid", RPC_T_UUID, 0, 0, 0, NULL, NULL, NULL },
	{ "name", RPC_T_NAME, 0, 0, 0, NULL, NULL, NULL },
	{ NULL },
};

static const struct rpc_field power_args[] = {
	{ "instance", RPC_T_OBJECT, 0, 0, 0, NULL, instance_members, NULL },
	{ "expected_task_state", RPC_T_ENUM, 0, 0, 0, task_state_wire_names, NULL,
	  "the task novafs started; the host echoes it in its instance_update" },
	{ NULL },
};

static const struct rpc_field start_args[] = {
	{ "instance", RPC_T_OBJECT, 0, 0, 0, NULL, instance_members, NULL },
	{ "expected_task_state", RPC_T_ENUM, 0, 0, 0, task_state_wire_names, NULL,
	  NULL },
	{ "limits", RPC_T_OBJECT, RPC_OPTIONAL, 0, 0, NULL, rpc_limits_members,
	  "sent when the scheduler placed the instance here (its `limits`): "
	  "the most vCPUs, MB and GB this host may hold once it holds the "
	  "instance; a host that would hold more refuses" },
	{ NULL },
};

static const struct rpc_field stop_args[] = {
	{ "instance", RPC_T_OBJECT, 0, 0, 0, NULL, instance_members, NULL },
	{ "expected_task_state", RPC_T_ENUM, 0, 0, 0, task_state_wire_names, NULL,
	  NULL },
	{ "clean_shutdown", RPC_T_BOOL, RPC_OPTIONAL, 0, 0, NULL, NULL,
	  "true: ask the guest to shut down (ACPI) and power it off only after "
	  "the host's `shutdown_timeout`; false or absent: power off at once" },
	{ NULL },
};

static const char *const reboot_types[] = { "SOFT", "HARD", NULL };

static const struct rpc_field reboot_args[] = {
	{ "instance", RPC_T_OBJECT, 0, 0, 0, NULL, instance_members, NULL },
	{ "expected_task_state", RPC_T_ENUM, 0, 0, 0, task_state_wire_names, NULL,
	  NULL },
	{ "reboot_type", RPC_T_ENUM, 0, 0, 0, reboot_types, NULL,
	  "SOFT: the guest reboots itself (ACPI), and is reset hard after "
	  "`shutdown_timeout` if it has not; HARD: power off and on" },
	{ NULL },
};

static const struct rpc_field terminate_args[] = {
	{ "instance", RPC_T_OBJECT, 0, 0, 0, NULL, instance_ref_members, NULL },
	{ NULL },
};

static const struct rpc_field state_members[] = {
	{ "exists", RPC_T_BOOL, 0, 0, 0, NULL, NULL,
	  "whether the host has a domain for it" },
	{ "power_state", RPC_T_ENUM, 0, 0, 0, power_state_names, NULL, NULL },
	{ "flavor", RPC_T_NAME, RPC_OPTIONAL | RPC_NULLABLE, 0, 0, NULL, NULL,
	  "the flavor its domain was defined with; null or absent without a "
	  "domain (and from 1.0 hosts)" },
	{ NULL },
};

static const struct rpc_field state_result = {
	NULL, RPC_T_OBJECT, 0, 0, 0, NULL, state_members, NULL
};

static const struct rpc_field no_args[] = { { NULL } };

static const struct rpc_field null_result = {
	NULL, RPC_T_NULL, 0, 0, 0, NULL, NULL, NULL
};

const struct rpc_method_decl compute_start_instance = {
	&compute_service, "start_instance", RPC_CAST, "1.4", RPC_ROLE_API,
	start_args, NULL,
	"Defines the instance's domain if it has none and starts it unless it "
	"runs (a paused one is resumed); reports `instance_update`.  With "
	"`limits` (a placement), the host first claims the instance's sizes "
	"against its own count of what its domains and claims in progress "
	"hold: when they do not fit it defines nothing and reports `error` "
	"with fault `ComputeResourcesUnavailable`, and novafs asks the "
	"scheduler for another host."
};

const struct rpc_method_decl compute_stop_instance = {
	&compute_service, "stop_instance", RPC_CAST, "1.1", RPC_ROLE_API,
	stop_args, NULL,
	"Powers the domain off if it runs (cleanly, with `clean_shutdown`); "
	"reports `instance_update`."
};

const struct rpc_method_decl compute_reboot_instance = {
	&compute_service, "reboot_instance", RPC_CAST, "1.4", RPC_ROLE_API,
	reboot_args, NULL,
	"Reboots the domain, starting it if it is not running; reports "
	"`instance_update` (active once it runs again)."
};

const struct rpc_method_decl compute_pause_instance = {
	&compute_service, "pause_instance", RPC_CAST, "1.1", RPC_ROLE_API,
	power_args, NULL,
	"Pauses the running domain (its vCPUs stop, its memory stays); "
	"reports `instance_update` (paused)."
};

const struct rpc_method_decl compute_unpause_instance = {
	&compute_service, "unpause_instance", RPC_CAST, "1.1", RPC_ROLE_API,
	power_args, NULL,
	"Resumes a paused domain; reports `instance_update` (active)."
};

const struct rpc_method_decl compute_suspend_instance = {
	&compute_service, "suspend_instance", RPC_CAST, "1.1", RPC_ROLE_API,
	power_args, NULL,
	"Saves the domain's memory to disk and stops it (libvirt's managed "
	"save); reports `instance_update` (suspended)."
};

const struct rpc_method_decl compute_resume_instance = {
	&compute_service, "resume_instance", RPC_CAST, "1.1", RPC_ROLE_API,
	power_args, NULL,
	"Restores a suspended domain from its saved memory; reports "
	"`instance_update` (active)."
};

const struct rpc_method_decl compute_rebuild_instance = {
	&compute_service, "rebuild_instance", RPC_CAST, "1.4", RPC_ROLE_API,
	power_args, NULL,
	"Destroys the domain and defines it again from the instance as sent "
	"(its flavor; its disk made again from its image), then starts it; "
	"reports `instance_update` (active)."
};

const struct rpc_method_decl compute_resize_instance = {
	&compute_service, "resize_instance", RPC_CALL, "1.4", RPC_ROLE_API,
	power_args, &null_result,
	"Redefines the stopped domain with the sizes of `instance` (its new "
	"flavor), in place.  A call: the host answers once it is done, or "
	"refuses with `ComputeResourcesUnavailable` when it has no room for "
	"the growth, and the domain stays as it was.  novafs records the "
	"outcome from the answer; no `instance_update` follows."
};

const struct rpc_method_decl compute_terminate_instance = {
	&compute_service, "terminate_instance", RPC_CAST, "1.0", RPC_ROLE_API,
	terminate_args, NULL,
	"Destroys and undefines the domain, deletes its disk overlay, removes "
	"its DHCP host entries, "
	"and removes a libvirt network of novafs's that no domain on the "
	"host uses any more; does nothing when it is already gone.  A cast, as Nova's: novafs forgets the instance once the broker "
	"has the request, which waits in the host's durable queue if the host "
	"is stopped."
};

const struct rpc_method_decl compute_get_instance_state = {
	&compute_service, "get_instance_state", RPC_CALL, "1.1", RPC_ROLE_API,
	terminate_args, &state_result,
	"What the hypervisor says of the instance's domain now: how novafs "
	"learns the outcome of a task whose report never came."
};

const struct rpc_method_decl compute_publish_service_capabilities = {
	&compute_service, "publish_service_capabilities", RPC_FANOUT, "1.0",
	RPC_ROLE_API | RPC_ROLE_SCHEDULER, no_args, NULL,
	"Asks every compute host to send `update_service_capabilities` now."
};

static const struct rpc_method_decl *const compute_methods[] = {
	&compute_start_instance,
	&compute_stop_instance,
	&compute_reboot_instance,
	&compute_pause_instance,
	&compute_unpause_instance,
	&compute_suspend_instance,
	&compute_resume_instance,
	&compute_rebuild_instance,
	&compute_resize_instance,
	&compute_terminate_instance,
	&compute_get_instance_state,
	&compute_publish_service_capabilities,
	NULL,
};

const struct rpc_service_decl compute_service = {
	"compute", "1.4", NULL, RPC_ROLE_COMPUTE, compute_methods,
	"novafs-compute, one per hypervisor host, consumes `compute` (shared), "
	"`compute.HOST` and its fanout.  Every handler is idempotent: starting "
	"a running domain, stopping a stopped one or terminating a missing one "
	"succeeds and reports the state as it is."
};
