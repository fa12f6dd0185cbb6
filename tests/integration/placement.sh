#!/usr/bin/env bash
# placement.sh - four compute hosts of different sizes behind a real
# mount: where `echo start` puts instances.  Spreading by free RAM and
# packing, each filter's refusal in a NoValidHost that names every host
# (EHOSTUNREACH on the write, the instance in error), a disabled host, a
# host that is down, a forced host, affinity and anti-affinity groups,
# claims given back by rmdir at once, a host whose claim fails (its
# scheduler view was stale) and the reschedule that follows, max_attempts,
# and evacuating a host that is down.
. "$(dirname "$0")/../lib/common.sh"

H=$MNT/hosts
I=$MNT/instances
G=$MNT/groups

# node1 12,288 MB to give (8,192 x 1.5), node2 6,144, node3 3,072,
# node4 1,536; disks of 100, 100, 30 and 10 GB.
SIZES=("" "4 8192 100" "4 4096 100" "2 2048 30" "1 1024 10")
compute() {
	local n=$1; shift
	local s=(${SIZES[$n]})
	start_compute "node$n" --test-vcpus "${s[0]}" --test-memory-mb "${s[1]}" \
		--test-disk-gb "${s[2]}" "$@"
}
wait_hosts() { local n; for n in 1 2 3 4; do wait_compute "node$n" || return 1; done; }

export REPORT_INTERVAL=1
start_scheduler
start_network
for n in 1 2 3 4; do compute "$n"; done
start_novafs --service-down-time 3 --scheduler-max-attempts 2 ||
	{ done_testing; exit 1; }
wait_hosts || { not_ok "the scheduler hears the four hosts"; done_testing; exit 1; }
for n in 1 2 3 4; do wait_for 10 file_is "$H/node$n/state" up; done

# new NAME FLAVOR [FILE=VALUE...]: makes an instance.
new() {
	local name=$1 flavor=$2 kv; shift 2
	mkdir "$I/$name" && echo "$flavor" >"$I/$name/flavor" || return 1
	for kv in "$@"; do echo "${kv#*=}" >"$I/$name/${kv%%=*}" || return 1; done
}
# boot NAME: starts it and waits until it is active.
boot() { echo start >"$I/$1/ctl" && [ "$(timeout 20 cat "$I/$1/wait")" = active ]; }
host_of() { cat "$I/$1/host"; }
# refused NAME WANT: starting NAME fails with EHOSTUNREACH, leaves it in
# error, and its fault holds WANT.
refused() {
	check_fails "$1: start fails with EHOSTUNREACH" "No route to host" \
		bash -c "echo start > $I/$1/ctl"
	check "$1: in error" file_is "$I/$1/state" error
	if grep -qF -- "$2" "$I/$1/fault"; then ok "$1: fault says why"; else
		not_ok "$1: fault says why"; diag "fault: $(cat "$I/$1/fault")"; diag "want: $2"; fi
}

# --- spreading, and every host's reason ---
check "t1 boots" sh -c "$(declare -f new boot); I=$I; new t1 m1.tiny && boot t1"
check_eq "spread: the host with the most free RAM" "$(host_of t1)" node1
check "hosts/node1/instances links it" test -L "$H/node1/instances/t1"
check "big1 boots" sh -c "$(declare -f new boot); I=$I; new big1 m1.large && boot big1"
check_eq "m1.large fits on node1 alone" "$(host_of big1)" node1
check "node1 reports both" wait_for 5 file_is "$H/node1/memory_mb_used" 8704
new big2 m1.large
refused big2 "NoValidHost: No valid host: 0/4 hosts passed; RamFilter rejected node1 (3584 MB free, 8192 MB needed), RamFilter rejected node2 (6144 MB free, 8192 MB needed), RamFilter rejected node3 (3072 MB free, 8192 MB needed), RamFilter rejected node4 (1536 MB free, 8192 MB needed)"
check_eq "big2 has no host" "$(host_of big2)" ""
check "the refusal is in big2's action record" grep -q "No valid host" "$I"/big2/actions/*-start/message

# --- claims are given back at once ---
check "rmdir big1" rmdir "$I/big1"
check "big2 fits now, before node1 reports" sh -c "$(declare -f boot); I=$I; boot big2"
check_eq "on node1" "$(host_of big2)" node1
check "rmdir big2" rmdir "$I/big2"

# --- a disabled host ---
echo "disable maintenance" >"$H/node1/ctl"
check "t2 boots" sh -c "$(declare -f new boot); I=$I; new t2 m1.tiny && boot t2"
check_eq "not on the disabled node1" "$(host_of t2)" node2
new l1 m1.large
refused l1 "ComputeFilter rejected node1 (disabled), RamFilter rejected node2 (5632 MB free, 8192 MB needed)"
echo enable >"$H/node1/ctl"
check "l1 boots once node1 is enabled" sh -c "$(declare -f boot); I=$I; boot l1"
check_eq "on node1" "$(host_of l1)" node1

# --- a forced host ---
check "t3 forced onto node4 boots" sh -c "$(declare -f new boot); I=$I; new t3 m1.tiny host=node4 && boot t3"
check_eq "on node4, though it has the least room" "$(host_of t3)" node4
new s1 m1.small host=node4
refused s1 "ForceHostFilter rejected node1 (not the forced host node4), ForceHostFilter rejected node2 (not the forced host node4), ForceHostFilter rejected node3 (not the forced host node4), RamFilter rejected node4 (1024 MB free, 2048 MB needed)"
check_eq "s1 keeps its forced host" "$(host_of s1)" node4
check "forcing another host after the failure" sh -c "echo node3 > $I/s1/host"
check "s1 boots on node3" sh -c "$(declare -f boot); I=$I; boot s1"
check_eq "s1 is on node3" "$(host_of s1)" node3

# --- server groups ---
mkdir "$G/spread" "$G/together"
echo anti-affinity >"$G/spread/policy"
echo affinity >"$G/together/policy"
for n in 1 2 3; do new "a$n" m1.tiny group=spread; done
check "three anti-affinity members boot" sh -c "$(declare -f boot); I=$I; boot a1 && boot a2 && boot a3"
check_eq "on three hosts" "$(for n in 1 2 3; do host_of a$n; done | sort -u | wc -l)" 3
check_eq "the group lists them" "$(ls "$G/spread/members" | tr '\n' ' ')" "a1 a2 a3 "
check_fails "the policy is fixed once members are placed" "Device or resource busy" \
	bash -c "echo affinity > $G/spread/policy"
new a4 m1.tiny group=spread
new a5 m1.tiny group=spread
check "a fourth boots on the fourth host" sh -c "$(declare -f boot); I=$I; boot a4"
refused a5 "ServerGroupAntiAffinityFilter rejected node1 (group spread has a member there)"
for n in 1 2 3; do new "b$n" m1.tiny group=together; done
check "three affinity members boot" sh -c "$(declare -f boot); I=$I; boot b1 && boot b2 && boot b3"
check_eq "on one host" "$(for n in 1 2 3; do host_of b$n; done | sort -u | wc -l)" 1
mkdir "$G/nopolicy"
new c1 m1.tiny group=nopolicy
check_fails "a group without a policy is refused" "Invalid argument" bash -c "echo start > $I/c1/ctl"
check "c1's fault says so" grep -q "group nopolicy has no policy" "$I/c1/fault"
check_eq "c1 stayed stopped" "$(cat "$I/c1/state")" stopped
for x in a1 a2 a3 a4 a5 b1 b2 b3 c1; do rmdir "$I/$x"; done

# --- a host that is down ---
stop compute-node3
check "node3 is down" wait_for 6 file_is "$H/node3/state" down
new t4 m1.large
refused t4 "ComputeFilter rejected node3 (down)"
compute 3
check "node3 is back" wait_for 10 file_is "$H/node3/state" up
wait_compute node3
rmdir "$I/t4"

# --- packing ---
restart_scheduler --ram-weight-multiplier -1.0 && wait_hosts
check "p1 and p2 boot" sh -c "$(declare -f new boot); I=$I; new p1 m1.tiny && boot p1 && new p2 m1.tiny && boot p2"
check_eq "pack: both on one host" "$(host_of p1)" "$(host_of p2)"
check "the one with the least free RAM" grep -qE "node3|node4" "$I/p1/host"

# --- CoreFilter and DiskFilter ---
restart_scheduler --cpu-allocation-ratio 0.1 --ram-allocation-ratio 100 && wait_hosts
new v1 m1.tiny
refused v1 "CoreFilter rejected node1 ("
check "CoreFilter names node4 too" grep -q "CoreFilter rejected node4 (" "$I/v1/fault"
restart_scheduler --disk-allocation-ratio 0.01 && wait_hosts
new d1 m1.tiny
refused d1 "DiskFilter rejected node1 ("
restart_scheduler && wait_hosts
for x in p1 p2 v1 d1; do rmdir "$I/$x"; done

# --- evacuate ---
check "e1 forced onto node3 boots" sh -c "$(declare -f new boot); I=$I; new e1 m1.tiny host=node3 && boot e1"
check "e2 forced onto node3 boots" sh -c "$(declare -f new boot); I=$I; new e2 m1.tiny host=node3 && boot e2"
check_fails "evacuate is for root" "Permission denied" \
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo evacuate > $H/node3/ctl"
# node3 stops answering (SIGSTOP): it keeps its domains.
E1=$(cat "$I/e1/id")
kill -STOP "${PID_OF[compute-node3]}"
check "node3 is down" wait_for 6 file_is "$H/node3/state" down
check "evacuate node3" sh -c "echo evacuate > $H/node3/ctl"
check "e1 is active again" sh -c "[ \"\$(timeout 20 cat $I/e1/wait)\" = active ]"
check "e2 is active again" sh -c "[ \"\$(timeout 20 cat $I/e2/wait)\" = active ]"
check "e1 left node3" test "$(host_of e1)" != node3
check "e2 left node3" test "$(host_of e2)" != node3
check_eq "node3 lists nothing" "$(ls -A "$H/node3/instances")" ""
check "the evacuation is in e1's actions" test -d "$(echo "$I"/e1/actions/*-evacuate)"
check "a second evacuate has nothing left to do" sh -c "echo evacuate > $H/node3/ctl"
kill -CONT "${PID_OF[compute-node3]}"
check "node3 is back" wait_for 10 file_is "$H/node3/state" up
check "node3 destroys its domain of e1, evacuated" \
	wait_for 20 grep -q "terminate_instance instance $E1: deleted" "$LOGS/compute-node3.log"
check "and reports nothing left" wait_for 10 file_is "$H/node3/running_vms" 0
check_eq "e1 runs on where it went" "$(cat "$I/e1/state")" active
check_fails "evacuating an instance whose host is up" "Device or resource busy" \
	bash -c "echo evacuate > $I/e1/ctl"
check "says why" grep -q "cannot evacuate e1: its host node.* is up" "$I/e1/fault"

# --- a claim the host refuses, and the reschedule ---
# node1 and node2 restart reporting once a minute, then get domains the
# scheduler has not heard of (cast to them directly): the scheduler still
# sees them empty and picks them; they refuse, and the instance is
# rescheduled, up to max_attempts (2 here) hosts.
for x in $(ls "$I"); do rmdir "$I/$x"; done
stop compute-node1
stop compute-node2
compute 1 --report-interval 60
compute 2 --report-interval 60
wait_compute node1 && wait_compute node2
# hog HOST UUID MB: a domain on HOST the scheduler does not know of.
hog() {
	rpc_as novafs cast "compute.$1" start_instance \
		"{\"instance\":{\"uuid\":\"$2\",\"name\":\"hog\",\"flavor\":\"m1.large\",\"vcpus\":1,\"memory_mb\":$3,\"disk_gb\":1},\"expected_task_state\":\"spawning\"}" &&
	wait_for 10 grep -q "start_instance instance $2 (hog): active" "$LOGS/compute-$1.log"
}
check "a domain on node1 behind the scheduler's back" hog node1 0b7c5d1e-1111-4222-8333-944455556666 10000
check "r1 boots" sh -c "$(declare -f new boot); I=$I; new r1 m1.medium && boot r1"
check_eq "r1 is not on node1" "$(host_of r1)" node2
check "node1's refusal is in r1's start record" grep -q "node1 refused it: ComputeResourcesUnavailable: .*memory_mb.*; rescheduling" "$I"/r1/actions/*-start/events
check "and the host that took it" grep -q "scheduled on node2" "$I"/r1/actions/*-start/events
check "the start ended well" file_is "$(echo "$I"/r1/actions/*-start)/result" success
check_eq "node2 lists r1" "$(ls "$H/node2/instances")" r1
check_eq "node1 does not" "$(ls -A "$H/node1/instances")" ""
check "rmdir r1 gives its claim back" rmdir "$I/r1"
check "a domain on node2 behind the scheduler's back" hog node2 0b7c5d1e-2222-4222-8333-944455556666 5000
new r2 m1.medium
echo start >"$I/r2/ctl"
check_eq "after two refusals r2 is in error" "$(timeout 20 cat "$I/r2/wait" | cut -d: -f1-2)" "error: ComputeResourcesUnavailable"
check "its fault counts the hosts tried" grep -q "(host 2 of at most 2)" "$I/r2/fault"
check_eq "r2 has no host" "$(host_of r2)" ""
check "both refusals are in its record" test "$(grep -c "refused it" "$I"/r2/actions/*-start/events)" = 2
check "the record ended in error" file_is "$(echo "$I"/r2/actions/*-start)/result" error
rmdir "$I/r2"

# --- a scheduler that answers too late ---
# Its late claim is released: the start that timed out will not happen.
stop novafs
start_novafs --service-down-time 3 --rpc-timeout 1500
new z1 m1.tiny
Z1=$(cat "$I/z1/id")
kill -STOP "${PID_OF[scheduler]}"
check_fails "a start while the scheduler is stopped times out" "Connection timed out" \
	bash -c "echo start > $I/z1/ctl"
check_eq "z1 stays as it was" "$(cat "$I/z1/state") $(cat "$I/z1/task")" "stopped none"
kill -CONT "${PID_OF[scheduler]}"
check "the scheduler answered late, and claimed" \
	wait_for 10 grep -q "select_destinations instance $Z1 flavor m1.tiny: host" "$LOGS/scheduler.log"
check "then dropped that claim" wait_for 10 grep -q \
	"release_resources instance $Z1 flavor m1.tiny on any host: its claim dropped" "$LOGS/scheduler.log"
check "z1 starts when asked again" sh -c "$(declare -f boot); I=$I; boot z1"

done_testing
