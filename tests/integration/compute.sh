#!/usr/bin/env bash
# compute.sh - the scheduler and one compute host on test:///default, driven
# over the bus with rpcctl: scheduling, NoValidHost, the power actions and
# their instance_update reports, terminate, and a host that goes away.
. "$(dirname "$0")/../lib/common.sh"

RPCCTL=$B/tests/rpcctl
UUID=6f1e3b6a-2c4d-4e8f-9a0b-1c2d3e4f5a6b
INSTANCE="{\"uuid\":\"$UUID\",\"name\":\"web1\",\"flavor\":\"m1.small\",\"vcpus\":1,\"memory_mb\":2048,\"disk_gb\":20}"
SMALL='{"instance_uuid":"'$UUID'","flavor":{"name":"m1.small","vcpus":1,"memory_mb":2048,"disk_gb":20}}'
HUGE='{"instance_uuid":"'$UUID'","flavor":{"name":"m1.huge","vcpus":1,"memory_mb":1048576,"disk_gb":20}}'
UPDATES=$LOGS/listener.log

rpc() { "$RPCCTL" --amqp "$AMQP_URL" "$@"; }

# update_seen TASK VM_STATE POWER_STATE: the listener printed an
# instance_update for $UUID echoing expected_task_state TASK.
update_seen() {
	grep '^{' "$UPDATES" | jq -e --arg u "$UUID" --arg t "$1" --arg v "$2" --arg p "$3" \
		'select(.method == "instance_update" and .args.uuid == $u and
			.args.expected_task_state == $t) |
		 select(.args.vm_state == $v and .args.power_state == $p and
			.args.task_state == null and .args.host == "node1" and
			.args.fault == null)' | grep -q .
}

start_scheduler
start_compute node1
if ! wait_compute node1; then
	not_ok "scheduler hears from node1"
	cat "$LOGS"/*.log >&2
	done_testing
	exit 1
fi
ok "scheduler hears from node1"

spawn listener "$RPCCTL" --amqp "$AMQP_URL" listen conductor
wait_for 10 grep -q '^listening' "$UPDATES" || diag "listener did not start"

check_eq "select_destinations picks node1" \
	"$(rpc call scheduler select_destinations "$SMALL")" '{"host":"node1"}'
check_fails "a flavor too big: NoValidHost" \
	"NoValidHost: No valid host was found. 1 host up; RamFilter rejected node1" \
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
	sed 's/^/#   /' "$UPDATES"
fi

check "stop_instance is cast" rpc cast compute.node1 stop_instance \
	"{\"instance\":$INSTANCE,\"expected_task_state\":\"powering-off\"}"
if wait_for 10 update_seen powering-off stopped shutdown; then
	ok "stop_instance reports stopped/shutdown"
else
	not_ok "stop_instance reports stopped/shutdown"
	sed 's/^/#   /' "$UPDATES"
fi

check_fails "while web1 exists, a second m1.small does not fit" "RamFilter rejected node1" \
	rpc call scheduler select_destinations "$SMALL"
check_eq "terminate_instance succeeds" \
	"$(rpc call compute.node1 terminate_instance "{\"instance\":$INSTANCE}" 2>&1)" null
check_eq "terminating a missing instance succeeds" \
	"$(rpc call compute.node1 terminate_instance "{\"instance\":$INSTANCE}" 2>&1)" null
check_fails "terminate_instance without a uuid: InvalidInput" "InvalidInput" \
	rpc call compute.node1 terminate_instance '{"instance":{}}'
check_fails "an unknown method: NoSuchMethod" "NoSuchMethod" \
	rpc call compute.node1 reboot_instance "{\"instance\":$INSTANCE}"
check "node1 logged each handled message" \
	grep -q "terminate_instance instance $UUID: deleted" "$LOGS/compute-node1.log"

# The next capability report no longer counts web1 and replaces the claim.
check "the freed room is schedulable again after a report" \
	wait_for 10 rpc call scheduler select_destinations "$SMALL"

stop compute-node1
check "node1 said it is down" wait_for 5 grep -q "host node1 is down" "$LOGS/scheduler.log"
check_fails "no host after node1 stopped: NoValidHost at once" \
	"There are no compute hosts up" \
	rpc call scheduler select_destinations "$SMALL"

done_testing
