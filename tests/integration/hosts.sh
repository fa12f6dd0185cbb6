#!/usr/bin/env bash
# hosts.sh - hosts/, services/ and groups/ through a real mount with four
# compute hosts: what the heartbeats say, disable and enable with a
# reason, a host going down (stopped, then SIGSTOPped) and coming back,
# forgetting a host, the per-host instance views, server groups and their
# member views, and every refusal with its reason.
. "$(dirname "$0")/../lib/common.sh"

H=$MNT/hosts
S=$MNT/services
G=$MNT/groups
I=$MNT/instances

# Heartbeats every second; a host is down after 3 s without one.
export REPORT_INTERVAL=1
start_scheduler
start_network
for n in 1 2 3 4; do
	start_compute "node$n" --test-vcpus $((4 * n)) --test-memory-mb $((4096 * n)) \
		--test-disk-gb $((100 * n))
done
start_novafs --service-down-time 3 || { done_testing; exit 1; }
for n in 1 2 3 4; do wait_compute "node$n"; done

# --- hosts/ ---
check "every host appears" wait_for 10 test -d "$H/node4"
check_eq "hosts/ lists the four" "$(ls "$H" | tr '\n' ' ')" "node1 node2 node3 node4 "
check_eq "a host's directory" "$(ls "$H/node2" | tr '\n' ' ')" \
	"ctl disabled_reason disk_gb disk_gb_used enabled fault hypervisor_type instances memory_mb memory_mb_used running_vms state vcpus vcpus_used "
check "node2 is up" file_is "$H/node2/state" up
check "node2 is enabled" file_is "$H/node2/enabled" true
check_eq "node2 reports its test capacity" \
	"$(cat "$H/node2/vcpus" "$H/node2/memory_mb" "$H/node2/disk_gb" | tr '\n' ' ')" \
	"8 8192 200 "
check_eq "with nothing used" \
	"$(cat "$H/node2/vcpus_used" "$H/node2/memory_mb_used" "$H/node2/disk_gb_used" "$H/node2/running_vms" | tr '\n' ' ')" \
	"0 0 0 0 "
check "hypervisor type" file_is "$H/node2/hypervisor_type" TEST
check_eq "no instances on node2 yet" "$(ls -A "$H/node2/instances")" ""
check_fails "mkdir in hosts/ is refused" "Permission denied" mkdir "$H/node9"
check_fails "mkdir in a view is refused" "Operation not permitted" mkdir "$H/node2/instances/x"

# --- services/ ---
check "the scheduler's heartbeat is heard" wait_for 5 test -d "$S/novafs-scheduler.sched1"
check "and the network service's" wait_for 5 test -d "$S/novafs-network.net1"
check_eq "services/ lists every service" "$(ls "$S" | tr '\n' ' ')" \
	"novafs-compute.node1 novafs-compute.node2 novafs-compute.node3 novafs-compute.node4 novafs-network.net1 novafs-scheduler.sched1 "
check "a service's binary" file_is "$S/novafs-compute.node3/binary" novafs-compute
check "a service's host" file_is "$S/novafs-compute.node3/host" node3
check "a service's state" file_is "$S/novafs-scheduler.sched1/state" up
check "a service's report interval" file_is "$S/novafs-compute.node3/report_interval" 1
check "a service's version" grep -qE '^[0-9]+\.[0-9]+' "$S/novafs-compute.node3/version"
check "last_heartbeat is recent ISO 8601 UTC" bash -c "
	t=\$(cat $S/novafs-compute.node3/last_heartbeat)
	[[ \$t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\$ ]] &&
	[ \$((\$(date +%s) - \$(date -d \"\$t\" +%s))) -le 3 ]"

# --- disable and enable ---
check "disable with a reason" bash -c "echo 'disable kernel upgrade' > $H/node3/ctl"
check "node3 is disabled" file_is "$H/node3/enabled" false
check "its reason is kept" file_is "$H/node3/disabled_reason" "kernel upgrade"
check "enable" bash -c "echo enable > $H/node3/ctl"
check "node3 is enabled again" file_is "$H/node3/enabled" true
check_eq "without a reason" "$(cat "$H/node3/disabled_reason")" ""
check "disable without a reason" bash -c "echo disable > $H/node3/ctl"
check "node3 is disabled again" file_is "$H/node3/enabled" false
check "enable again" bash -c "echo enable > $H/node3/ctl"
check_fails "an unknown command" "Invalid argument" bash -c "echo reboot > $H/node3/ctl"
check "says why in fault" grep -q 'unknown command "reboot" (commands: enable, disable \[REASON\], evacuate)' "$H/node3/fault"
check_fails "enable takes no argument" "Invalid argument" bash -c "echo 'enable now' > $H/node3/ctl"
check_fails "a reason longer than 255 bytes" "Invalid argument" \
	bash -c "echo disable $(head -c 300 /dev/zero | tr '\0' x) > $H/node3/ctl"
check "node3 stayed enabled" file_is "$H/node3/enabled" true
check_fails "evacuating a host that is up" "Device or resource busy" bash -c "echo evacuate > $H/node3/ctl"
check "says why" grep -q "ComputeHostNotDown: host node3 is up" "$H/node3/fault"
check_fails "forgetting a host that is up" "Device or resource busy" rmdir "$H/node3"
check "host ctl is root's" bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'echo disable > $H/node3/ctl' 2>/dev/null"
check "node3 stayed enabled after the other user" file_is "$H/node3/enabled" true

# --- a host goes down and comes back ---
stop compute-node4
check "a stopped host is down at once" wait_for 5 file_is "$H/node4/state" down
check "and so is its service" file_is "$S/novafs-compute.node4/state" down
start_compute node4 --test-vcpus 16 --test-memory-mb 16384 --test-disk-gb 400
check "it comes back up" wait_for 10 file_is "$H/node4/state" up
kill -STOP "${PID_OF[compute-node4]}"
check "a host that stops heartbeating is down within the down time" \
	wait_for 6 file_is "$H/node4/state" down
kill -CONT "${PID_OF[compute-node4]}"
check "up again when its heartbeats resume" wait_for 6 file_is "$H/node4/state" up
stop compute-node4
check "down once stopped" wait_for 5 file_is "$H/node4/state" down
exec 3<"$H/node4/state"
check "a host that is down and empty is forgotten" rmdir "$H/node4"
check "gone from hosts/" test ! -e "$H/node4"
check_fails "a descriptor kept across it is stale" "Stale file handle" cat <&3
exec 3<&-
check "and from services/" test ! -e "$S/novafs-compute.node4"
check "a late goodbye from node4 is sent" rpc_as compute-node4 fanout scheduler \
	update_service_capabilities '{"binary":"novafs-compute","host":"node4","up":false}'
# Given time to arrive: the forgotten host must stay forgotten.
sleep 1.5
check "does not bring node4 back" test ! -e "$H/node4"
check "nor its service" test ! -e "$S/novafs-compute.node4"

# --- groups/ ---
check "mkdir groups/web" mkdir "$G/web"
check_eq "a group's directory" "$(ls "$G/web" | tr '\n' ' ')" "fault members policy "
check_eq "no policy yet" "$(cat "$G/web/policy")" ""
check_fails "an unknown policy" "Invalid argument" bash -c "echo soft-affinity > $G/web/policy"
check "says why" grep -q 'unknown policy "soft-affinity"' "$G/web/fault"
check "anti-affinity" bash -c "echo anti-affinity > $G/web/policy"
check "reads back" file_is "$G/web/policy" anti-affinity
check "affinity" bash -c "echo affinity > $G/web/policy"
check "mkdir an instance" mkdir "$I/a1"
check "join the group" bash -c "echo web > $I/a1/group"
check "the instance's group reads back" file_is "$I/a1/group" web
check "the group lists its member" test -L "$G/web/members/a1"
check_eq "as a link to the instance" "$(readlink "$G/web/members/a1")" "../../../instances/a1"
check "which resolves" test "$(cat "$G/web/members/a1/group")" = web
check_fails "an unknown group" "Invalid argument" bash -c "echo nosuch > $I/a1/group"
check "says why" grep -q 'InstanceGroupNotFound: group "nosuch" does not exist' "$I/a1/fault"
check "the group stayed" file_is "$I/a1/group" web
check_fails "a group with members is not removed" "Device or resource busy" rmdir "$G/web"
check "says why" grep -q "InstanceGroupInUse: group web has member a1" "$G/web/fault"
check "rm of a member link changes nothing" sh -c "rm $G/web/members/a1 && test -L $G/web/members/a1"
check "leave the group" bash -c ": > $I/a1/group"
# An empty write is applied at release, just after close returns (README,
# "Writing files").
check "the view is empty" wait_for 2 sh -c "[ -z \"\$(ls -A $G/web/members)\" ]"
check "an empty group is removed" rmdir "$G/web"

# --- a forced host ---
check "force a host" bash -c "echo node2 > $I/a1/host"
check "reads back" file_is "$I/a1/host" node2
check "node2's view lists it" test -L "$H/node2/instances/a1"
check_eq "only node2's" "$(ls "$H"/*/instances | grep -c a1)" 1
check_fails "an unknown host" "Invalid argument" bash -c "echo node7 > $I/a1/host"
check "says why" grep -q 'ComputeHostNotFound: host "node7" does not exist' "$I/a1/fault"
check "unforce" bash -c ": > $I/a1/host"
check "no view lists it" wait_for 2 sh -c "! ls $H/*/instances | grep -q a1"
check "rmdir the instance" rmdir "$I/a1"

# --- across a restart ---
check "disable node1 before a restart" bash -c "echo 'disable rack 4' > $H/node1/ctl"
stop novafs
start_novafs --service-down-time 3
check "hosts are kept" test -d "$H/node3"
check "so is a disabled host's reason" file_is "$H/node1/disabled_reason" "rack 4"
check "and services" test -d "$S/novafs-compute.node3"
check "hosts are up after the restart" wait_for 5 file_is "$H/node3/state" up

done_testing
