#!/usr/bin/env bash
# qemu_mount.sh - a real QEMU guest (qemu:///system, virt_type qemu: TCG,
# which runs wherever QEMU does) driven as a user would, through the mount:
# start, pause, unpause, suspend, resume, stop, start, reboot, reboot hard,
# `virsh destroy` behind novafs's back (seen within 2 s), its serial
# console, and rmdir, after which `virsh list --all` shows nothing of it.
# Its NIC is on a network of this run (198.51.100.16/28, a documentation
# range): while it lives, the host has that network's bridge and the
# instance's DHCP host entry; after rmdir, neither.
# The guest is diskless: its firmware finds nothing to boot and ignores
# ACPI, so a clean stop and a soft reboot take the shutdown_timeout
# fallback (3 s here).  Needs libvirtd and QEMU (started here when libvirtd
# does not run; exit 77 where it cannot).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"

URI=qemu:///system
I=$MNT/instances
W=$I/q1
NET=qm$$
NETWORK=novafs-$NET
BRIDGE=nvqm$$        # at most 15 bytes

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "# skip: qemu-system-x86_64 is not installed (tests/lib/deps.sh)"
	exit 77
fi
libvirtd_require
DOM=
cleanup() {
	if [ -n "$DOM" ]; then
		virsh -q -c "$URI" destroy "$DOM" >/dev/null 2>&1
		virsh -q -c "$URI" undefine --managed-save "$DOM" >/dev/null 2>&1
	fi
	virsh -q -c "$URI" net-destroy "$NETWORK" >/dev/null 2>&1
	virsh -q -c "$URI" net-undefine "$NETWORK" >/dev/null 2>&1
	ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE" type bridge
	# What libvirt 9.0 leaves of a network it destroyed.
	rm -rf "/run/libvirt/network/$NETWORK" "/run/libvirt/network/$NETWORK.pid"
	stop_stack
	libvirtd_stop
}
trap cleanup EXIT

start_scheduler
start_network
start_compute node1 --libvirt-uri "$URI" --virt-type qemu --shutdown-timeout 3 \
	--console-dir "$TEST_TMP/console"
start_novafs || { not_ok "novafs mounted"; done_testing; exit 1; }
wait_compute node1 || { not_ok "node1 up"; cat "$LOGS/compute-node1.log" >&2; done_testing; exit 1; }

mkdir "$MNT/networks/$NET"
echo 198.51.100.16/28 >"$MNT/networks/$NET/cidr"
echo "$BRIDGE" >"$MNT/networks/$NET/bridge"
mkdir "$W"
echo m1.tiny >"$W/flavor"
echo "$NET" >"$W/network"
# act CMD STATE POWER: CMD through ctl, then wait says STATE, power POWER.
act() {
	check "$1" sh -c "echo '$1' > $W/ctl"
	check_eq "$1: q1 is $2" "$(timeout 60 cat "$W/wait")" "$2"
	check_eq "$1: power $3" "$(cat "$W/power_state")" "$3"
}
act start active running
DOM=instance-$(cat "$W/id")
check_eq "virsh: the guest runs" "$(virsh -q -c "$URI" domstate "$DOM")" running
check "its serial console shows the firmware" wait_for 20 grep -q "SeaBIOS" "$W/console"
check_eq "q1 has the network's first address" "$(cat "$W/ip")" 198.51.100.18
check "the host has the network's bridge" ip link show "$BRIDGE"
check "with the gateway's address" sh -c "ip -4 addr show $BRIDGE | grep -q 'inet 198.51.100.17/28'"
check "libvirt's network has q1's DHCP host entry" sh -c \
	"virsh -q -c $URI net-dumpxml $NETWORK | grep -q \"<host mac='\$(cat $W/mac)'.*ip='198.51.100.18'\""
check "and forwards nothing off the host" sh -c "! virsh -q -c $URI net-dumpxml $NETWORK | grep -q '<forward'"
check "the guest's NIC is on it" sh -c "virsh -q -c $URI domiflist $DOM | grep -q \"$NETWORK.*\$(cat $W/mac)\""
act pause paused paused
act unpause active running
act suspend suspended suspended
act resume active running
act stop stopped shutdown
act start active running
act reboot active running
act "reboot hard" active running

virsh -q -c "$URI" destroy "$DOM" >/dev/null
check "virsh destroy behind its back: stopped within 2 s" within_ms 2000 file_is "$W/state" stopped
check_eq "power shutdown" "$(cat "$W/power_state")" shutdown

check "rmdir" rmdir "$W"
check "virsh list --all: nothing of it is left" wait_for 20 sh -c \
	"! virsh -q -c $URI list --all --name | grep -qx $DOM"
DOM=
check "the network went with its last instance" wait_for 20 sh -c \
	"! virsh -q -c $URI net-info $NETWORK >/dev/null 2>&1"
check "and its bridge" sh -c "! ip link show $BRIDGE >/dev/null 2>&1"
check "rmdir of the network" rmdir "$MNT/networks/$NET"

done_testing
