#!/usr/bin/env bash
# qemu_networks.sh - a NIC on a real hypervisor, qemu:///system with
# virt_type qemu (TCG), driven over the bus: a start with one NIC on
# 203.0.113.0/28 (a documentation range) makes a Linux bridge, an isolated
# libvirt network with the instance's DHCP host entry and its dnsmasq, and
# a guest with a virtio NIC on that network; terminate takes the domain,
# the network and the bridge.  The guest is diskless and sends nothing;
# nothing is forwarded off the host.  Names are of this run alone, and
# the EXIT trap removes whatever the test made, also when it fails.  Needs
# libvirtd and QEMU (started here when libvirtd does not run; exit 77
# where it cannot).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"

URI=qemu:///system
UA=7d1e2f3a-4b5c-4d6e-8f7a-0b1c2d3e4f01
NET=nvq$$
NETWORK=novafs-$NET
BRIDGE=nvfst$$        # at most 12 bytes: IFNAMSIZ is 16
HOSTIF=nvhif$$
MAC=fa:16:3e:7d:00:01
HEARD=$LOGS/listener.log
NODE1_LOG=$LOGS/compute-node1.log

NIC="{\"network\":\"$NET\",\"bridge\":\"$BRIDGE\",\"cidr\":\"203.0.113.0/28\",\"gateway\":\"203.0.113.1\",\"dhcp_start\":\"203.0.113.2\",\"dhcp_end\":\"203.0.113.14\",\"dns\":[],\"ip\":\"203.0.113.5\",\"mac\":\"$MAC\"}"
INST="{\"uuid\":\"$UA\",\"name\":\"qn1\",\"flavor\":\"m1.nano\",\"vcpus\":1,\"memory_mb\":64,\"disk_gb\":0,\"nics\":[$NIC]}"

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "# skip: qemu-system-x86_64 is not installed (tests/lib/deps.sh: DEPS_QEMU)"
	exit 77
fi
libvirtd_require
cleanup() {
	stop_stack
	virsh -q -c "$URI" destroy "instance-$UA" >/dev/null 2>&1
	virsh -q -c "$URI" undefine --managed-save "instance-$UA" >/dev/null 2>&1
	virsh -q -c "$URI" net-destroy "$NETWORK" >/dev/null 2>&1
	virsh -q -c "$URI" net-undefine "$NETWORK" >/dev/null 2>&1
	# libvirt takes its bridge down with the network; in case it did not.
	ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE" type bridge
	ip link show "$HOSTIF" >/dev/null 2>&1 && ip link delete "$HOSTIF"
	# What libvirt 9.0 leaves of a network it destroyed: dnsmasq's pid
	# file, its ports' directory.
	no_network && rm -rf "/run/libvirt/network/$NETWORK" "/run/libvirt/network/$NETWORK.pid"
	libvirtd_stop
}
trap cleanup EXIT

# clean_reports VM: how many instance_updates for $UA said VM with no fault.
clean_reports() {
	grep '"method":"instance_update"' "$HEARD" | jq -c --arg u "$UA" --arg v "$1" \
		'select(.args.uuid == $u and .args.vm_state == $v and .args.fault == null)' | wc -l
}
# dnsmasq_runs PID: PID is the dnsmasq of $NETWORK.
dnsmasq_runs() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = dnsmasq ] &&
		tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "$NETWORK.conf"
}
no_network() { ! virsh -q -c "$URI" net-info "$NETWORK" >/dev/null 2>&1; }
no_bridge() { ! ip link show "$BRIDGE" >/dev/null 2>&1; }
no_domain() { ! virsh -q -c "$URI" dominfo "instance-$UA" >/dev/null 2>&1; }

spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$HEARD" || diag "listener did not start"
REPORT_INTERVAL=60 start_compute node1 --libvirt-uri "$URI" --virt-type qemu
check "node1 serves qemu:///system" wait_for 10 grep -q "serving topic compute (libvirt $URI, virt type qemu)" "$NODE1_LOG"

check "start qn1 with a NIC on 203.0.113.0/28" rpc_as novafs cast compute.node1 \
	start_instance "{\"instance\":$INST,\"expected_task_state\":\"spawning\"}"
if wait_for 60 at_least 1 clean_reports active; then
	ok "... reports active"
else
	not_ok "... reports active"
	grep instance_update "$HEARD" | tail -n 3 | sed 's/^/#   /'
fi
check "the bridge $BRIDGE exists" ip link show "$BRIDGE"
check "$NETWORK has qn1's DHCP host entry" sh -c \
	"virsh -q -c $URI net-dumpxml $NETWORK | grep -q \"<host mac='$MAC' name='qn1' ip='203.0.113.5'/>\""
check "... is isolated: no <forward>" sh -c \
	"virsh -q -c $URI net-dumpxml $NETWORK | grep -q '<ip address=.203.0.113.1. netmask=.255.255.255.240.>' &&
	 ! virsh -q -c $URI net-dumpxml $NETWORK | grep -q '<forward'"
DNSMASQ=$(cat "/run/libvirt/network/$NETWORK.pid" 2>/dev/null)
check "a dnsmasq serves it" dnsmasq_runs "$DNSMASQ"
check "... and knows the entry" grep -q "$MAC,203.0.113.5,qn1" "/var/lib/libvirt/dnsmasq/$NETWORK.hostsfile"
check_eq "the guest runs, its NIC on the bridge" \
	"$(virsh -q -c "$URI" domstate "instance-$UA") $(virsh -q -c "$URI" domiflist "instance-$UA" | awk '{print $2, $3, $4, $5}')" \
	"running network $NETWORK virtio $MAC"

check "terminate qn1" rpc_as novafs cast compute.node1 terminate_instance \
	"{\"instance\":{\"uuid\":\"$UA\",\"name\":\"qn1\"}}"
check "... deletes its domain" wait_for 30 grep -q "terminate_instance instance $UA: deleted" "$NODE1_LOG"
check "the domain is gone" no_domain
check "the network is gone" no_network
check "the bridge is gone" wait_for 10 no_bridge
dnsmasq_gone() { ! dnsmasq_runs "$DNSMASQ"; }
check "its dnsmasq is gone" wait_for 10 dnsmasq_gone

# A network whose range the host has already (here on an empty bridge of
# this test's; on a machine whose own network is 192.0.2.0/24, the
# network default): libvirt refuses to start it, the start fails with
# that reason, and the network is not left defined.
ip link add "$HOSTIF" type bridge && ip addr add 203.0.113.33/28 dev "$HOSTIF" &&
	ip link set "$HOSTIF" up
CLASH=$(printf '%s' "$NIC" | sed 's/203\.0\.113\.0\/28/203.0.113.32\/28/; s/203\.0\.113\.1"/203.0.113.34"/;
	s/203\.0\.113\.2"/203.0.113.35"/; s/203\.0\.113\.14"/203.0.113.46"/; s/203\.0\.113\.5"/203.0.113.40"/')
check "start qn1 on a range the host has" rpc_as novafs cast compute.node1 start_instance \
	"{\"instance\":$(printf '%s' "$INST" | sed "s|\"nics\":\[.*\]|\"nics\":[$CLASH]|"),\"expected_task_state\":\"spawning\"}"
check "... fails, saying libvirt's reason" wait_for 30 grep -q \
	"start_instance instance $UA (qn1): error.*LibvirtError:.*$HOSTIF" "$NODE1_LOG"
check "... and leaves no network defined" no_network
check "... nor a domain" no_domain
ip link delete "$HOSTIF"

done_testing
