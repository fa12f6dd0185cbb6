#!/usr/bin/env bash
# desired_state.sh - target_state and the reconciler through the mount:
# each target reached without a ctl write, two steps from suspended, no
# action once there, ctl refused while a target is set and back after it
# is emptied, what a read of ctl lists, bad targets, bytes kept, the same
# target twice, a start that cannot be placed backing off until there is
# room, a restart with a target pending, and another user's rights.
. "$(dirname "$0")/../lib/common.sh"

# 3072 MB of room (2048 with the scheduler's ram_allocation_ratio 1.5):
# m1.small and m1.tiny fit together, a second m1.small does not.
start_stack --test-vcpus 16 --test-memory-mb 2048 ||
	{ not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances
W=$I/web
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# records NAME [ACTION]: how many actions NAME has (of ACTION).
records() { ls "$I/$1/actions" | grep -c -- "-${2:-}" ; }
# target NAME VALUE: printf VALUE > target_state, then waits until NAME is
# VALUE with no task.
target() {
	check "$1: target_state $2" sh -c "printf '$2' > $I/$1/target_state"
	check "$1 becomes $2" wait_for 30 sh -c "[ \"\$(cat $I/$1/state) \$(cat $I/$1/task)\" = '$2 none' ]"
}
events() { timeout 1 cat "$MNT/events"; }

mkdir "$W"
echo m1.tiny >"$W/flavor"
check_eq "a new instance has no target" "$(cat "$W/target_state")" ""
check_eq "ctl is readable by all, writable by its owner" "$(stat -c %A "$W/ctl")" "-rw-r--r--"
check_eq "target_state is rw-r--r--" "$(stat -c %A "$W/target_state")" "-rw-r--r--"
check_eq "ctl of a new instance lists what it allows" "$(cat "$W/ctl")" \
	"$(printf 'start\ndelete\nreset-state\nreset-state active\nreset-state error')"

# --- each target, without a write to ctl ---
target web active
check "target_state reads back byte for byte" cmp <(printf active) "$W/target_state"
check_eq "one start was recorded" "$(records web)" 1
check_eq "by its owner" "$(cat "$W"/actions/*-start/user)" 0
check_eq "no fault" "$(cat "$W/fault")" ""

n=$(records web)
sleep 3
check_eq "no action while active is active (no loop)" "$(records web)" "$n"

before=$(events | grep -c "	web	target_state	")
check "the same target again" sh -c "printf active > $W/target_state"
check "and with a newline" sh -c "echo active > $W/target_state"
check "reads back the new bytes" cmp <(echo active) "$W/target_state"
check_eq "is no change: no event" "$(events | grep -c "	web	target_state	")" "$before"
check_eq "and no action" "$(records web)" "$n"

# --- ctl while a target is set ---
check_eq "ctl lists what it allows, without what target_state owns" "$(cat "$W/ctl")" \
	"$(printf 'reboot\nreboot hard\nrebuild\nevacuate\ndelete\nreset-state\nreset-state active\nreset-state error')"
for cmd in stop "stop hard" pause suspend; do
	check_fails "ctl $cmd is refused while a target is set" "Device or resource busy" \
		bash -c "echo '$cmd' > $W/ctl"
done
check "fault says why" grep -qxF "InstanceInvalidState: web has target_state active: write target_state instead, or empty it to use ctl" "$W/fault"
check_eq "and the instance is still active" "$(cat "$W/state") $(cat "$W/task")" "active none"
check "reboot stays allowed" sh -c "echo reboot > $W/ctl"
check_eq "and ends active" "$(timeout 20 cat "$W/wait")" active
sleep 1.5
check_eq "without the reconciler stepping in" "$(records web)" $((n + 1))

# --- bad targets ---
check_fails "an unknown target" "Invalid argument" bash -c "echo running > $W/target_state"
check "fault says why" grep -qxF 'InvalidInput: unknown target_state "running" (target states: active, stopped, paused, suspended)' "$W/fault"
check_fails "two words" "Invalid argument" bash -c "echo 'active stopped' > $W/target_state"
check_fails "error is not a target" "Invalid argument" bash -c "echo error > $W/target_state"
check "target_state is unchanged" cmp <(echo active) "$W/target_state"
check_eq "and so is the instance" "$(cat "$W/state")" active

# --- the other targets, and two steps ---
target web stopped
target web paused
check_eq "stopped to paused: start, then pause" "$(ls "$W/actions" | tail -n 2 | cut -d- -f2 | tr '\n' ' ')" "start pause "
target web suspended
check_eq "paused to suspended: unpause, then suspend" "$(ls "$W/actions" | tail -n 2 | cut -d- -f2 | tr '\n' ' ')" "unpause suspend "
target web stopped
check_eq "suspended to stopped: resume, then stop" "$(ls "$W/actions" | tail -n 2 | cut -d- -f2 | tr '\n' ' ')" "resume stop "

# --- emptying it hands control back to ctl ---
check "empty target_state" sh -c ": > $W/target_state"
check "is applied at release" wait_for 5 test ! -s "$W/target_state"
check_eq "ctl of a stopped instance" "$(cat "$W/ctl")" \
	"$(printf 'start\nreboot hard\nrebuild\nresize FLAVOR\nevacuate\ndelete\nreset-state\nreset-state active\nreset-state error')"
check "ctl start works again" sh -c "echo start > $W/ctl"
check_eq "active" "$(timeout 20 cat "$W/wait")" active
check_eq "ctl of an active instance" "$(cat "$W/ctl")" \
	"$(printf 'stop\nstop hard\nreboot\nreboot hard\npause\nsuspend\nrebuild\nevacuate\ndelete\nreset-state\nreset-state active\nreset-state error')"
echo pause >"$W/ctl"
check_eq "paused" "$(timeout 20 cat "$W/wait")" paused
check_eq "ctl of a paused instance" "$(cat "$W/ctl")" \
	"$(printf 'stop\nstop hard\nreboot hard\nunpause\nevacuate\ndelete\nreset-state\nreset-state active\nreset-state error')"
n=$(records web)
sleep 2
check_eq "nothing acts on it without a target" "$(records web)" "$n"

# --- another user ---
check_fails "another user cannot write its target_state" "Permission denied" \
	"${NOBODY[@]}" bash -c "echo active > $W/target_state"
check "but can read ctl" "${NOBODY[@]}" grep -qx unpause "$W/ctl"
check "and its target_state" "${NOBODY[@]}" cat "$W/target_state"

# --- a start with no room backs off, and converges once there is ---
mkdir "$I/blocker" "$I/stuck"
echo m1.small >"$I/blocker/flavor"
echo start >"$I/blocker/ctl"
check_eq "a blocker takes the room" "$(timeout 20 cat "$I/blocker/wait")" active
echo m1.small >"$I/stuck/flavor"
check "stuck: target_state active" sh -c "echo active > $I/stuck/target_state"
check "its fault says NoValidHost and that it retries" wait_for 10 \
	grep -qE '^NoValidHost: .*; target_state active: retrying in [0-9]+ s$' "$I/stuck/fault"
sleep 8
tries=$(records stuck start)
check "in 8 s it tried a few times, not more ($tries)" test "$tries" -ge 3 -a "$tries" -le 5
check "the back-off grew" grep -qE 'retrying in (4|8|16) s$' "$I/stuck/fault"
check_eq "in error, with no task" "$(cat "$I/stuck/state") $(cat "$I/stuck/task")" "error none"
check_fails "ctl start is refused there too" "Device or resource busy" bash -c "echo start > $I/stuck/ctl"
rmdir "$I/blocker"
check "once the blocker is gone it becomes active" wait_for 40 file_is "$I/stuck/state" active
check_eq "with no fault" "$(cat "$I/stuck/fault")" ""
total=$(records stuck start)
check "after at most a couple more tries ($total)" test "$total" -le $((tries + 2))

# --- a restart with a target pending ---
mkdir "$I/big"
echo m1.large >"$I/big/flavor"
echo active >"$I/big/target_state"
check "big cannot be placed yet" wait_for 10 grep -q '^NoValidHost: .*retrying in' "$I/big/fault"
stop novafs
fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT"
stop compute-node1
start_compute node1 --test-vcpus 16 --test-memory-mb 16384
wait_for 20 sh -c "[ \$(grep -c 'host node1 is up' $LOGS/scheduler.log) -ge 2 ]"
start_novafs
check "after the restart big is reconciled: active" wait_for 40 file_is "$I/big/state" active
check "and web, whose domain went with its host, stays as ctl left it" \
	sh -c "[ \"\$(cat $W/state)\" != active ]"
check "and stuck, whose domain went too, is active again" wait_for 40 file_is "$I/stuck/state" active

done_testing
