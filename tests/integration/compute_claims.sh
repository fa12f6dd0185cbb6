#!/usr/bin/env bash
# compute_claims.sh - a compute host claims what a placement asks before
# it defines a domain (Nova's instance_claim), driven over the bus with
# rpcctl as novafs: start_instance with `limits` is refused with
# ComputeResourcesUnavailable, and no domain, when the host's own count
# says it does not fit; a start of an instance that has a domain already,
# or one without limits, is never refused; two starts that fit one at a
# time but not together get one yes and one no.  The host is the size its
# test_* options say, and its heartbeat says that size, what its domains
# hold and which domains those are; options that do not apply to the
# libvirt URI are refused at start.
. "$(dirname "$0")/../lib/common.sh"

UPDATES=$LOGS/updates.log
BEATS=$LOGS/heartbeats.log
NODE1_LOG=$LOGS/compute-node1.log
# 2 vCPUs, 2,048 MB, 20 GB; the scheduler's default ratios (16, 1.5, 1.0)
# make its limits 32 vCPUs, 3,072 MB, 20 GB.
LIMITS='{"vcpus":32,"memory_mb":3072,"disk_gb":20}'

rpc() { rpc_as novafs "$@"; }
uuid_of() { printf '0c1a1a5%d-0000-4000-8000-%012d' "$1" "$1"; }
# inst N MEMORY_MB DISK_GB: instance N (1 vCPU) as a start sends it.
inst() {
	echo "{\"uuid\":\"$(uuid_of "$1")\",\"name\":\"c$1\",\"flavor\":\"f$2\",\"vcpus\":1,\"memory_mb\":$2,\"disk_gb\":$3}"
}
# start N MEMORY_MB DISK_GB TASK [LIMITS]: casts start_instance.
start() {
	rpc cast compute.node1 start_instance \
		"{\"instance\":$(inst "$1" "$2" "$3"),\"expected_task_state\":\"$4\"${5:+,\"limits\":$5}}"
}
# report N TASK: node1's last instance_update for instance N echoing TASK,
# as {vm, power, fault}.
report() {
	grep '^{' "$UPDATES" | jq -c --arg u "$(uuid_of "$1")" --arg t "$2" \
		'select(.method == "instance_update" and .sender == "compute-node1" and
			.args.uuid == $u and .args.expected_task_state == $t) |
		 {vm: .args.vm_state, power: .args.power_state, fault: .args.fault}' |
		tail -n 1
}
reported() { [ -n "$(report "$1" "$2")" ]; }
# reported_as N TASK VM [FAULT_CLASS]: that report says VM, and FAULT_CLASS
# (or no fault).
reported_as() {
	report "$1" "$2" | jq -e --arg v "$3" --arg c "${4:-}" \
		'.vm == $v and (if $c == "" then .fault == null else .fault.class == $c end)' >/dev/null
}
no_domain() {
	rpc call compute.node1 get_instance_state \
		"{\"instance\":{\"uuid\":\"$(uuid_of "$1")\",\"name\":\"c$1\"}}" | jq -e '.exists == false'
}
terminate() {
	rpc cast compute.node1 terminate_instance \
		"{\"instance\":{\"uuid\":\"$(uuid_of "$1")\",\"name\":\"c$1\"}}"
}
# beats HOST: HOST's heartbeats so far, one a line: their numbers and
# instances (sorted), keys sorted.
beats() {
	grep '^{' "$BEATS" | jq -cS --arg h "$1" \
		'select(.method == "update_service_capabilities" and .args.host == $h and .args.up) |
		 .args | del(.report_interval, .binary, .host, .up, .version) | .instances |= sort'
}
# beat_is HOST N JSON: HOST sent more than N heartbeats, the last saying JSON.
beat_is() {
	[ "$(beats "$1" | wc -l)" -gt "$2" ] &&
		[ "$(beats "$1" | tail -n 1)" = "$(jq -cS '.instances |= sort' <<<"$3")" ]
}
# counts VCPUS MEM DISK UUID...: a node1 heartbeat's JSON holding those.
counts() {
	local v=$1 m=$2 d=$3 list=
	shift 3
	[ $# = 0 ] || list=$(printf '"%s",' "$@")
	echo "{\"disk_gb\":20,\"disk_gb_used\":$d,\"hypervisor_type\":\"TEST\",\"instances\":[${list%,}],\"memory_mb\":2048,\"memory_mb_used\":$m,\"vcpus\":2,\"vcpus_used\":$v}"
}
# heard DESC HOST JSON: asked now, HOST's next heartbeat says JSON.
heard() {
	local n
	n=$(beats "$2" | wc -l)
	rpc fanout compute publish_service_capabilities '{}' >/dev/null
	if wait_for 10 beat_is "$2" "$n" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diag "last heartbeat: $(beats "$2" | tail -n 1)"
		diag "wanted: $3"
	fi
}

# Options that do not size this URI's hypervisor are refused at start.
check_fails "test_vcpus with qemu:///system: refused" \
	"size a test:///default host only, not qemu:///system" \
	"$B/novafs-compute" --config "$(identity compute-node3)" --amqp "$AMQP_URL" \
	--host node3 --libvirt-uri qemu:///system --test-vcpus 2
check_fails "disk_gb with test:///default: refused" \
	"a test:///default host's is test_disk_gb" \
	"$B/novafs-compute" --config "$(identity compute-node3)" --amqp "$AMQP_URL" \
	--host node3 --disk-gb 20

spawn updates "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
spawn heartbeats "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen fanout:scheduler
wait_for 10 grep -q '^listening' "$UPDATES" && wait_for 10 grep -q '^listening' "$BEATS" ||
	diag "the listeners did not start"
start_compute node1 --test-vcpus 2 --test-memory-mb 2048 --test-disk-gb 20
start_compute node2
check "node1 says its size" wait_for 10 grep -q \
	"a test host of 2 vCPUs, 2048 MB and 20 GB" "$NODE1_LOG"
heard "node1's heartbeat: its size, nothing held" node1 "$(counts 0 0 0)"
heard "node2's heartbeat: the default size (64 vCPUs, 256 GiB, 2,048 GB)" node2 \
	'{"disk_gb":2048,"disk_gb_used":0,"hypervisor_type":"TEST","instances":[],"memory_mb":262144,"memory_mb_used":0,"vcpus":64,"vcpus_used":0}'

# Instance 1 (2,048 MB, 10 GB) fits under the limits.
check "start 1 with limits is cast" start 1 2048 10 spawning "$LIMITS"
check "1 is reported active" wait_for 10 reported_as 1 spawning active
heard "the heartbeat counts 1 and names it" node1 "$(counts 1 2048 10 "$(uuid_of 1)")"

# Instance 2 (2,048 MB, 20 GB) does not: 1,024 MB and 10 GB are left.
check "start 2 with limits is cast" start 2 2048 20 spawning "$LIMITS"
check "2 is reported" wait_for 10 reported 2 spawning
check "... in error, ComputeResourcesUnavailable" reported_as 2 spawning error ComputeResourcesUnavailable
check_eq "... saying what is short" "$(report 2 spawning | jq -r .fault.message)" \
	"Insufficient compute resources: memory_mb: 2048 needed, 1024 free of limit 3072; disk_gb: 20 needed, 10 free of limit 20"
check_eq "... with no power state" "$(report 2 spawning | jq -r .power)" nostate
check "... and no domain" no_domain 2
check "node1 logged the refusal" grep -q \
	"start_instance instance $(uuid_of 2) (c2): error (nostate): ComputeResourcesUnavailable" "$NODE1_LOG"
heard "the heartbeat still counts 1 alone" node1 "$(counts 1 2048 10 "$(uuid_of 1)")"

# Instance 1 again, with limits it would not fit under a second time: a
# redelivered start; it has its domain, so it is not claimed again.
check "start 1 again with limits" start 1 2048 10 powering-on "$LIMITS"
check "... reports active, not refused" wait_for 10 reported_as 1 powering-on active
check "stop 1" rpc cast compute.node1 stop_instance \
	"{\"instance\":$(inst 1 2048 10),\"expected_task_state\":\"powering-off\"}"
check "... stopped" wait_for 10 reported_as 1 powering-off stopped
heard "a stopped instance still counts" node1 "$(counts 1 2048 10 "$(uuid_of 1)")"
check "start 1 without limits" start 1 2048 10 powering-on
check "... active" wait_for 10 reported_as 1 powering-on active

# Without limits (a sender before 1.2) nothing is checked, even past them.
check "start 3 (2,048 MB, 20 GB) without limits" start 3 2048 20 spawning
check "... active" wait_for 10 reported_as 3 spawning active
heard "the heartbeat counts both, past the host's size" node1 \
	"$(counts 2 4096 30 "$(uuid_of 1)" "$(uuid_of 3)")"

check "terminate 1" terminate 1
check "terminate 3" terminate 3
heard "a terminated domain is neither counted nor named" node1 "$(counts 0 0 0)"

# Two starts that fit one at a time, not together, back to back: the
# first is claimed and defined before the second is looked at.
start_both() { start 4 2048 1 spawning "$LIMITS" && start 5 2048 1 spawning "$LIMITS"; }
both_reported() { reported 4 spawning && reported 5 spawning; }
check "start 4 and 5 (2,048 MB each) at once" start_both
check "both are reported" wait_for 10 both_reported
check "4 is active" reported_as 4 spawning active
check "5 is refused" reported_as 5 spawning error ComputeResourcesUnavailable
heard "the heartbeat counts 4 alone" node1 "$(counts 1 2048 1 "$(uuid_of 4)")"
check "terminate 4" terminate 4

done_testing
