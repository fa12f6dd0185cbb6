#!/usr/bin/env bash
# compute_events.sh - a domain changed behind novafs's back shows within
# 2 s, from libvirt's lifecycle events alone (the report interval is a
# minute here, so no periodic sync can be what shows it).
#
# The test driver lives in the process that opens test:///default, so
# nobody else can touch a compute host's domains there.  libvirtd serves
# the same driver to every client as test+unix:///default: one shared
# hypervisor for as long as a client holds a connection (the last close
# resets it).  The compute host connects there, and this test changes its
# domains with `virsh -c test+unix:///default destroy|suspend`.  Needs a
# libvirtd (started here if it does not run; exit 77 where it cannot).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"

URI=test+unix:///default
UUID=5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b
DOM=instance-$UUID
INST="{\"uuid\":\"$UUID\",\"name\":\"bg1\",\"flavor\":\"m1.tiny\",\"vcpus\":1,\"memory_mb\":512,\"disk_gb\":1}"
HEARD=$LOGS/listener.log

libvirtd_require
cleanup() {
	virsh -q -c "$URI" destroy "$DOM" >/dev/null 2>&1
	virsh -q -c "$URI" undefine --managed-save "$DOM" >/dev/null 2>&1
	stop_stack
	libvirtd_stop
}
trap cleanup EXIT

# synced POWER: the last sync_power_states from node1 lists $UUID as POWER.
synced() {
	grep '"method":"sync_power_states"' "$HEARD" | tail -n 1 |
		jq -e --arg u "$UUID" --arg p "$1" \
		'.sender == "compute-node1" and (.args.domains | index({power_state: $p, uuid: $u}) != null)' >/dev/null
}

spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$HEARD" || diag "listener did not start"
REPORT_INTERVAL=60 start_compute node1 --libvirt-uri "$URI"
check "node1 syncs at startup through libvirtd" wait_for 10 grep -q '"startup":true' "$HEARD"
check "start_instance" rpc_as novafs cast compute.node1 start_instance \
	"{\"instance\":$INST,\"expected_task_state\":\"spawning\"}"
check "the start shows in a sync" wait_for 10 synced running
check_eq "virsh sees the compute host's domain" \
	"$(virsh -q -c "$URI" domstate "$DOM" 2>&1)" "running"

virsh -q -c "$URI" suspend "$DOM" >/dev/null
check "paused behind its back: synced as paused within 2 s" within_ms 2000 synced paused
virsh -q -c "$URI" resume "$DOM" >/dev/null
check "resumed behind its back: running within 2 s" within_ms 2000 synced running
virsh -q -c "$URI" destroy "$DOM" >/dev/null
check "destroyed behind its back: shutdown within 2 s" within_ms 2000 synced shutdown
check "terminate_instance" rpc_as novafs cast compute.node1 terminate_instance \
	"{\"instance\":{\"uuid\":\"$UUID\",\"name\":\"bg1\"}}"
gone() { ! virsh -q -c "$URI" domstate "$DOM" >/dev/null 2>&1; }
check "the domain is gone" wait_for 10 gone
check "and the last sync lists nothing" wait_for 5 \
	sh -c "grep '\"method\":\"sync_power_states\"' '$HEARD' | tail -n 1 | grep -q '\"domains\":\\[\\]'"

done_testing
