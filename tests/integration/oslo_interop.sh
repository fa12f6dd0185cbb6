#!/usr/bin/env bash
# oslo_interop.sh - novafs services and Debian's python3-oslo.messaging
# 14.0.3, both ways: a Python RPC client calling novafs-scheduler and
# novafs-compute (allowed peers without user_id, and refused by a host that
# does not allow them); a Python RPC server acting as a compute host
# answering novafs's calls; a Python call with call_monitor_timeout to a
# slow handler that only oslo's heartbeats keep alive; and novafs's
# refusals and heartbeats replayed against oslo's own captures
# (tests/data/oslo-14.0.3-extra.json), field by field.
. "$(dirname "$0")/../lib/common.sh"

PY=/usr/bin/python3
PEER=$(dirname "$0")/../tools/oslo_peer.py
DATA=$(dirname "$0")/../data/oslo-14.0.3-extra.json
UUID=7b2e9c1d-3f4a-4b5c-8d6e-0f1a2b3c4d5e
INSTANCE="{\"uuid\":\"$UUID\",\"name\":\"py1\",\"flavor\":\"m1.tiny\",\"vcpus\":1,\"memory_mb\":64,\"disk_gb\":1}"
UPDATES=$LOGS/listener.log

if ! "$PY" -c 'import oslo_messaging' 2>/dev/null; then
	echo "# skip: python3-oslo.messaging is not installed (tests/lib/deps.sh)"
	exit 77
fi

# py ARGS...: the Python peer, as RabbitMQ user oslo-peer.
py() { "$PY" "$PEER" "$(identity oslo-peer)" "$AMQP_URL" "$@"; }
# py_is JQ ARGS...: the peer's JSON output satisfies JQ.
py_is() { local f=$1; shift; py "$@" >"$TEST_TMP/py.out" 2>"$TEST_TMP/py.err" &&
	jq -e "$f" "$TEST_TMP/py.out" >/dev/null || { cat "$TEST_TMP/py.out" "$TEST_TMP/py.err"; false; }; }

start_scheduler --allow-peers-without-user-id
start_compute node1 --allow-peers-without-user-id
start_compute node2
wait_compute node1 || { not_ok "scheduler hears from node1"; done_testing; exit 1; }
spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$UPDATES" || diag "listener did not start"

# --- a Python client calling novafs services ---
check "Python calls select_destinations on novafs-scheduler" \
	py_is '.result.host == "node1" or .result.host == "node2"' call scheduler select_destinations \
	"{\"instance_uuid\":\"$UUID\",\"flavor\":{\"name\":\"m1.tiny\",\"vcpus\":1,\"memory_mb\":64,\"disk_gb\":1}}"
check "Python gets NoValidHost as a RemoteError" \
	py_is '.error.exc_type == "NoValidHost" and (.error.value | startswith("No valid host: "))' \
	call scheduler select_destinations \
	"{\"instance_uuid\":\"$UUID\",\"flavor\":{\"name\":\"m1.huge\",\"vcpus\":1,\"memory_mb\":262144,\"disk_gb\":65536}}"
check "Python casts start_instance to novafs-compute" py cast compute.node1 start_instance \
	"{\"instance\":$INSTANCE,\"expected_task_state\":\"spawning\"}"
check "node1 starts it and reports to the conductor" wait_for 10 grep -q \
	"\"sender\":\"compute-node1\".*\"vm_state\":\"active\"\\|\"vm_state\":\"active\".*\"sender\":\"compute-node1\"" "$UPDATES"
check "Python calls get_instance_state" py_is '.result.exists == true and .result.power_state == "running"' \
	call compute.node1 get_instance_state "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"py1\"}}"
check "Python casts terminate_instance" py cast compute.node1 \
	terminate_instance "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"py1\"}}"
check "node1 deletes the domain" wait_for 10 grep -q "terminate_instance instance $UUID: deleted" \
	"$LOGS/compute-node1.log"
check "a request outside the declaration: InvalidInput" \
	py_is '.error.exc_type == "InvalidInput" and (.error.value | contains("4096 is out of range"))' \
	call compute.node1 start_instance \
	"{\"instance\":${INSTANCE/\"vcpus\":1/\"vcpus\":4096},\"expected_task_state\":\"spawning\"}"
check "version 2.0: UnsupportedVersion, as from oslo" \
	py_is '.error.exc_type == "UnsupportedVersion" and .error.value == "Endpoint does not support RPC version 2.0. Attempted method: get_instance_state"' \
	call compute.node1 get_instance_state "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"py1\"}}" --version 2.0
check "Python fans out publish_service_capabilities" py fanout compute publish_service_capabilities '{}'
check "node1 reports at once" wait_for 5 grep -q "publish_service_capabilities from a peer" \
	"$LOGS/compute-node1.log"
check "node2 does not allow peers without user_id: NotAuthorized" \
	py_is '.error.exc_type == "NotAuthorized"' call compute.node2 get_instance_state \
	"{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"py1\"}}"
check "... and logs it" grep -q "refused get_instance_state on compute.node2 from a sender without user_id" \
	"$LOGS/compute-node2.log"

# --- a Python RPC server as compute host node8 ---
spawn pynode "$PY" "$PEER" "$(identity oslo-peer)" "$AMQP_URL" serve compute node8
if wait_for 20 grep -q '^serving' "$LOGS/pynode.log"; then
	ok "a Python compute host serves compute.node8"
else
	not_ok "a Python compute host serves compute.node8"
	cat "$LOGS/pynode.log" >&2
fi
# novafs accepts replies without user_id only when allowed.
peer() { rpc_as novafs --allow-peers-without-user-id "$@"; }
check_eq "novafs calls get_instance_state on it" \
	"$(peer call compute.node8 get_instance_state "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"py1\"}}")" \
	'{"exists":true,"flavor":"m1.tiny","power_state":"running"}'
check "the Python host got the declared arguments" \
	grep -q "{\"args\": {\"instance\": {\"name\": \"py1\", \"uuid\": \"$UUID\"}}, \"method\": \"get_instance_state\"" \
	"$LOGS/pynode.log"
check "novafs casts start_instance to it" peer cast compute.node8 start_instance \
	"{\"instance\":$INSTANCE,\"expected_task_state\":\"spawning\"}"
check "the Python host got it" wait_for 5 grep -q '"method": "start_instance"' "$LOGS/pynode.log"
check_eq "non-ASCII text both ways" \
	"$(peer call compute.node8 echo '{"text":"h\u00e9llo \u2603 \u65e5\u672c"}')" \
	'{"echoed":"héllo ☃ 日本"}'
check_fails "a Python failure: ValueError, EINVAL" "ValueError: the Python peer refuses" \
	peer call compute.node8 fail '{}'
peer call compute.node8 fail '{}' >/dev/null 2>&1
check_eq "... exit status EINVAL" "$?" 22
check_fails "a result outside the declaration: InvalidReply" "InvalidReply: get_instance_state answered outside its contract" \
	peer call compute.node8 get_instance_state "{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"weird\"}}"
check_fails "without the option, its replies are dropped: MessagingTimeout" "MessagingTimeout" \
	rpc_as novafs call compute.node8 get_instance_state \
	"{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"py1\"}}" --timeout 1500
stop pynode

# --- call monitor, refusals and heartbeats against oslo's captures ---
stop compute-node1
spawn selftest "$B/tests/rpc_selftest" serve "$AMQP_URL" "$BROKER_ETC"
wait_for 10 grep -q '^serving' "$LOGS/selftest.log" || diag "rpc_selftest serve did not start"
check "a Python call with call_monitor_timeout 2 s to a handler busy for 3.5 s succeeds" \
	py_is '.result == {"slept": 3500}' call compute.node1 sleep '{"ms": 3500}' --monitor 2
check "with call_monitor_timeout 1 s it times out, as oslo sends no heartbeat under 1 s" \
	py_is '.error.class == "MessagingTimeout"' call compute.node1 sleep '{"ms": 3500}' --monitor 1
"$PY" "$PEER" "$(identity oslo-peer)" "$AMQP_URL" heartbeats "$DATA" compute.node1 \
	>"$TEST_TMP/beats.out" 2>&1
"$PY" "$PEER" "$(identity oslo-peer)" "$AMQP_URL" replay "$DATA" compute.node1 \
	>"$TEST_TMP/replay.out" 2>&1
for f in beats replay; do
	grep -q '^\(ok\|FAIL\) ' "$TEST_TMP/$f.out" || { not_ok "$f ran"; cat "$TEST_TMP/$f.out" >&2; }
	while read -r verdict rest; do
		case $verdict in
		ok) ok "$rest" ;;
		FAIL) not_ok "$rest" ;;
		esac
	done <"$TEST_TMP/$f.out"
done

done_testing
