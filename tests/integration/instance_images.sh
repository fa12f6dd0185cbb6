#!/usr/bin/env bash
# instance_images.sh - instances/NAME/image through a real mount: which
# image an instance boots from, checked at once (an image that does not
# exist), at its first start (not active yet; a flavor smaller than the
# image's min_ram, min_disk or virtual size: refused with the reason,
# nothing scheduled) and at a resize; fixed once started; in the spec;
# an image an instance names cannot be removed; and what the compute
# host is sent: the domain on libvirt's test driver, shared through
# libvirtd so that virsh sees it, names the image as its disk's backing
# file.  Needs a libvirtd (started here if it does not run; exit 77 where
# it cannot).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"

URI=test+unix:///default
I=$MNT/instances
IM=$MNT/images
# The host's disks, in a pool of this run alone (virt/disk.h names it).
DISKS=$TEST_TMP/disks
POOL=$(disk_pool "$DISKS")

libvirtd_require
cleanup() {
	local u
	for u in $(cat "$TEST_TMP"/uuids 2>/dev/null); do
		virsh -q -c "$URI" destroy "instance-$u" >/dev/null 2>&1
		virsh -q -c "$URI" undefine "instance-$u" >/dev/null 2>&1
	done
	disk_pool_remove "$URI" "$POOL"
	stop_stack
	libvirtd_stop
}
trap cleanup EXIT

start_stack --libvirt-uri "$URI" --instances-dir "$DISKS" ||
	{ done_testing; exit 1; }

# image NAME [FILE=VALUE...] < BYTES: an image uploaded with cat, its
# files written first; waits until it is no longer being saved.
image() {
	local name=$1 kv; shift
	mkdir "$IM/$name" || return 1
	for kv in "$@"; do echo "${kv#*=}" >"$IM/$name/${kv%%=*}" || return 1; done
	cat >"$IM/$name/data" && timeout 20 cat "$IM/$name/wait" >/dev/null
}
new() {
	mkdir "$I/$1" && echo "${2:-m1.tiny}" >"$I/$1/flavor" &&
		cat "$I/$1/id" >>"$TEST_TMP/uuids"
}
# refused NAME ERRNO_TEXT FAULT: starting NAME fails so, and says why.
refused_start() {
	check_fails "$1: start refused: $3" "$2" bash -c "echo start > '$I/$1/ctl'"
	check "$1: the fault says $3" grep -qF "$3" "$I/$1/fault"
	check_eq "$1: nothing was scheduled" "$(cat "$I/$1/host")$(cat "$I/$1/state")" stopped
}
# qcow2 VIRTUAL_BYTES: a qcow2 (version 3) header saying that size, as
# qemu-img writes it, and nothing else.
qcow2() {
	python3 -c 'import struct, sys
hdr = struct.pack(">4sIQIIQIIQQIIQQQII", b"QFI\xfb", 3, 0, 0, 16, int(sys.argv[1]),
                  0, 1, 0x30000, 0x10000, 1, 0, 0, 0, 0, 4, 104)
sys.stdout.buffer.write(hdr.ljust(0x40000, b"\0"))' "$1"
}

head -c 1048576 /dev/zero | image tiny
check_eq "an image to boot from" "$(cat "$IM/tiny/status")" active
new a
check_fails "an image that does not exist" "Invalid argument" bash -c "echo nope > '$I/a/image'"
check "says so" grep -qF 'ImageNotFound: image "nope" does not exist (see images/)' "$I/a/fault"
check_eq "nothing changed" "$(cat "$I/a/image")" ""
echo tiny >"$I/a/image"
check_eq "reads back as written" "$(cat "$I/a/image")" tiny
check_eq "the fault is cleared" "$(cat "$I/a/fault")" ""

mkdir "$IM/queued"
new b
echo queued >"$I/b/image"
refused_start b "Invalid argument" "ImageNotActive: image queued is queued, not active"

head -c 4096 /dev/zero | image hungry min_ram=4096
new c
echo hungry >"$I/c/image"
refused_start c "Invalid argument" "FlavorMemoryTooSmall"
head -c 4096 /dev/zero | image roomy min_disk=10
echo roomy >"$I/c/image"
refused_start c "Invalid argument" "FlavorDiskSmallerThanMinDisk"
qcow2 $((2 * 1024 * 1024 * 1024)) | image wide
check_eq "a qcow2 of 2 GiB" "$(cat "$IM/wide/disk_format")" qcow2
echo wide >"$I/c/image"
refused_start c "Invalid argument" "FlavorDiskSmallerThanImage"
echo m1.small >"$I/c/flavor"
echo start >"$I/c/ctl"
check_eq "on a flavor with room for it, it starts" "$(timeout 20 cat "$I/c/wait")" active

echo start >"$I/a/ctl"
check_eq "a boots from tiny" "$(timeout 20 cat "$I/a/wait")" active
UA=$(cat "$I/a/id")
xml=$(virsh -q -c "$URI" dumpxml "instance-$UA")
check "its domain's disk is backed by the image's file" \
	grep -qF "$(readlink -f "$TEST_TMP/images")" <<<"$xml"
check "c's disk is as large as its qcow2" sh -c \
	"virsh -q -c '$URI' dumpxml instance-$(cat "$I/c/id") | grep -q 'qcow2'"
check_fails "the image is fixed once started" "Device or resource busy" \
	bash -c "echo wide > '$I/a/image'"
check "says why" grep -qF "cannot change the image of a: it has been started" "$I/a/fault"
check_eq "writing the same again is fine" "$(echo tiny >"$I/a/image" && echo ok)" ok
check_fails "an image an instance boots from cannot be removed" "Device or resource busy" \
	rmdir "$IM/tiny"

# A resize checks the new flavor against the image.
echo stop >"$I/c/ctl"
timeout 20 cat "$I/c/wait" >/dev/null
check_fails "a resize to a flavor smaller than the image" "Invalid argument" \
	bash -c "echo resize m1.tiny > '$I/c/ctl'"
check "says why" grep -qF "FlavorDiskSmallerThanImage" "$I/c/fault"
check_eq "c keeps its flavor" "$(cat "$I/c/flavor")" m1.small

# The spec names the image too, all or nothing.
new d
printf 'flavor = m1.tiny\nimage = nope\n' >"$TEST_TMP/spec"
check_fails "a spec naming an image that does not exist" "Invalid argument" \
	cp "$TEST_TMP/spec" "$I/d/spec"
check "says which line" grep -qF 'spec line 2: image "nope" does not exist' "$I/d/fault"
printf 'flavor = m1.tiny\nimage = tiny\nnetwork = default\n' >"$TEST_TMP/spec"
cp "$TEST_TMP/spec" "$I/d/spec"
check_eq "a spec's image" "$(cat "$I/d/image")" tiny
check_eq "reads back" "$(cat "$I/d/spec")" "$(cat "$TEST_TMP/spec")"

# Kept across a restart.
stop novafs
start_novafs
check_eq "after a restart, the image a names" "$(cat "$I/a/image")" tiny
check_eq "and d's" "$(cat "$I/d/image")" tiny

for n in a b c d; do echo delete >"$I/$n/ctl"; done
wait_for 20 sh -c "! ls '$I' | grep -q ."
check "once no instance names it, the image can be removed" rmdir "$IM/tiny"
check "no disk is left on the host" sh -c \
	"! virsh -q -c '$URI' vol-list --pool '$POOL' | grep -q ."

done_testing
