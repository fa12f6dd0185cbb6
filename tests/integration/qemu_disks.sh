#!/usr/bin/env bash
# qemu_disks.sh - instances' disks on a real hypervisor, qemu:///system
# with virt_type qemu, driven over the bus: a tiny raw and a tiny qcow2
# image in the test's directory, an instance started from each has a
# qcow2 overlay in the instances directory (a libvirt storage pool of
# this test alone) backed by its image, of the flavor's size, which the
# firmware finds (it boots from it, and finds nothing to boot); a
# redelivered start reuses the overlay, a rebuild makes it again from
# the other image; a host restarted with an overlay, no domain and its
# pool stopped takes the overlay again; missing and directory images
# fail the start and make nothing; a terminate right behind a start
# leaves nothing; terminate deletes the overlay and never the image,
# whose bytes the guests never changed.  Every domain, volume and the pool go at the end,
# also when the test fails.  Needs libvirtd, QEMU and qemu-img (started
# here when libvirtd does not run; exit 77 where it cannot).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"

URI=qemu:///system
A=9e4f5a6b-7c8d-4e9f-8a0b-0c1d2e3f4a01
Bu=9e4f5a6b-7c8d-4e9f-8a0b-0c1d2e3f4a02
C=9e4f5a6b-7c8d-4e9f-8a0b-0c1d2e3f4a03
# Images, named in the store by their ids as novafs names them.
RAW_ID=9e4f5a6b-7c8d-4e9f-8a0b-0c1d2e3f4af1
QCOW2_ID=9e4f5a6b-7c8d-4e9f-8a0b-0c1d2e3f4af2
A_DIR=9e4f5a6b-7c8d-4e9f-8a0b-0c1d2e3f4af3
GONE=9e4f5a6b-7c8d-4e9f-8a0b-0c1d2e3f4af4
CONSOLE=$TEST_TMP/console
IMAGES=$TEST_TMP/images
INSTANCES=$TEST_TMP/instances
POOL=$(disk_pool "$INSTANCES")
HEARD=$LOGS/listener.log
NODE1_LOG=$LOGS/compute-node1.log
GIB=1073741824

qemu_require
cleanup() {
	local u
	stop_stack
	for u in "$A" "$Bu" "$C"; do
		virsh -q -c "$URI" destroy "instance-$u" >/dev/null 2>&1
		virsh -q -c "$URI" undefine --managed-save "instance-$u" >/dev/null 2>&1
		virsh -q -c "$URI" vol-delete --pool "$POOL" "$u" >/dev/null 2>&1
	done
	disk_pool_remove "$URI" "$POOL"
	qemu_release
	libvirtd_stop
}
trap cleanup EXIT

mkdir -p "$IMAGES/$A_DIR"
qemu-img create -q -f raw "$IMAGES/$RAW_ID" 1M
printf 'a raw image' | dd of="$IMAGES/$RAW_ID" conv=notrunc status=none
qemu-img create -q -f qcow2 "$IMAGES/$QCOW2_ID" 2M
SUM=$(cd "$IMAGES" && sha256sum "$RAW_ID" "$QCOW2_ID")

# image ID FORMAT: the image member of image ID, its file in $IMAGES.
image() {
	local size
	size=$(stat -c %s "$IMAGES/$1")
	echo "{\"id\":\"$1\",\"name\":\"tiny\",\"path\":\"$IMAGES/$1\",\"disk_format\":\"$2\",\"size\":$size,\"virtual_size\":$(qemu-img info --output=json "$IMAGES/$1" | jq '."virtual-size"')}"
}
RAW=$(image $RAW_ID raw)
QCOW2=$(image $QCOW2_ID qcow2)
inst() { echo "{\"uuid\":\"$1\",\"name\":\"d$1\",\"flavor\":\"m1.nano\",\"vcpus\":1,\"memory_mb\":64,\"disk_gb\":1,\"image\":$2}"; }
cast() {
	rpc_as novafs cast compute.node1 "$1" \
		"{\"instance\":$(inst "$2" "$3"),\"expected_task_state\":\"$4\"}" >/dev/null
}
terminate() {
	rpc_as novafs cast compute.node1 terminate_instance \
		"{\"instance\":{\"uuid\":\"$1\",\"name\":\"d\"}}" >/dev/null
}
# info UUID: what qemu-img says of UUID's overlay (-U: QEMU holds it).
info() { qemu-img info -U --output=json "$INSTANCES/$1"; }
# overlay UUID IMAGE FORMAT: UUID's overlay is qcow2 on IMAGE of FORMAT,
# of the flavor's 1 GB.
overlay() {
	info "$1" | jq -e --arg b "$IMAGES/$2" --arg f "$3" --argjson s "$GIB" \
		'.format == "qcow2" and ."backing-filename" == $b and
		 ."backing-filename-format" == $f and ."virtual-size" == $s'
}
console_says() {
	grep '"method":"console_output"' "$HEARD" |
		jq -j --arg u "$1" 'select(.args.uuid == $u) | .args.data' | grep -q "$2"
}
running() { [ "$(virsh -q -c "$URI" domstate "instance-$1" 2>/dev/null)" = running ]; }
ours() { virsh -q -c "$URI" list --all --name | grep -E "instance-($A|$Bu|$C)"; }

spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$HEARD" || diag "listener did not start"
node1() {
	REPORT_INTERVAL=60 start_compute node1 --libvirt-uri "$URI" --virt-type qemu \
		--console-dir "$CONSOLE" --instances-dir "$INSTANCES"
}
node1
check "node1 serves qemu:///system" wait_for 10 grep -q "serving topic compute (libvirt $URI, virt type qemu)" "$NODE1_LOG"

cast start_instance "$A" "$RAW" spawning
check "start A from the raw image: active" wait_for 30 at_least 1 reports "$A" active
check "... its overlay: qcow2 on the raw image, 1 GB" overlay "$A" $RAW_ID raw
check "... in the test's pool, which runs" sh -c "virsh -q -c '$URI' vol-list --pool '$POOL' | grep -q '$INSTANCES/$A'"
check "... the guest runs on it" running "$A"
check "... and its firmware tries to boot it" wait_for 30 console_says "$A" "Booting from Hard Disk"
cast start_instance "$Bu" "$QCOW2" spawning
check "start B from the qcow2 image: active" wait_for 30 at_least 1 reports "$Bu" active
check "... its overlay: qcow2 on the qcow2 image, 1 GB" overlay "$Bu" $QCOW2_ID qcow2
check "... the guest runs on it" running "$Bu"

inode=$(stat -c %i "$INSTANCES/$A")
cast start_instance "$A" "$RAW" spawning
check "start A again (a redelivery): active" wait_for 30 at_least 2 reports "$A" active
check_eq "... the same overlay" "$(stat -c %i "$INSTANCES/$A")" "$inode"

cast rebuild_instance "$A" "$QCOW2" rebuilding
check "rebuild A from the qcow2 image: active" wait_for 30 at_least 3 reports "$A" active
check "... its overlay is made again, on that image" overlay "$A" $QCOW2_ID qcow2
check "... the guest runs on it" running "$A"

# A host restarted with an overlay whose domain went meanwhile, and its
# pool stopped (as by a libvirtd that does not autostart it).
stop compute-node1
virsh -q -c "$URI" destroy "instance-$Bu" >/dev/null
virsh -q -c "$URI" undefine "instance-$Bu" >/dev/null
virsh -q -c "$URI" pool-destroy "$POOL" >/dev/null
inode=$(stat -c %i "$INSTANCES/$Bu")
node1
cast start_instance "$Bu" "$QCOW2" spawning
check "start B on the restarted host, its domain gone: active" wait_for 30 at_least 2 reports "$Bu" active
check_eq "... on the overlay it had" "$(stat -c %i "$INSTANCES/$Bu")" "$inode"
check "... the guest runs on it" running "$Bu"
check "... the pool runs again" sh -c "virsh -q -c '$URI' pool-info '$POOL' | grep -q '^State: *running'"

# no_image PATH FORMAT: the image member of a path that is no image.
no_image() { echo "{\"id\":\"$(basename "$1")\",\"name\":\"tiny\",\"path\":\"$1\",\"disk_format\":\"$2\",\"size\":1,\"virtual_size\":1}"; }
cast start_instance "$C" "$(no_image "$IMAGES/$GONE" raw)" spawning
check "start C from an image that does not exist: error" wait_for 30 at_least 1 reports "$C" error
check_eq "... ImageNotFound" "$(last_fault "$C")" \
	"ImageNotFound: image $GONE (tiny): its file $IMAGES/$GONE: No such file or directory"
check "... no overlay" test ! -e "$INSTANCES/$C"
cast start_instance "$C" "$(no_image "$IMAGES/$A_DIR" qcow2)" spawning
check "start C from a directory: error" wait_for 30 at_least 2 reports "$C" error
check_eq "... ImageUnacceptable" "$(last_fault "$C")" \
	"ImageUnacceptable: image $A_DIR (tiny): its file $IMAGES/$A_DIR is not a regular file"
check "... no overlay, no domain" sh -c "test ! -e '$INSTANCES/$C' && ! virsh -q -c '$URI' dominfo instance-$C"

# A terminate right behind a start (and a redelivered terminate).
cast start_instance "$C" "$RAW" spawning
terminate "$C"
terminate "$C"
check "start C, terminate it at once, twice: deleted" wait_for 30 deleted "$C" 2
check "... no overlay, no domain" sh -c "test ! -e '$INSTANCES/$C' && ! virsh -q -c '$URI' dominfo instance-$C"

terminate "$A"
terminate "$Bu"
check "terminate A and B" wait_for 30 sh -c "grep -q 'terminate_instance instance $A: deleted' '$NODE1_LOG' && grep -q 'terminate_instance instance $Bu: deleted' '$NODE1_LOG'"
check "... their overlays are gone" sh -c "test ! -e '$INSTANCES/$A' && test ! -e '$INSTANCES/$Bu'"
check_eq "... no volume in the pool" "$(virsh -q -c "$URI" vol-list --pool "$POOL" | awk 'NF' | wc -l)" 0
check_eq "... the images are still there, their bytes unchanged" \
	"$(cd "$IMAGES" && sha256sum "$RAW_ID" "$QCOW2_ID")" "$SUM"
check_eq "virsh list --all shows none of the domains" "$(ours)" ""
stop_stack
check "the test's pool goes" sh -c "virsh -q -c '$URI' pool-destroy '$POOL' && virsh -q -c '$URI' pool-undefine '$POOL'"
check "... and is not listed" sh -c "! virsh -q -c '$URI' pool-list --all --name | grep -qx '$POOL'"

done_testing
