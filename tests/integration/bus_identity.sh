#!/usr/bin/env bash
# bus_identity.sh - every service is its own RabbitMQ user: forged
# messages (another service's credentials, no user_id, a false user_id)
# are refused by the broker or by the receiver, logged, and change
# nothing; permissions keep each user to its own queues and routing keys;
# credentials never appear on a command line.
. "$(dirname "$0")/../lib/common.sh"

UUID=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
INSTANCE="{\"uuid\":\"$UUID\",\"name\":\"web1\",\"flavor\":\"m1.small\",\"vcpus\":1,\"memory_mb\":512,\"disk_gb\":1}"
STOP="{\"instance\":$INSTANCE,\"expected_task_state\":\"powering-off\"}"
UPDATES=$LOGS/listener.log
NODE1_LOG=$LOGS/compute-node1.log
SCHED_LOG=$LOGS/scheduler.log

# envelope METHOD ARGS: an oslo 2.0 request, as any peer can write one.
envelope() {
	jq -cn --arg m "$1" --argjson a "$2" --arg id "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
		'{"oslo.version": "2.0", "oslo.message": ({method: $m, args: $a, version: "1.0", _unique_id: $id} | tojson)}'
}
# exit_of CMD...: CMD's exit status.
exit_of() { "$@" >"$TEST_TMP/exit.out" 2>&1; echo $?; }
updates_with() { grep -c "\"vm_state\":\"$1\"" "$UPDATES"; }

start_scheduler
start_compute node1
wait_compute node1 || { not_ok "scheduler hears from node1"; done_testing; exit 1; }
spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$UPDATES" || diag "listener did not start"
check "novafs starts web1 on node1" rpc_as novafs cast compute.node1 start_instance \
	"{\"instance\":$INSTANCE,\"expected_task_state\":\"spawning\"}"
check "node1 reports it active" wait_for 10 grep -q '"vm_state":"active"' "$UPDATES"

# --- stop_instance to compute.node1, by everyone but novafs ---
check_eq "scheduler's cast is refused by the broker (no write on novafs): EACCES" \
	"$(exit_of rpc_as scheduler cast compute.node1 stop_instance "$STOP")" 13
check "... as NotAuthorized" grep -q "NotAuthorized: .*access to exchange 'novafs'" "$TEST_TMP/exit.out"
check_eq "compute-node2's cast is refused by its topic permissions: EACCES" \
	"$(exit_of rpc_as compute-node2 cast compute.node1 stop_instance "$STOP")" 13
check "... naming the routing key" grep -q "access to topic 'compute.node1'" "$TEST_TMP/exit.out"
# The default exchange reaches any queue by name: the receiver decides.
check "scheduler publishes it straight into compute.node1" \
	rpc_as scheduler raw "" compute.node1 "$(envelope stop_instance "$STOP")"
check "compute-node2 too" \
	rpc_as compute-node2 raw "" compute.node1 "$(envelope stop_instance "$STOP")"
check "oslo-peer, with no user_id, too" \
	rpc_as oslo-peer raw "" compute.node1 "$(envelope stop_instance "$STOP")" --no-user-id
check_eq "a false user_id is refused by the broker: EACCES" \
	"$(exit_of rpc_as compute-node2 raw "" compute.node1 "$(envelope stop_instance "$STOP")" --user-id novafs)" 13
check "... which says why" grep -q "user_id property set to 'novafs' but authenticated user was 'compute-node2'" "$TEST_TMP/exit.out"
check "node1 refused scheduler's, and logged it" wait_for 5 grep -q \
	"refused stop_instance on compute.node1 from scheduler: NotAuthorized: user scheduler may not send stop_instance" "$NODE1_LOG"
check "node1 refused compute-node2's" grep -q \
	"refused stop_instance on compute.node1 from compute-node2: NotAuthorized" "$NODE1_LOG"
check "node1 refused the one without user_id" grep -q \
	"refused stop_instance on compute.node1 from a sender without user_id: NotAuthorized: stop_instance needs a sender" "$NODE1_LOG"
sleep 1
check_eq "nothing was stopped" "$(updates_with stopped)" 0
check "novafs still can" rpc_as novafs cast compute.node1 stop_instance "$STOP"
check "and node1 reports it stopped" wait_for 10 grep -q '"vm_state":"stopped"' "$UPDATES"

# --- reports to the conductor ---
report() {
	local host=$1 vm=$2 extra=${3:-}
	echo "{\"uuid\":\"$UUID\",\"expected_task_state\":\"spawning\",\"vm_state\":\"$vm\",\"power_state\":\"running\",\"task_state\":null,\"host\":\"$host\",\"fault\":null$extra}"
}
# Count reports only: the host's own sync_power_states go there too.
n=$(grep -c '"method":"instance_update"' "$UPDATES")
rpc_as compute-node2 cast conductor instance_update "$(report node1 active)"
check "compute-node2 may not report for node1" wait_for 5 grep -q \
	"refused instance_update on conductor from compute-node2: NotAuthorized: user compute-node2 may not report for host node1" "$UPDATES"
rpc_as compute-node1 cast conductor instance_update "$(report node1 pwned)" --unchecked
check "an unknown vm_state is dropped with a log line" wait_for 5 grep -q \
	'vm_state: "pwned" is not a known value' "$UPDATES"
rpc_as compute-node1 cast conductor instance_update \
	"$(report node1 active | jq -c 'del(.expected_task_state)')" --unchecked
check "a report without expected_task_state is dropped" wait_for 5 grep -q \
	"instance_update: expected_task_state: missing" "$UPDATES"
rpc_as compute-node1 cast conductor instance_update "$(report "$(head -c 100000 /dev/zero | tr '\0' a)" active)" --unchecked
check "a 100 KB host name is dropped" wait_for 5 grep -q \
	"instance_update: host: must be a host name" "$UPDATES"
rpc_as compute-node1 cast conductor instance_update "$(report node1 active ',"fault":{"class":"X","message":"'"$(head -c 2000 /dev/zero | tr '\0' a)"'"}' | jq -c '.')" --unchecked
check "a fault beyond 1024 bytes is dropped" wait_for 5 grep -q \
	"instance_update: fault.message: 2000 bytes long" "$UPDATES"
sleep 0.5
check_eq "none of them reached the conductor" "$(grep -c '"method":"instance_update"' "$UPDATES")" "$n"

# --- heartbeats: no one announces a host but that host ---
rpc_as compute-node2 fanout scheduler update_service_capabilities \
	'{"binary":"novafs-compute","host":"evilhost","up":true,"vcpus":1000,"memory_mb":1000000,"disk_gb":100000,"vcpus_used":0,"memory_mb_used":0,"disk_gb_used":0}'
rpc_as oslo-peer raw scheduler_fanout scheduler "$(envelope update_service_capabilities \
	'{"binary":"novafs-compute","host":"evilhost","up":true}')" --no-user-id
check "compute-node2 may not announce evilhost" wait_for 5 grep -q \
	"NotAuthorized: user compute-node2 may not report novafs-compute on evilhost" "$SCHED_LOG"
check "nor may a peer without user_id" wait_for 5 grep -q \
	"refused update_service_capabilities on .* from a sender without user_id" "$SCHED_LOG"
check "evilhost is unknown to the scheduler" sh -c "! grep -q 'host evilhost is up' '$SCHED_LOG'"

# --- permissions keep each user to its own queues ---
check_eq "compute-node2 may not consume compute.node1: EACCES" \
	"$(exit_of timeout 10 "$B/tests/rpcctl" --config "$(identity compute-node2)" --amqp "$AMQP_URL" listen compute.node1)" 13
check "... (the broker refuses the queue)" grep -q "ACCESS_REFUSED" "$TEST_TMP/exit.out"
check_eq "nor the conductor's queue: EACCES" \
	"$(exit_of timeout 10 "$B/tests/rpcctl" --config "$(identity compute-node2)" --amqp "$AMQP_URL" listen conductor)" 13
check_eq "a wrong password: EACCES" \
	"$(exit_of "$B/tests/rpcctl" --config <(sed 's/^password = .*/password = wrong/' "$(identity novafs)") --amqp "$AMQP_URL" cast compute.node1 stop_instance "$STOP")" 13

# --- credentials stay off command lines ---
check_fails "novafs-compute refuses a URL with credentials" "must not hold credentials" \
	"$B/novafs-compute" --amqp "amqp://compute-node1:secret@127.0.0.1:5672/" --host node1
check_fails "novafs-scheduler refuses a password flag" "secrets are not accepted on the command line" \
	"$B/novafs-scheduler" --amqp-password secret
cp "$(identity scheduler)" "$TEST_TMP/open.conf"
chmod 644 "$TEST_TMP/open.conf"
check_fails "and a config file others can read" "chmod 600" \
	"$B/novafs-scheduler" --config "$TEST_TMP/open.conf"
leaks=
for name in "${!PID_OF[@]}"; do
	for pid in ${PID_OF[$name]} $(pgrep -P "${PID_OF[$name]}"); do
		[ -r "/proc/$pid/cmdline" ] || continue
		for conf in "$BROKER_ETC"/*.conf; do
			pw=$(sed -n 's/^password = //p' "$conf")
			tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pw" && leaks="$leaks $name"
		done
	done
done
check_eq "no password in the command line of anything the test started (${#PID_OF[@]} processes)" "$leaks" ""
check "the services run with a --config, and no URL with credentials" \
	sh -c "! grep -a '@' /proc/${PID_OF[compute-node1]}/cmdline /proc/${PID_OF[scheduler]}/cmdline"

done_testing
