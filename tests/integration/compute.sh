#!/usr/bin/env bash
# compute.sh - the scheduler and one compute host on test:///default, driven
# over the bus with rpcctl as the novafs user: scheduling, NoValidHost, the
# power actions and their instance_update reports, terminate, the
# dispatcher's refusals, malformed and forged heartbeats and requests, and
# a host that goes away.
. "$(dirname "$0")/../lib/common.sh"

UUID=6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6b
INSTANCE="{\"uuid\":\"$UUID\",\"name\":\"web1\",\"flavor\":\"m1.small\",\"vcpus\":1,\"memory_mb\":2048,\"disk_gb\":20}"
SMALL='{"instance_uuid":"'$UUID'","flavor":{"name":"m1.small","vcpus":1,"memory_mb":2048,"disk_gb":20}}'
# Other instances: a new request for the same one would replace its claim.
SECOND='{"instance_uuid":"6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6c","flavor":{"name":"m1.small","vcpus":1,"memory_mb":2048,"disk_gb":20}}'
HUGE='{"instance_uuid":"6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6d","flavor":{"name":"m1.huge","vcpus":1,"memory_mb":262144,"disk_gb":20}}'
UPDATES=$LOGS/listener.log
SCHED_LOG=$LOGS/scheduler.log
NODE1_LOG=$LOGS/compute-node1.log

rpc() { rpc_as novafs "$@"; }

# update_seen TASK VM_STATE POWER_STATE: the listener printed an
# instance_update for $UUID from compute-node1 echoing expected_task_state
# TASK.
update_seen() {
	grep '^{' "$UPDATES" | jq -e --arg u "$UUID" --arg t "$1" --arg v "$2" --arg p "$3" \
		'select(.method == "instance_update" and .sender == "compute-node1" and
			.args.uuid == $u and .args.expected_task_state == $t) |
		 select(.args.vm_state == $v and .args.power_state == $p and
			.args.task_state == null and .args.host == "node1" and
			.args.fault == null)' | grep -q .
}

# logged FILE PATTERN: FILE has a line matching PATTERN (within 5 s).
logged() { wait_for 5 grep -q -- "$2" "$1"; }

# No overcommit: a test host of 3 GB holds one m1.small (2 GB), not two.
start_scheduler --ram-allocation-ratio 1.0
start_compute node1 --test-vcpus 16 --test-memory-mb 3072
if ! wait_compute node1; then
	not_ok "scheduler hears from node1"
	cat "$LOGS"/*.log >&2
	done_testing
	exit 1
fi
ok "scheduler hears from node1"

spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$UPDATES" || diag "listener did not start"

check_eq "select_destinations picks node1, with its limits" \
	"$(rpc call scheduler select_destinations "$SMALL" | jq -c '{host, limits: (.limits | keys)}')" \
	'{"host":"node1","limits":["disk_gb","memory_mb","vcpus"]}'
check_fails "a flavor too big: NoValidHost" \
	"NoValidHost: No valid host: 0/1 hosts passed; RamFilter rejected node1 (.* MB free, 262144 MB needed)" \
	rpc call scheduler select_destinations "$HUGE"
rpc call scheduler select_destinations "$HUGE" >/dev/null 2>&1
check_eq "NoValidHost exits with EHOSTUNREACH" "$?" 113

check "start_instance is cast" rpc cast compute.node1 start_instance \
	"{\"instance\":$INSTANCE,\"expected_task_state\":\"spawning\"}"
if wait_for 10 update_seen spawning active running; then
	ok "start_instance reports active/running"
else
	not_ok "start_instance reports active/running"
	sed 's/^/#   /' "$UPDATES"
fi

check "start_instance again is cast" rpc cast compute.node1 start_instance \
	"{\"instance\":$INSTANCE,\"expected_task_state\":\"powering-on\"}"
if wait_for 10 update_seen powering-on active running; then
	ok "starting a running instance reports active again"
else
	not_ok "starting a running instance reports active again"
fi

check "stop_instance is cast" rpc cast compute.node1 stop_instance \
	"{\"instance\":$INSTANCE,\"expected_task_state\":\"powering-off\"}"
if wait_for 10 update_seen powering-off stopped shutdown; then
	ok "stop_instance reports stopped/shutdown"
else
	not_ok "stop_instance reports stopped/shutdown"
fi

check_fails "while web1 exists, a second m1.small does not fit" "RamFilter rejected node1" \
	rpc call scheduler select_destinations "$SECOND"
check_eq "get_instance_state of a stopped instance" \
	"$(rpc call compute.node1 get_instance_state "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"web1\"}}" 2>&1 | jq -cS .)" \
	'{"exists":true,"flavor":"m1.small","power_state":"shutdown"}'
check "terminate_instance is cast" \
	rpc cast compute.node1 terminate_instance "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"web1\"}}"
check "node1 deletes the domain" wait_for 10 \
	grep -q "terminate_instance instance $UUID: deleted" "$NODE1_LOG"
check "terminating a missing instance is fine too" \
	rpc cast compute.node1 terminate_instance "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"web1\"}}"
check_eq "and get_instance_state says it is gone" \
	"$(rpc call compute.node1 get_instance_state "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"web1\"}}" 2>&1 | jq -cS .)" \
	'{"exists":false,"flavor":null,"power_state":"nostate"}'

# What the declarations refuse, on the compute host's side of the bus.
check_fails "get_instance_state without a uuid: InvalidInput" \
	"InvalidInput: get_instance_state: instance.uuid: missing" \
	rpc call compute.node1 get_instance_state '{"instance":{"name":"web1"}}' --unchecked
check_fails "a 4,096-vCPU instance: InvalidInput" "out of range 1..128" \
	rpc call compute.node1 start_instance \
	"{\"instance\":${INSTANCE/\"vcpus\":1/\"vcpus\":4096},\"expected_task_state\":\"spawning\"}" --unchecked
check_fails "an unknown method: NoSuchMethod" \
	"NoSuchMethod: Endpoint does not support RPC method migrate_instance" \
	rpc call compute.node1 migrate_instance "{}"
rpc call compute.node1 get_instance_state "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"web1\"}}" --version 2.0 >/dev/null 2>&1
check_eq "version 2.0: UnsupportedVersion exits with EPROTONOSUPPORT" "$?" 93
check_fails "version 2.0: as oslo says it" \
	"UnsupportedVersion: Endpoint does not support RPC version 2.0. Attempted method: get_instance_state" \
	rpc call compute.node1 get_instance_state "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"web1\"}}" --version 2.0
check_fails "namespace baseapi: UnsupportedVersion" \
	"Endpoint does not support RPC version 1.1. Attempted method: get_instance_state" \
	rpc call compute.node1 get_instance_state "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"web1\"}}" --namespace baseapi
check "each refusal was logged by node1" \
	logged "$NODE1_LOG" "refused start_instance on compute.node1 from novafs: InvalidInput: start_instance: instance.vcpus: 4096 is out of range"
check "the 4,096-vCPU instance was never reported" \
	test "$(grep -c '"method":"instance_update"' "$UPDATES")" = 3

# Heartbeats the scheduler drops: malformed, mistyped, of an unknown
# service, or for another host; each with a log line, none changing what
# it knows of node1.
hb() { rpc_as "$1" fanout scheduler update_service_capabilities "$2" --unchecked; }
check "a mistyped heartbeat is sent" \
	hb compute-node1 '{"binary":"novafs-compute","host":"node1","up":true,"vcpus":"lots"}'
check "... and dropped with a log line" \
	logged "$SCHED_LOG" "refused update_service_capabilities on scheduler_fanout_scheduler_[0-9a-f]* from compute-node1: InvalidInput: update_service_capabilities: vcpus: must be an integer"
hb compute-node1 '{"binary":"novafs-evil","host":"node1","up":false}'
check "an unknown binary is dropped" \
	logged "$SCHED_LOG" 'binary: "novafs-evil" is not a known value'
hb compute-node1 '{"host":"node1","up":false}'
check "a heartbeat without its binary is dropped" logged "$SCHED_LOG" "binary: missing"
hb compute-node2 '{"binary":"novafs-compute","host":"node1","up":false}'
check "compute-node2 may not report node1 down" \
	logged "$SCHED_LOG" "NotAuthorized: user compute-node2 may not report novafs-compute on node1"
hb scheduler '{"binary":"novafs-compute","host":"node1","up":false}'
check "nor may the scheduler" \
	logged "$SCHED_LOG" "NotAuthorized: user scheduler may not report novafs-compute on node1"
check "node1 is still up for the scheduler" \
	wait_for 10 rpc call scheduler select_destinations "$SMALL"
check "no host went down meanwhile" sh -c "! grep -q 'host node1 is down' '$SCHED_LOG'"

# Asked to report now, by novafs or the scheduler.
before=$(grep -c "publish_service_capabilities from novafs" "$NODE1_LOG")
check "publish_service_capabilities is fanned out" \
	rpc fanout compute publish_service_capabilities '{}'
asked_more() { [ "$(grep -c "publish_service_capabilities from novafs" "$NODE1_LOG")" -gt "$before" ]; }
check "node1 reports at once" wait_for 5 asked_more

# Claims that hold, against a host that says what it counts (node2,
# heartbeats by hand): a placement holds its flavor until a report lists
# the instance or novafs releases it.
U2=6f1e3b6a-2c4d-4e8f-9a0b-000000000002
U3=6f1e3b6a-2c4d-4e8f-9a0b-000000000003
node2_reports() {
	rpc_as compute-node2 fanout scheduler update_service_capabilities \
		'{"binary":"novafs-compute","host":"node2","up":true,"report_interval":60,"vcpus":4,"vcpus_used":'"$1"',"memory_mb":4096,"memory_mb_used":'"$2"',"disk_gb":100,"disk_gb_used":'"$3"',"instances":'"$4"'}'
}
select_on_node2() {
	rpc call scheduler select_destinations \
		'{"instance_uuid":"'"$1"'","flavor":{"name":"m1.small","vcpus":1,"memory_mb":'"$2"',"disk_gb":20},"force_host":"node2"}'
}
release_on_node2() {
	rpc cast scheduler release_resources \
		'{"instance_uuid":"'"$1"'","host":"node2","flavor":{"name":"m1.small","vcpus":1,"memory_mb":'"$2"',"disk_gb":20}}'
}
check "node2 reports, with the instances it counts" node2_reports 0 0 0 '[]'
check "the scheduler hears node2" logged "$SCHED_LOG" "host node2 is up"
check_eq "a forced host: node2, and its limits" \
	"$(select_on_node2 "$U2" 2048 | jq -cS .)" '{"host":"node2","limits":{"disk_gb":100,"memory_mb":4096,"vcpus":64}}'
check_fails "its claim holds: no room for a second" \
	"RamFilter rejected node2 (2048 MB free, 3072 MB needed)" select_on_node2 "$U3" 3072
check "a report that does not list it" node2_reports 0 0 0 '[]'
check_fails "... keeps the claim" "ForceHostFilter rejected node1 (not the forced host node2), RamFilter rejected node2 (2048 MB free, 3072 MB needed)" \
	select_on_node2 "$U3" 3072
check "release_resources is cast" release_on_node2 "$U2" 2048
check "... and logged" logged "$SCHED_LOG" "release_resources instance $U2 flavor m1.small on node2: its claim dropped"
check_eq "the room is free again at once" "$(select_on_node2 "$U3" 3072 | jq -r .host)" node2
check "a report that lists the instance" node2_reports 1 3072 20 "[\"$U3\"]"
check_fails "... replaces its claim: no double count" \
	"RamFilter rejected node2 (1024 MB free, 2048 MB needed)" select_on_node2 "$U2" 2048
check "release_resources of a reported instance" release_on_node2 "$U3" 3072
check "... takes it off the report" logged "$SCHED_LOG" "release_resources instance $U3 flavor m1.small on node2: taken off the host's last report"
check_eq "the room is free again at once" "$(select_on_node2 "$U2" 2048 | jq -r .host)" node2
check "node2 stops" rpc_as compute-node2 fanout scheduler update_service_capabilities \
	'{"binary":"novafs-compute","host":"node2","up":false}'
check "the scheduler hears node2 is down" logged "$SCHED_LOG" "host node2 is down"

stop compute-node1
check "node1 said it is down" wait_for 5 grep -q "host node1 is down" "$SCHED_LOG"
check_fails "no host after node1 stopped: NoValidHost at once" \
	"No valid host: 0/2 hosts passed; ComputeFilter rejected node1 (down), ComputeFilter rejected node2 (down)" \
	rpc call scheduler select_destinations "$SMALL"
check "a cast to the stopped node1 waits in its durable queue" \
	rpc cast compute.node1 stop_instance "{\"instance\":$INSTANCE,\"expected_task_state\":\"powering-off\"}"
check_fails "a cast to a host that never ran: ServiceUnavailable at once" \
	"ServiceUnavailable: no service consumes compute.node9" \
	rpc cast compute.node9 stop_instance "{\"instance\":$INSTANCE,\"expected_task_state\":\"powering-off\"}"

done_testing
