#!/usr/bin/env bash
# lifecycle.sh - every action of ctl through the mount, on the test
# driver: what each allows, the state it leaves, and each refusal with its
# errno and reason; several commands in one write; resize and its
# refusals; reset-state (root only); delete through ctl; the history in
# actions/.
. "$(dirname "$0")/../lib/common.sh"

# A host the size of test:///default's (3 GB), which a resize to m1.large
# (8 GB) does not fit.
start_stack --test-vcpus 16 --test-memory-mb 3072 ||
	{ not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances
W=$I/web1

# do CMD WANT: writes CMD to web1's ctl and waits until the task ends in
# state WANT.
do_action() {
	check "$1" sh -c "echo '$1' > $W/ctl"
	check_eq "$1: web1 is $2" "$(timeout 20 cat "$W/wait")" "$2"
}
# refused CMD ERRNO-TEXT REASON: the write fails with the errno at once,
# fault says why, and the state does not change.
refused() {
	local before
	before=$(cat "$W/state")
	check_fails "$1 is refused" "$2" bash -c "echo '$1' > $W/ctl"
	check "$1: fault says \"$3\"" grep -qF "$3" "$W/fault"
	check_eq "$1: web1 is still $before" "$(cat "$W/state")" "$before"
	check_eq "$1: with no task" "$(cat "$W/task")" none
}

mkdir "$W"
echo m1.tiny >"$W/flavor"
refused "stop" "Device or resource busy" "cannot stop web1: it is stopped"
refused "reboot hard" "Device or resource busy" "cannot reboot web1: it has never been started"
refused "resize m1.small" "Device or resource busy" "cannot resize web1: it has never been started"
do_action start active
check_eq "power running" "$(cat "$W/power_state")" running

do_action pause paused
check_eq "power paused" "$(cat "$W/power_state")" paused
refused "pause" "Device or resource busy" "cannot pause web1: it is paused (pause needs active)"
refused "reboot" "Device or resource busy" "cannot reboot web1: it is paused (reboot needs active)"
refused "suspend" "Device or resource busy" "cannot suspend web1: it is paused (suspend needs active)"
do_action unpause active
refused "unpause" "Device or resource busy" "cannot unpause web1: it is active (unpause needs paused)"

do_action suspend suspended
refused "resume now" "Invalid argument" 'unknown command "resume now"'
refused "start" "Device or resource busy" "cannot start web1: it is suspended (start needs stopped or error)"
do_action resume active
refused "resume" "Device or resource busy" "cannot resume web1: it is active (resume needs suspended)"

do_action reboot active
do_action "reboot hard" active
do_action rebuild active
refused "resize m1.small" "Device or resource busy" "cannot resize web1: it is active (resize needs stopped)"

do_action stop stopped
check_eq "power shutdown" "$(cat "$W/power_state")" shutdown
refused "reboot" "Device or resource busy" "cannot reboot web1: it is stopped (reboot needs active)"
do_action "reboot hard" active
do_action "stop hard" stopped

# resize: a call, answered by the host; the flavor follows.
check "resize m1.small" sh -c "echo 'resize m1.small' > $W/ctl"
check_eq "resize: the write returned with it done" "$(cat "$W/task") $(cat "$W/state")" "none stopped"
check "flavor reads the new one" cmp <(echo m1.small) "$W/flavor"
refused "resize m1.small" "Invalid argument" "web1 already has flavor m1.small"
refused "resize m1.huge" "Invalid argument" "flavor m1.huge does not exist"
refused "resize m1.large" "No space left on device" "ComputeResourcesUnavailable"
check "flavor unchanged by the refusals" cmp <(echo m1.small) "$W/flavor"
do_action start active

# Several commands in one write(2) run in order; the write fails at the
# first refused one, and the ones before it stay done.  (One write: bash's
# printf writes a line at a time, Python's os.write does not.)
write_once() { /usr/bin/python3 -c 'import os, sys; os.write(os.open(sys.argv[1], os.O_WRONLY), sys.argv[2].encode())' "$@"; }
kill -STOP "${PID_OF[compute-node1]}" # so that no task ends meanwhile
check_fails "stop, then a bad line, then start" "Invalid argument" write_once "$W/ctl" $'stop\nbogus\nstart\n'
check "the bad line is named" grep -qF 'unknown command "bogus"' "$W/fault"
check_eq "the stop before it runs" "$(cat "$W/task")" powering-off
kill -CONT "${PID_OF[compute-node1]}"
check "and ends" wait_for 20 file_is "$W/task" none
check_eq "the start after it never ran" "$(cat "$W/state")" stopped
kill -STOP "${PID_OF[compute-node1]}"
check_fails "start, then pause while it starts" "Device or resource busy" write_once "$W/ctl" $'start\npause\n'
check "the pause names the task" grep -qF "cannot pause web1: task powering-on is in progress" "$W/fault"
kill -CONT "${PID_OF[compute-node1]}"
check "the start ran" wait_for 20 file_is "$W/state" active

# reset-state: root only, even for the instance's owner; back to error
# (the default) or active, whatever task runs.
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${NOBODY[@]}" mkdir "$I/theirs"
check_fails "reset-state by an instance's owner" "Operation not permitted" \
	"${NOBODY[@]}" bash -c "echo reset-state > $I/theirs/ctl"
check "says it is for root" grep -qF "reset-state is for root alone" "$I/theirs/fault"
rmdir "$I/theirs"
check "reset-state as root" sh -c "echo reset-state > $W/ctl"
check_eq "web1 is in error" "$(cat "$W/state")" error
check "reset-state active" sh -c "echo 'reset-state active' > $W/ctl"
check_eq "web1 is active" "$(cat "$W/state")" active
check_eq "with no task and no fault" "$(cat "$W/task")|$(cat "$W/fault")" "none|"
kill -STOP "${PID_OF[compute-node1]}"
echo stop >"$W/ctl"
check "reset-state ends a task that cannot end" sh -c "echo 'reset-state active' > $W/ctl"
check_eq "web1 is active with no task" "$(cat "$W/state")/$(cat "$W/task")" active/none
check_eq "the stop it ended says so" "$(cat "$(ls -d "$W"/actions/*-stop | tail -n 1)/message")" "ended by reset-state"
kill -CONT "${PID_OF[compute-node1]}"
check "once the host has done the stop, state follows its report" wait_for 20 file_is "$W/state" stopped

# The history, in order, each with its outcome.
hist=$(for d in "$W"/actions/*/; do echo "$(cat "$d/action"):$(cat "$d/result")"; done | tr '\n' ' ')
check_eq "actions/ lists every action" "$hist" \
	"start:success pause:success unpause:success suspend:success resume:success reboot:success reboot:success rebuild:success stop:success reboot:success stop:success resize:success resize:error start:success stop:success start:success reset-state:success reset-state:success stop:error reset-state:success "
check "a refused resize records why" grep -q ComputeResourcesUnavailable "$W"/actions/*-resize/message

# delete through ctl is rmdir.
ID=$(cat "$W/id")
check "delete" sh -c "echo delete > $W/ctl"
check "web1 is gone" test ! -e "$W"
check "its domain too" wait_for 10 grep -q "terminate_instance instance $ID: deleted" "$LOGS/compute-node1.log"

done_testing
