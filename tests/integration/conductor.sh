#!/usr/bin/env bash
# conductor.sh - novafs's side of the bus: what compute hosts report is
# applied only from the host that runs the instance and only when it fits
# the contract; forged and malformed reports change nothing and are
# logged; a stopped scheduler or compute host holds up only the requests
# that wait for it, never a read or another write.
. "$(dirname "$0")/../lib/common.sh"

I=$MNT/instances
NLOG=$LOGS/novafs.log
# Two test hosts of the default size: room for the 50 instances below.
start_scheduler
start_network
start_compute node1
start_compute node2
start_novafs || { not_ok "novafs mounted"; done_testing; exit 1; }
wait_compute node1 && wait_compute node2 || { not_ok "compute hosts up"; done_testing; exit 1; }

mkdir "$I/web1"
echo m1.tiny >"$I/web1/flavor"
echo start >"$I/web1/ctl"
check_eq "web1 becomes active" "$(timeout 20 cat "$I/web1/wait")" active
HOST=$(cat "$I/web1/host")
OTHER=$([ "$HOST" = node1 ] && echo node2 || echo node1)
UUID=$(cat "$I/web1/id")

# report USER HOST VM_STATE [EXPECTED] [EXTRA]: an instance_update for web1
# sent as USER, the arguments unchecked by the sender.
report() {
	local expected=${4:-null}
	[ "$expected" = null ] || expected="\"$expected\""
	rpc_as "$1" cast conductor instance_update --unchecked \
		"{\"uuid\":\"$UUID\",\"expected_task_state\":$expected,\"vm_state\":\"$3\",\"power_state\":\"shutdown\",\"task_state\":null,\"host\":\"$2\",\"fault\":{\"class\":\"Forged\",\"message\":\"pwned\"}${5:-}}" \
		>/dev/null 2>&1
}
unchanged() {
	[ "$(cat "$I/web1/state")" = active ] && [ "$(cat "$I/web1/host")" = "$HOST" ] &&
		[ "$(cat "$I/web1/power_state")" = running ] && [ ! -s "$I/web1/fault" ]
}

report "compute-$OTHER" "$OTHER" error
check "another host's report on web1 is refused" wait_for 10 grep -q \
	"refused a report on web1 naming host $OTHER: it runs on $HOST" "$NLOG"
report "compute-$OTHER" "$HOST" error
check "another host naming web1's host is refused by the bus" wait_for 10 grep -q \
	"refused instance_update on conductor from compute-$OTHER" "$NLOG"
report scheduler "$HOST" error
check_eq "the scheduler may not even publish a report: the broker refuses (EACCES)" "$?" 13
report "compute-$HOST" "$HOST" pwned
check "an unknown vm_state is dropped" wait_for 10 grep -q 'vm_state: "pwned" is not a known value' "$NLOG"
rpc_as "compute-$HOST" cast conductor instance_update --unchecked \
	"{\"uuid\":\"$UUID\",\"vm_state\":\"error\",\"power_state\":\"shutdown\",\"task_state\":null,\"host\":\"$HOST\",\"fault\":null}" >/dev/null 2>&1
check "a report without expected_task_state is dropped" wait_for 10 grep -q \
	'instance_update: expected_task_state: missing' "$NLOG"
report "compute-$HOST" "$HOST" error powering-off
check "a stale report is dropped" wait_for 10 grep -q \
	"dropped a stale report on web1 (expected task powering-off, it is none)" "$NLOG"
rpc_as oslo-peer raw "" conductor "$(jq -cn --arg u "$UUID" --arg h "$HOST" \
	'{"oslo.version": "2.0", "oslo.message": ({method: "instance_update", args: {uuid: $u,
	  expected_task_state: null, vm_state: "error", power_state: "shutdown", task_state: null,
	  host: $h, fault: null}, _unique_id: "00000000000000000000000000000001"} | tojson)}')" \
	--no-user-id >/dev/null 2>&1
check "a report without user_id is refused" wait_for 10 grep -q \
	"refused instance_update on conductor from a sender without user_id" "$NLOG"
check "web1 is untouched by all of them" unchanged
check "events show none of them" sh -c "! timeout 1 cat $MNT/events | grep -q pwned"

# A stopped scheduler holds up first starts, nothing else.
for i in $(seq 50); do mkdir "$I/slow$i"; echo m1.tiny >"$I/slow$i/flavor"; done
kill -STOP "${PID_OF[scheduler]}"
JOBS=()
for i in $(seq 50); do (echo start >"$I/slow$i/ctl") 2>/dev/null & JOBS+=($!); done
check "50 first starts wait on the stopped scheduler" wait_for 10 sh -c \
	"[ \$(cat $I/slow*/task | grep -c scheduling) = 50 ]"
check "meanwhile reads answer" sh -c "for i in \$(seq 500); do cat $I/web1/state >/dev/null || exit 1; done"
check "and listings" ls -l "$I"
check "and mkdir" mkdir "$I/other"
check "and flavor writes" sh -c "echo m1.small > $I/other/flavor"
check "and a stop of a running instance" sh -c "echo stop > $I/web1/ctl"
check "which completes" sh -c "[ \$(timeout 20 cat $I/web1/wait) = stopped ]"
kill -CONT "${PID_OF[scheduler]}"
wait "${JOBS[@]}"
check "once it runs again, every start ends" wait_for 30 sh -c "! grep -q scheduling $I/slow*/task"
check "every one active" sh -c "for i in \$(seq 50); do
	s=\$(cat $I/slow\$i/wait)
	[ \"\$s\" = active ] || { echo slow\$i: \$s; exit 1; }
done"

# Stopped compute hosts hold up nothing: rmdir casts terminate_instance
# to the host's queue, the broker confirms, and the directory goes at once.
echo start >"$I/web1/ctl"
timeout 20 cat "$I/web1/wait" >/dev/null
declare -A IDS_ON
for i in $(seq 50); do IDS_ON[$(cat "$I/slow$i/host")]+="$(cat "$I/slow$i/id") "; done
kill -STOP "${PID_OF[compute-node1]}" "${PID_OF[compute-node2]}"
check "50 rmdirs return while both hosts are stopped" timeout 10 sh -c \
	"for i in \$(seq 50); do rmdir $I/slow\$i || exit 1; done"
check "they are gone" sh -c "! ls -d $I/slow* 2>/dev/null"
check "meanwhile reads answer" sh -c "for i in \$(seq 500); do cat $I/web1/state >/dev/null || exit 1; done"
check "and a stop is accepted, to run when the host does" sh -c "echo stop > $I/web1/ctl"
check_eq "web1 is powering-off" "$(cat "$I/web1/task")" powering-off
kill -CONT "${PID_OF[compute-node1]}" "${PID_OF[compute-node2]}"
for h in node1 node2; do
	check "once $h runs again, it destroys every domain from its queue" wait_for 30 sh -c \
		"for id in ${IDS_ON[$h]:-}; do grep -q \"terminate_instance instance \$id: deleted\" $LOGS/compute-$h.log || exit 1; done"
done
check_eq "and stops web1" "$(timeout 20 cat "$I/web1/wait")" stopped

done_testing
