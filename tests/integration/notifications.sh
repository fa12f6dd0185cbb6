#!/usr/bin/env bash
# notifications.sh - a scripted run seen two ways, each complete and in
# order: `tail -f events`, and an unmodified oslo.messaging notification
# listener (Debian's python3-oslo.messaging) on notifications.info.
. "$(dirname "$0")/../lib/common.sh"

PEER=$(dirname "$0")/../tools/oslo_peer.py
start_stack || { not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances

/usr/bin/python3 "$PEER" "$(identity oslo-peer)" "$AMQP_URL" notifications \
	>"$TEST_TMP/notes" 2>"$TEST_TMP/notes.err" &
LISTENER=$!
check "the oslo listener is consuming" wait_for 30 grep -q listening "$TEST_TMP/notes.err"
tail -n 0 -f "$MNT/events" >"$TEST_TMP/events" &
TAIL=$!
check "tail -f has events open" wait_for 10 sh -c "ls -l /proc/$TAIL/fd | grep -q '$MNT/events'"

mkdir "$I/n1"
echo m1.tiny >"$I/n1/flavor"
echo start >"$I/n1/ctl"
timeout 20 cat "$I/n1/wait" >/dev/null
echo pause >"$I/n1/ctl"
timeout 20 cat "$I/n1/wait" >/dev/null
echo stop >"$I/n1/ctl"
timeout 20 cat "$I/n1/wait" >/dev/null
rmdir "$I/n1"

check "the listener hears the delete" wait_for 20 grep -q '"instance.delete.end"' "$TEST_TMP/notes"
check "tail -f sees the delete" wait_for 20 grep -qP '\tn1\tdeleted\t' "$TEST_TMP/events"
kill "$LISTENER" "$TAIL"
wait "$LISTENER" "$TAIL" 2>/dev/null

# Every change of n1's task and state, in the order it happened.
check_eq "events: every task and state change of n1, in order" \
	"$(awk -F'\t' '$3 == "n1" && ($4 == "task_state" || $4 == "vm_state" || $4 == "created" || $4 == "deleted") { printf "%s:%s>%s ", $4, $5, $6 }' "$TEST_TMP/events")" \
	"created:->- task_state:none>scheduling task_state:scheduling>spawning vm_state:stopped>active task_state:spawning>none task_state:none>pausing vm_state:active>paused task_state:pausing>none task_state:none>powering-off vm_state:paused>stopped task_state:powering-off>none task_state:none>deleting deleted:->- "

n1_types() { jq -r 'select(.payload.display_name == "n1") | .event_type' "$TEST_TMP/notes"; }
check_eq "notifications: n1's life, in order" \
	"$(n1_types | grep -v '^instance.update$' | tr '\n' ' ')" \
	"instance.create.end instance.power_on.start instance.power_on.end instance.pause.start instance.pause.end instance.power_off.start instance.power_off.end instance.delete.end "
check "with an instance.update for each change" test "$(n1_types | grep -c '^instance.update$')" -ge 6
check "from publisher novafs, priority info" sh -c \
	"! jq -r '.publisher_id + \" \" + .priority' $TEST_TMP/notes | grep -vqx 'novafs info'"
check "an update says what changed" jq -e -s \
	'any(.[]; .event_type == "instance.update" and .payload.old_state == "active" and .payload.state == "paused")' "$TEST_TMP/notes"
check "an end names its request" jq -e -s \
	'any(.[]; .event_type == "instance.power_off.end" and (.payload.request_id | startswith("req-")))' "$TEST_TMP/notes"

done_testing
