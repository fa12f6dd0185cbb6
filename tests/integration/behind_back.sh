#!/usr/bin/env bash
# behind_back.sh - through the mount: a domain paused, resumed or
# destroyed behind novafs's back shows in state and power_state within 2 s;
# an instance deleted while its host is down loses its domain when the
# host comes back.
#
# The compute host uses libvirtd's shared test driver (test+unix:///default,
# see compute_events.sh), which `virsh` can change too; a `virsh event`
# listener holds a connection, so that the driver's domains outlive a
# compute host that is killed.  Needs libvirtd (started here if it does not
# run; exit 77 where it cannot).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"

URI=test+unix:///default
I=$MNT/instances

libvirtd_require
DOM=
cleanup() {
	if [ -n "$DOM" ]; then
		virsh -q -c "$URI" destroy "$DOM" >/dev/null 2>&1
		virsh -q -c "$URI" undefine --managed-save "$DOM" >/dev/null 2>&1
	fi
	virsh -q -c "$URI" destroy "instance-$FOREIGN" >/dev/null 2>&1
	virsh -q -c "$URI" undefine "instance-$FOREIGN" >/dev/null 2>&1
	stop_stack
	libvirtd_stop
}
trap cleanup EXIT
spawn holder virsh -q -c "$URI" event --all --loop
# Another deployment's domain on the shared hypervisor, named as novafs
# names its own: this novafs never made it, and must leave it alone.
FOREIGN=0f0f0f0f-1111-4222-8333-444455556666
# foreign_kept: the foreign domain runs, and still does after a pause in
# which no virsh of ours is connected.  The holder connects in its own
# time; until it does, the driver (and the domain) goes with the last
# connection, so the domain is made again until it outlives one.
foreign_kept() {
	if [ "$(virsh -q -c "$URI" domstate "instance-$FOREIGN" 2>/dev/null)" != running ]; then
		virsh -q -c "$URI" define /dev/stdin >/dev/null <<EOF || return 1
<domain type='test'><name>instance-$FOREIGN</name><uuid>$FOREIGN</uuid>
<memory>65536</memory><os><type>hvm</type></os></domain>
EOF
		virsh -q -c "$URI" start "instance-$FOREIGN" >/dev/null || return 1
	fi
	sleep 0.2
	[ "$(virsh -q -c "$URI" domstate "instance-$FOREIGN" 2>/dev/null)" = running ]
}
wait_for 20 foreign_kept || { not_ok "the holder keeps the test driver"; done_testing; exit 1; }

start_scheduler
start_network
# A report interval of a minute: what shows here comes from libvirt's
# lifecycle events, not from the periodic sync.
start_compute node1 --libvirt-uri "$URI" --report-interval 60
start_novafs || { not_ok "novafs mounted"; done_testing; exit 1; }
wait_compute node1 || { not_ok "node1 up"; done_testing; exit 1; }

mkdir "$I/bb"
echo m1.tiny >"$I/bb/flavor"
echo start >"$I/bb/ctl"
check_eq "bb is active" "$(timeout 20 cat "$I/bb/wait")" active
DOM=instance-$(cat "$I/bb/id")
check_eq "virsh sees its domain running" "$(virsh -q -c "$URI" domstate "$DOM")" running

# shows STATE POWER: state and power_state say them.
shows() { [ "$(cat "$I/bb/state") $(cat "$I/bb/power_state")" = "$1 $2" ]; }
virsh -q -c "$URI" suspend "$DOM" >/dev/null
check "virsh suspend: paused within 2 s" within_ms 2000 shows paused paused
virsh -q -c "$URI" resume "$DOM" >/dev/null
check "virsh resume: active within 2 s" within_ms 2000 shows active running
virsh -q -c "$URI" destroy "$DOM" >/dev/null
check "virsh destroy: stopped within 2 s" within_ms 2000 shows stopped shutdown
check_eq "with no task" "$(cat "$I/bb/task")" none
check "start works again" sh -c "echo start > $I/bb/ctl"
check_eq "bb is active" "$(timeout 20 cat "$I/bb/wait")" active

# Deleted while its host is down: the host destroys it from its queue.
stop compute-node1 KILL
check "rmdir while the host is down" rmdir "$I/bb"
check_eq "the domain is still there" "$(virsh -q -c "$URI" domstate "$DOM")" running
start_compute node1 --libvirt-uri "$URI" --report-interval 60
check "once the host is back, the domain is gone" wait_for 20 sh -c \
	"! virsh -q -c $URI list --all --name | grep -qx $DOM"
DOM=
check_eq "another deployment's domain, listed by every sync, is left alone" \
	"$(virsh -q -c "$URI" domstate "instance-$FOREIGN")" running

done_testing
