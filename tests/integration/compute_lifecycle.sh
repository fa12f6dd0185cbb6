#!/usr/bin/env bash
# compute_lifecycle.sh - every lifecycle method of one compute host on
# test:///default, driven over the bus with rpcctl as novafs: each cast
# twice (handlers are idempotent: the second reports the state as it is),
# exactly one instance_update per cast, a clean stop and a soft reboot,
# resize (a call) with its refusals, get_instance_state's flavor, and
# sync_power_states at startup and every report interval, listing novafs
# domains only.
. "$(dirname "$0")/../lib/common.sh"

UUID=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
INST="{\"uuid\":\"$UUID\",\"name\":\"web1\",\"flavor\":\"m1.small\",\"vcpus\":1,\"memory_mb\":2048,\"disk_gb\":20}"
REF="{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"web1\"}}"
HEARD=$LOGS/listener.log
NODE1_LOG=$LOGS/compute-node1.log

rpc() { rpc_as novafs "$@"; }
args() { echo "{\"instance\":${2:-$INST},\"expected_task_state\":\"$1\"${3:+,$3}}"; }

# clean_reports TASK VM POWER: how many instance_updates for $UUID echoed TASK
# and said VM/POWER with no fault.
clean_reports() {
	grep '^{' "$HEARD" | jq -c --arg u "$UUID" --arg t "$1" --arg v "$2" --arg p "$3" \
		'select(.method == "instance_update" and .sender == "compute-node1" and
			.args.uuid == $u and .args.expected_task_state == $t and
			.args.vm_state == $v and .args.power_state == $p and
			.args.task_state == null and .args.fault == null)' | wc -l
}
updates() { grep -c '"method":"instance_update"' "$HEARD"; }
# at_least N CMD...: CMD prints a number >= N.
# state: get_instance_state of $UUID, keys sorted.
state() { rpc call compute.node1 get_instance_state "$REF" 2>&1 | jq -cS .; }

# twice DESC METHOD TASK VM POWER [EXTRA_ARGS]: casts METHOD twice and
# waits for two more matching reports, and no other update.
twice() {
	local desc=$1 method=$2 task=$3 vm=$4 power=$5 extra=${6:-}
	local before all_before
	before=$(clean_reports "$task" "$vm" "$power")
	all_before=$(updates)
	rpc cast compute.node1 "$method" "$(args "$task" "$INST" "$extra")" >/dev/null &&
		rpc cast compute.node1 "$method" "$(args "$task" "$INST" "$extra")" >/dev/null
	if wait_for 20 at_least $((before + 2)) clean_reports "$task" "$vm" "$power"; then
		ok "$desc: twice, $vm/$power twice"
	else
		not_ok "$desc: twice, $vm/$power twice"
		grep instance_update "$HEARD" | tail -n 4 | sed 's/^/#   /'
	fi
	sleep 0.3
	check_eq "$desc: one report per cast" "$(updates)" $((all_before + 2))
}

# syncs STARTUP: the domains of each sync_power_states node1 sent with
# startup STARTUP, one line each.
syncs() {
	grep '^{' "$HEARD" | jq -c --argjson s "$1" \
		'select(.method == "sync_power_states" and .sender == "compute-node1" and
			.args.host == "node1" and .args.startup == $s) | .args.domains'
}
nsyncs() { syncs "$1" | wc -l; }

spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$HEARD" || diag "listener did not start"
start_compute node1 --shutdown-timeout 3 --test-vcpus 16 --test-memory-mb 3072
check "node1 sends a startup sync" wait_for 10 at_least 1 nsyncs true
check_eq "... listing no domain (the driver's own \"test\" is not novafs's)" \
	"$(syncs true | head -n 1)" "[]"

twice "start_instance" start_instance spawning active running
twice "pause_instance" pause_instance pausing paused paused
twice "unpause_instance" unpause_instance unpausing active running
twice "suspend_instance" suspend_instance suspending suspended suspended
twice "resume_instance" resume_instance resuming active running
twice "reboot_instance SOFT" reboot_instance rebooting active running '"reboot_type":"SOFT"'
twice "reboot_instance HARD" reboot_instance rebooting_hard active running '"reboot_type":"HARD"'
twice "rebuild_instance" rebuild_instance rebuilding active running
twice "stop_instance clean" stop_instance powering-off stopped shutdown '"clean_shutdown":true'
check "the clean stop asked the guest" grep -q "stop_instance instance $UUID (web1): stopped (shutdown)" "$NODE1_LOG"
twice "pausing a stopped domain changes nothing" pause_instance pausing stopped shutdown
twice "a soft reboot of a stopped domain starts it" reboot_instance rebooting active running '"reboot_type":"SOFT"'
twice "stop_instance hard" stop_instance powering-off stopped shutdown '"clean_shutdown":false'
twice "stop_instance without clean_shutdown" stop_instance powering-off stopped shutdown

# Resize, a call, of the stopped m1.small (1 vCPU, 2,048 MB, 20 GB) on a
# host of 16 CPUs and 3,072 MB.
MEDIUM=${INST/\"m1.small\",\"vcpus\":1,\"memory_mb\":2048/\"m1.medium\",\"vcpus\":2,\"memory_mb\":4096}
TINY=${INST/\"m1.small\",\"vcpus\":1,\"memory_mb\":2048,\"disk_gb\":20/\"m1.tiny\",\"vcpus\":1,\"memory_mb\":512,\"disk_gb\":1}
check_eq "get_instance_state says the flavor" \
	"$(state)" '{"exists":true,"flavor":"m1.small","power_state":"shutdown"}'
check_fails "resize to m1.medium: no room, ComputeResourcesUnavailable" \
	"ComputeResourcesUnavailable: Insufficient compute resources: memory_mb: 2048 more needed, 1024 free" \
	rpc call compute.node1 resize_instance "$(args resizing "$MEDIUM")"
rpc call compute.node1 resize_instance "$(args resizing "$MEDIUM")" >/dev/null 2>&1
check_eq "... which exits with ENOSPC" "$?" 28
check_eq "... and the domain is as it was" \
	"$(state)" '{"exists":true,"flavor":"m1.small","power_state":"shutdown"}'
check_eq "resize to m1.tiny answers null" \
	"$(rpc call compute.node1 resize_instance "$(args resizing "$TINY")" 2>&1)" "null"
check_eq "... twice" \
	"$(rpc call compute.node1 resize_instance "$(args resizing "$TINY")" 2>&1)" "null"
check_eq "... and the domain has the new flavor" \
	"$(state)" '{"exists":true,"flavor":"m1.tiny","power_state":"shutdown"}'
check "... and the new sizes in the heartbeat" wait_for 10 \
	grep -q "resize_instance instance $UUID (web1): now m1.tiny (1 vCPUs, 512 MB, 1 GB)" "$NODE1_LOG"
twice "start after the resize" start_instance powering-on active running
check_fails "a running domain is not resized: InstanceInvalidState" \
	"InstanceInvalidState: instance $UUID must be stopped to be resized" \
	rpc call compute.node1 resize_instance "$(args resizing "$TINY")"
check "no resize ever reported an instance_update" \
	sh -c "! grep -q '\"expected_task_state\":\"resizing\"' '$HEARD'"

# Periodic syncs (every report interval, 2 s here) list the domain.
listed() { syncs false | jq -e --arg u "$UUID" 'select(. == [{uuid: $u, power_state: "running"}])' >/dev/null; }
check "a periodic sync lists the running domain" wait_for 10 listed
n=$(nsyncs false)
check "... and another follows" wait_for 10 at_least $((n + 1)) nsyncs false

check "terminate_instance" rpc cast compute.node1 terminate_instance "$REF"
check "... deletes the domain" wait_for 10 grep -q "terminate_instance instance $UUID: deleted" "$NODE1_LOG"
check_eq "get_instance_state of a missing domain: flavor null" \
	"$(state)" '{"exists":false,"flavor":null,"power_state":"nostate"}'
twice "pausing a missing domain reports it stopped" pause_instance pausing stopped nostate

# A restarted host says so.
stop compute-node1
n=$(nsyncs true)
start_compute node1 --test-vcpus 16 --test-memory-mb 3072
check "a restarted host sends a startup sync again" wait_for 10 at_least $((n + 1)) nsyncs true
others() { syncs true; syncs false; }
check_eq "no sync listed a domain that is not novafs's" \
	"$(others | jq -r '.[].uuid' | sort -u)" "$UUID"

done_testing
