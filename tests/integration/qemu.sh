#!/usr/bin/env bash
# qemu.sh - the compute host on a real hypervisor, qemu:///system, with
# virt_type qemu (TCG: it runs wherever QEMU does), driven over the bus:
# two diskless domains (the firmware finds nothing to boot and idles, and
# ignores ACPI, which makes every clean stop and soft reboot take the
# shutdown_timeout fallback) through start, pause, unpause, suspend,
# resume, a clean stop (while it waits, the other domain is served), start,
# soft and hard reboot, virsh destroy behind the host's back (synced
# within 2 s), the serial console as console_output, and terminate, after
# which `virsh list --all` shows none of its domains.  Needs libvirtd and
# QEMU (started here when libvirtd does not run; exit 77 where it cannot).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"

URI=qemu:///system
A=7c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e01
Bu=7c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e02
CONSOLE=$TEST_TMP/console
HEARD=$LOGS/listener.log
NODE1_LOG=$LOGS/compute-node1.log
TIMEOUT=3

inst() { echo "{\"uuid\":\"$1\",\"name\":\"q$2\",\"flavor\":\"m1.nano\",\"vcpus\":1,\"memory_mb\":64,\"disk_gb\":0}"; }
args() { echo "{\"instance\":$(inst "$1" "$2"),\"expected_task_state\":\"$3\"${4:+,$4}}"; }

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "# skip: qemu-system-x86_64 is not installed (tests/lib/deps.sh: DEPS_QEMU)"
	exit 77
fi
libvirtd_require
cleanup() {
	local u
	stop_stack
	for u in "$A" "$Bu"; do
		virsh -q -c "$URI" destroy "instance-$u" >/dev/null 2>&1
		virsh -q -c "$URI" undefine --managed-save "instance-$u" >/dev/null 2>&1
	done
	libvirtd_stop
}
trap cleanup EXIT

# reported UUID TASK VM POWER: an instance_update for UUID echoing TASK
# says VM/POWER without a fault.
count_reports() {
	grep '"method":"instance_update"' "$HEARD" | jq -c --arg u "$1" --arg t "$2" \
		--arg v "$3" --arg p "$4" \
		'select(.sender == "compute-node1" and .args.uuid == $u and
			.args.expected_task_state == $t and .args.vm_state == $v and
			.args.power_state == $p and .args.fault == null)' | wc -l
}
reported() { [ "$(count_reports "$@")" -ge 1 ]; }
# act DESC UUID N METHOD TASK VM POWER [EXTRA]: casts, waits for the report.
act() {
	local desc=$1 u=$2 n=$3 method=$4 task=$5 vm=$6 power=$7 extra=${8:-}
	local before
	before=$(count_reports "$u" "$task" "$vm" "$power")
	rpc_as novafs cast compute.node1 "$method" "$(args "$u" "$n" "$task" "$extra")" >/dev/null
	more() { [ "$(count_reports "$u" "$task" "$vm" "$power")" -gt "$before" ]; }
	if wait_for 30 more; then
		ok "$desc: $vm/$power"
	else
		not_ok "$desc: $vm/$power"
		grep instance_update "$HEARD" | tail -n 3 | sed 's/^/#   /'
	fi
}
synced() {
	grep '"method":"sync_power_states"' "$HEARD" | tail -n 1 |
		jq -e --arg u "$1" --arg p "$2" \
		'.args.domains | index({power_state: $p, uuid: $u}) != null' >/dev/null
}
# console UUID: everything console_output said of UUID, in order.
console() {
	grep '"method":"console_output"' "$HEARD" |
		jq -j --arg u "$1" 'select(.sender == "compute-node1" and .args.uuid == $u and
			.args.host == "node1") | .args.data'
}
console_says() { console "$1" | grep -q "$2"; }
ours() { virsh -q -c "$URI" list --all --name | grep -E "instance-($A|$Bu)"; }

spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$HEARD" || diag "listener did not start"
REPORT_INTERVAL=60 start_compute node1 --libvirt-uri "$URI" --virt-type qemu \
	--console-dir "$CONSOLE" --shutdown-timeout "$TIMEOUT"
check "node1 serves qemu:///system" wait_for 10 grep -q "serving topic compute (libvirt $URI, virt type qemu)" "$NODE1_LOG"

act "start A" "$A" 1 start_instance spawning active running
act "start B" "$Bu" 2 start_instance spawning active running
check_eq "virsh: A runs, a qemu domain" \
	"$(virsh -q -c "$URI" domstate "instance-$A") $(virsh -q -c "$URI" dumpxml "instance-$A" | grep -o "<domain type='qemu'")" \
	"running <domain type='qemu'"
check "A's console: the firmware's banner, as console_output" wait_for 30 console_says "$A" "SeaBIOS"
check "... up to its last words" wait_for 30 console_says "$A" "No bootable device"
check "the log file is virtlogd's, in the console directory" test -s "$CONSOLE/instance-$A.log"

act "pause A" "$A" 1 pause_instance pausing paused paused
act "pause A again" "$A" 1 pause_instance pausing paused paused
act "unpause A" "$A" 1 unpause_instance unpausing active running
act "suspend A" "$A" 1 suspend_instance suspending suspended suspended
check_eq "virsh: A is saved" "$(virsh -q -c "$URI" list --all --managed-save | awk -v d="instance-$A" '$2 == d {print $3}')" "saved"
act "resume A" "$A" 1 resume_instance resuming active running

# A clean stop: the idle firmware ignores ACPI, so the host powers A off
# after the timeout; meanwhile B is served.
t0=$SECONDS
rpc_as novafs cast compute.node1 stop_instance "$(args "$A" 1 powering-off '"clean_shutdown":true')" >/dev/null
act "while A's guest is waited for, pause B" "$Bu" 2 pause_instance pausing paused paused
check "... B's report came before A's" sh -c "! grep -q '\"expected_task_state\":\"powering-off\"' '$HEARD'"
check "A's clean stop ends in stopped/shutdown" wait_for 30 reported "$A" powering-off stopped shutdown
check "... after the shutdown timeout" test $((SECONDS - t0)) -ge $((TIMEOUT - 1))
check "... which the host logged" grep -q "instance $A (q1): the guest did not shut down within $TIMEOUT s: powering it off" "$NODE1_LOG"

act "start A" "$A" 1 start_instance powering-on active running
act "soft reboot of A (ACPI ignored: hard after the timeout)" "$A" 1 reboot_instance rebooting active running '"reboot_type":"SOFT"'
act "hard reboot of A" "$A" 1 reboot_instance rebooting_hard active running '"reboot_type":"HARD"'
act "hard stop of B, paused" "$Bu" 2 stop_instance powering-off stopped shutdown

virsh -q -c "$URI" destroy "instance-$A" >/dev/null
check "virsh destroy behind the host's back: synced within 2 s" within_ms 2000 synced "$A" shutdown
check_eq "get_instance_state agrees" \
	"$(rpc_as novafs call compute.node1 get_instance_state "{\"instance\":{\"uuid\":\"$A\",\"name\":\"q1\"}}" | jq -cS .)" \
	'{"exists":true,"flavor":"m1.nano","power_state":"shutdown"}'

for u in "$A" "$Bu"; do
	rpc_as novafs cast compute.node1 terminate_instance "{\"instance\":{\"uuid\":\"$u\",\"name\":\"q\"}}"
done
check "terminate_instance deletes both" wait_for 20 \
	sh -c "grep -q 'terminate_instance instance $A: deleted' '$NODE1_LOG' && grep -q 'terminate_instance instance $Bu: deleted' '$NODE1_LOG'"
check_eq "virsh list --all shows none of them" "$(ours)" ""
check "their console logs went with them" test ! -e "$CONSOLE/instance-$A.log"

done_testing
