#!/usr/bin/env bash
# compute_images.sh - instances' images on a compute host, over the bus,
# on libvirt's test driver shared through libvirtd (test+unix:///default,
# as in compute_networks.sh), so that virsh sees the domains, the storage
# pool and the volumes the host made (the test driver keeps them in
# memory; qemu_disks.sh makes real files on qemu:///system): a start with
# an image makes a volume named after the instance, backed by the image,
# of the flavor's size or the image's, and a domain that names both; a
# redelivered start makes nothing twice; rebuild makes the disk again
# from the (new) image; terminate deletes the volume and never the image;
# an iso is a CD-ROM, a kernel a direct kernel boot; images that are not
# bootable, not there, not files, or named by a path that is not the
# store's file of their id (a forged request) fail the start and leave
# nothing; a
# host restarted with a disk but no domain or pool takes them again; a
# terminate right behind a start leaves nothing.  Needs a libvirtd
# (started here if it does not run; exit 77 where it cannot).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"

URI=test+unix:///default
UA=8c2d3e4f-5a6b-4c7d-8e9f-000000000001
UB=8c2d3e4f-5a6b-4c7d-8e9f-000000000002
UC=8c2d3e4f-5a6b-4c7d-8e9f-000000000003
UD=8c2d3e4f-5a6b-4c7d-8e9f-000000000004
# Images, named in the store by their ids as novafs names them.
CIRROS=9d3e4f5a-6b7c-4d8e-9fa0-000000000001
OTHER=9d3e4f5a-6b7c-4d8e-9fa0-000000000002
ISO=9d3e4f5a-6b7c-4d8e-9fa0-000000000003
VMLINUZ=9d3e4f5a-6b7c-4d8e-9fa0-000000000004
INITRD=9d3e4f5a-6b7c-4d8e-9fa0-000000000005
A_DIR=9d3e4f5a-6b7c-4d8e-9fa0-000000000006
GONE=9d3e4f5a-6b7c-4d8e-9fa0-000000000007
A_LINK=9d3e4f5a-6b7c-4d8e-9fa0-000000000008
HEARD=$LOGS/listener.log
NODE1_LOG=$LOGS/compute-node1.log
# A directory of this run alone, and so a pool of this run alone (its
# name is the path's): the shared test driver is anybody's.
INSTANCES=$TEST_TMP/instances
POOL=$(disk_pool "$INSTANCES")
IMAGES=$TEST_TMP/images
GIB=1073741824

mkdir -p "$IMAGES/$A_DIR"
printf 'qcow2 bytes, as far as the test driver knows\n' >"$IMAGES/$CIRROS"
printf 'raw bytes\n' >"$IMAGES/$OTHER"
printf 'iso bytes\n' >"$IMAGES/$ISO"
printf 'kernel\n' >"$IMAGES/$VMLINUZ"
printf 'initrd\n' >"$IMAGES/$INITRD"
ln -s /etc/passwd "$IMAGES/$A_LINK"
SUM=$(sha256sum "$IMAGES"/* 2>/dev/null)

# image ID FORMAT VIRTUAL_SIZE [EXTRA [PATH]]: an instance's image member,
# its file the store's (or PATH).
image() {
	echo "{\"id\":\"$1\",\"name\":\"cirros\",\"path\":\"${5:-$IMAGES/$1}\",\"disk_format\":\"$2\",\"size\":10,\"virtual_size\":$3${4:+,$4}}"
}
# file ROLE ID: a kernel or ramdisk member.
file() { echo "\"$1\":{\"id\":\"$2\",\"name\":\"${1:0:1}\",\"path\":\"$IMAGES/$2\"}"; }
# instance UUID NAME DISK_GB [IMAGE]
instance() {
	echo "{\"uuid\":\"$1\",\"name\":\"$2\",\"flavor\":\"m1.tiny\",\"vcpus\":1,\"memory_mb\":512,\"disk_gb\":$3${4:+,\"image\":$4}}"
}
QCOW2=$(image "$CIRROS" qcow2 $((2 * GIB)))

libvirtd_require
cleanup() {
	local u
	stop_stack
	for u in "$UA" "$UB" "$UC" "$UD"; do
		virsh -q -c "$URI" destroy "instance-$u" >/dev/null 2>&1
		virsh -q -c "$URI" undefine "instance-$u" >/dev/null 2>&1
	done
	disk_pool_remove "$URI" "$POOL"
	libvirtd_stop
}
trap cleanup EXIT

cast() {
	rpc_as novafs cast compute.node1 "$1" \
		"{\"instance\":$2,\"expected_task_state\":\"$3\"}"
}
terminate() {
	rpc_as novafs cast compute.node1 terminate_instance \
		"{\"instance\":{\"uuid\":\"$1\",\"name\":\"x\"}}"
}
domxml() { virsh -q -c "$URI" dumpxml "instance-$1" 2>/dev/null; }
volxml() { virsh -q -c "$URI" vol-dumpxml --pool "$POOL" "$1" 2>/dev/null; }
volumes() { virsh -q -c "$URI" vol-list --pool "$POOL" 2>/dev/null | awk 'NF {print $1}' | sort | paste -sd' '; }
no_domain() { ! virsh -q -c "$URI" dominfo "instance-$1" >/dev/null 2>&1; }
# has TEXT CMD...: CMD's output contains TEXT.
has() { local t=$1; shift; "$@" | grep -qF -- "$t"; }

spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$HEARD" || diag "listener did not start"
REPORT_INTERVAL=60 start_compute node1 --libvirt-uri "$URI" --instances-dir "$INSTANCES"
check "node1 serves $URI" wait_for 10 grep -q "serving topic compute (libvirt $URI" "$NODE1_LOG"

check "start web1 from a qcow2 image" cast start_instance "$(instance "$UA" web1 1 "$QCOW2")" spawning
check "... reports active" wait_for 10 at_least 1 reports "$UA" active
check "the pool on the instances directory is made, active, autostarted" sh -c "
	virsh -q -c '$URI' pool-dumpxml '$POOL' | grep -qF '<path>$INSTANCES</path>' &&
	virsh -q -c '$URI' pool-info '$POOL' | grep -q '^State: *running' &&
	virsh -q -c '$URI' pool-info '$POOL' | grep -q '^Autostart: *yes'"
check_eq "one volume, named after the instance" "$(volumes)" "$UA"
check "... of the image's virtual size (larger than the flavor's 1 GB)" \
	has "<capacity unit='bytes'>$((2 * GIB))</capacity>" volxml "$UA"
check "... qcow2, backed by the qcow2 image" sh -c "
	x=\$(virsh -q -c '$URI' vol-dumpxml --pool '$POOL' '$UA')
	echo \"\$x\" | grep -qF '<path>$INSTANCES/$UA</path>' &&
	echo \"\$x\" | tr -d '\n ' | grep -qF \"<backingStore><path>$IMAGES/$CIRROS</path><formattype='qcow2'/></backingStore>\""
check "the domain names the overlay as vda and its backing image" sh -c "
	virsh -q -c '$URI' dumpxml instance-$UA | tr -d '\n ' | grep -qF \
		\"<sourcefile='$INSTANCES/$UA'/><backingStoretype='file'><formattype='qcow2'/><sourcefile='$IMAGES/$CIRROS'/><backingStore/></backingStore><targetdev='vda'bus='virtio'/>\""
check "... and boots from it" has "<boot dev='hd'/>" domxml "$UA"

check "start web1 again (a redelivery)" cast start_instance "$(instance "$UA" web1 1 "$QCOW2")" spawning
check "... reports active again" wait_for 10 at_least 2 reports "$UA" active
check_eq "... and makes nothing twice" "$(volumes)" "$UA"

check "rebuild web1 from another image, raw, of a 3 GB flavor" cast rebuild_instance \
	"$(instance "$UA" web1 3 "$(image "$OTHER" raw 10)")" rebuilding
check "... reports active" wait_for 10 at_least 3 reports "$UA" active
check "... its disk is made again from that image" sh -c "
	virsh -q -c '$URI' vol-dumpxml --pool '$POOL' '$UA' | tr -d '\n ' |
		grep -qF \"<capacityunit='bytes'>$((3 * GIB))</capacity>\" &&
	virsh -q -c '$URI' vol-dumpxml --pool '$POOL' '$UA' | tr -d '\n ' |
		grep -qF \"<backingStore><path>$IMAGES/$OTHER</path><formattype='raw'/>\""
check "... which the domain names" has "<source file='$IMAGES/$OTHER'/>" domxml "$UA"

check "terminate web1" terminate "$UA"
check "... deletes its domain" wait_for 10 deleted "$UA"
check_eq "... and its disk" "$(volumes)" ""
check "terminate web1 again" terminate "$UA"
check "... is fine" wait_for 10 deleted "$UA" 2

check "start web2 from an iso, with a kernel and a 1 GB disk" cast start_instance \
	"$(instance "$UB" web2 1 "$(image "$ISO" iso 10 \
		"$(file kernel "$VMLINUZ"),$(file ramdisk "$INITRD")")")" spawning
check "... reports active" wait_for 10 at_least 1 reports "$UB" active
check "... the iso is a read-only CD-ROM" sh -c "
	virsh -q -c '$URI' dumpxml instance-$UB | tr -d '\n ' | grep -qF \
		\"<disktype='file'device='cdrom'><drivername='qemu'type='raw'/><sourcefile='$IMAGES/$ISO'/><targetdev='hdc'bus='ide'/><readonly/>\""
check "... the kernel boots directly, on a serial console, the disk its root" sh -c "
	virsh -q -c '$URI' dumpxml instance-$UB | tr -d '\n' | grep -qF \
		\"<kernel>$IMAGES/$VMLINUZ</kernel>    <initrd>$IMAGES/$INITRD</initrd>    <cmdline>console=ttyS0 root=/dev/vda</cmdline>\""
check "... the disk is blank, of the flavor's size" sh -c "
	x=\$(virsh -q -c '$URI' vol-dumpxml --pool '$POOL' '$UB')
	echo \"\$x\" | grep -qF \"<capacity unit='bytes'>$GIB</capacity>\" &&
	! echo \"\$x\" | grep -q backingStore"

# Images that cannot be booted from: refused, nothing made.
bad() {
	local desc=$1 img=$2 want=$3
	cast start_instance "$(instance "$UC" bad 1 "$img")" spawning >/dev/null
	if wait_for 10 at_least $((++BAD)) reports "$UC" error &&
	   [ "$(last_fault "$UC")" = "$want" ] && no_domain "$UC" && [ "$(volumes)" = "$UB" ]; then
		ok "$desc: refused, nothing made"
	else
		not_ok "$desc: refused, nothing made"
		diag "fault: $(last_fault "$UC")"
		diag "volumes: $(volumes)"
	fi
}
BAD=0
bad "an aki as the instance's image" "$(image "$VMLINUZ" aki 10)" \
	"InvalidInput: image.disk_format: an aki image is a kernel: an instance boots from a disk image that names it, not from it"
bad "an image whose file is not there" "$(image "$GONE" qcow2 10)" \
	"ImageNotFound: image $GONE (cirros): its file $IMAGES/$GONE: No such file or directory"
bad "an image whose file is a directory" "$(image "$A_DIR" raw 10)" \
	"ImageUnacceptable: image $A_DIR (cirros): its file $IMAGES/$A_DIR is not a regular file"
bad "an image whose file is a link" "$(image "$A_LINK" raw 10)" \
	"ImageUnacceptable: image $A_LINK (cirros): its file $IMAGES/$A_LINK is not a regular file"
bad "a kernel that is not there" "$(image "$CIRROS" qcow2 10 "$(file kernel "$GONE")")" \
	"ImageNotFound: image $CIRROS (cirros): its kernel $IMAGES/$GONE: No such file or directory"
bad "a forged path outside the image store" "$(image "$CIRROS" raw 10 "" /etc/passwd)" \
	"ImageUnacceptable: image $CIRROS (cirros): its file /etc/passwd is not $IMAGES/$CIRROS, its file in this host's image store"
bad "a forged path that climbs out of it" "$(image "$CIRROS" raw 10 "" "$IMAGES/../images/$CIRROS")" \
	"ImageUnacceptable: image $CIRROS (cirros): its file $IMAGES/../images/$CIRROS is not $IMAGES/$CIRROS, its file in this host's image store"
bad "another image's file" "$(image "$CIRROS" raw 10 "" "$IMAGES/$OTHER")" \
	"ImageUnacceptable: image $CIRROS (cirros): its file $IMAGES/$OTHER is not $IMAGES/$CIRROS, its file in this host's image store"
bad "a forged kernel path" "$(image "$CIRROS" qcow2 10 "\"kernel\":{\"id\":\"$VMLINUZ\",\"name\":\"k\",\"path\":\"/boot/vmlinuz\"}")" \
	"ImageUnacceptable: image $CIRROS (cirros): its kernel /boot/vmlinuz is not $IMAGES/$VMLINUZ, its file in this host's image store"
bad "a relative image path" "$(image "$CIRROS" qcow2 10 "" images/cirros.qcow2)" \
	"InvalidInput: image.path: \"images/cirros.qcow2\" is not an absolute path"

# A host restarted with a disk whose domain and pool went meanwhile.
check "start web4" cast start_instance "$(instance "$UD" web4 1 "$QCOW2")" spawning
check "... reports active" wait_for 10 at_least 1 reports "$UD" active
stop compute-node1
virsh -q -c "$URI" destroy "instance-$UD" >/dev/null
virsh -q -c "$URI" undefine "instance-$UD" >/dev/null
virsh -q -c "$URI" pool-destroy "$POOL" >/dev/null
REPORT_INTERVAL=60 start_compute node1 --libvirt-uri "$URI" --instances-dir "$INSTANCES"
check "start web4 on the restarted host" cast start_instance "$(instance "$UD" web4 1 "$QCOW2")" spawning
check "... reports active" wait_for 10 at_least 2 reports "$UD" active
check "... the pool runs again" sh -c "virsh -q -c '$URI' pool-info '$POOL' | grep -q '^State: *running'"
check "... the domain names its disk" has "<source file='$INSTANCES/$UD'/>" domxml "$UD"

# A terminate right behind a start, and behind a redelivered one.
cast start_instance "$(instance "$UC" web3 1 "$QCOW2")" spawning >/dev/null
cast start_instance "$(instance "$UC" web3 1 "$QCOW2")" spawning >/dev/null
terminate "$UC" >/dev/null
terminate "$UC" >/dev/null
check "start, start, terminate, terminate: deleted twice" wait_for 10 deleted "$UC" 2
check "... no domain left" no_domain "$UC"

check "terminate web2" terminate "$UB"
check "terminate web4" terminate "$UD"
check "... deletes them" wait_for 10 sh -c "grep -q 'terminate_instance instance $UB: deleted' '$NODE1_LOG' && grep -q 'terminate_instance instance $UD: deleted' '$NODE1_LOG'"
check_eq "... and every disk" "$(volumes)" ""
check_eq "the images are as they were" "$(sha256sum "$IMAGES"/* 2>/dev/null)" "$SUM"

done_testing
