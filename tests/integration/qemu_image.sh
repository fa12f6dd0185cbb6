#!/usr/bin/env bash
# qemu_image.sh - a real guest booted from images, through the mount: a
# Debian kernel and a busybox initramfs (tests/lib/guest.sh: downloaded
# and built, never installed) are uploaded with `cp` as the images k (aki)
# and r (ari), a root disk of zeros as g (ami, kernel k, ramdisk r); an
# instance of g starts on qemu:///system with virt_type qemu (TCG: nested
# KVM hangs this kernel), and its serial console, read through the mount,
# shows the line the guest's /init prints.  A clean stop is the guest's
# own (it powers off on the ACPI power button, well before the host's
# shutdown_timeout); after rmdir no domain is left, nor any overlay in the
# host's instances dir, and the image store holds the bytes uploaded,
# untouched.  The instance has no NIC.  Needs libvirtd and QEMU (started
# here when libvirtd does not run; exit 77 where it cannot), and qemu-img,
# which libvirt runs to make the overlay in the host's storage pool.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"
. "$(dirname "$0")/../lib/guest.sh"

URI=qemu:///system
IMG=$MNT/images
W=$MNT/instances/g1
GUEST=$TEST_TMP/guest
# novafs makes the store, node1's storage pool the instances dir (a
# libvirt pool named after its path, as virt/disk.h says).
IMAGE_DIR=$TEST_TMP/image-store
INSTANCES_DIR=$TEST_TMP/instances-node1
POOL=$(disk_pool "$INSTANCES_DIR")
# A clean stop waits this long for the guest before it powers it off;
# the guest's own power-off takes a second or two under TCG.
SHUTDOWN_TIMEOUT=30

qemu_require
UUID=
cleanup() {
	stop_stack
	if [ -n "$UUID" ]; then
		virsh -q -c "$URI" destroy "instance-$UUID" >/dev/null 2>&1
		virsh -q -c "$URI" undefine --managed-save "instance-$UUID" >/dev/null 2>&1
		virsh -q -c "$URI" vol-delete --pool "$POOL" "$UUID" >/dev/null 2>&1
	fi
	disk_pool_remove "$URI" "$POOL"
	qemu_release
	libvirtd_stop
}
trap cleanup EXIT

# fail WHAT: a failure after which nothing else can be tested.
fail() { not_ok "$1"; done_testing; exit 1; }

if ! guest_build "$GUEST" 2>"$TEST_TMP/guest.err"; then
	diag "$(cat "$TEST_TMP/guest.err")"
	fail "the guest's kernel and initramfs are built"
fi
ok "the guest's kernel ($(stat -c %s "$GUEST/vmlinuz") bytes) and initramfs ($(stat -c %s "$GUEST/initrd.img") bytes) are built"
# The root disk: nothing on it, the initramfs is the whole system.
head -c 1048576 /dev/zero >"$GUEST/root.img"

start_scheduler
start_network
start_compute node1 --libvirt-uri "$URI" --virt-type qemu \
	--shutdown-timeout "$SHUTDOWN_TIMEOUT" --console-dir "$TEST_TMP/console" \
	--instances-dir "$INSTANCES_DIR"
start_novafs --image-dir "$IMAGE_DIR" || fail "novafs mounted"
wait_compute node1 || { cat "$LOGS/compute-node1.log" >&2; fail "node1 up"; }
[ -d "$IMG" ] || fail "the mount has images/"

# hash_of FILE LIKE: FILE's digest by the algorithm whose digest has the
# length of LIKE (Glance's checksum is MD5; sha256 and sha512 also do).
hash_of() {
	local h=${2#*:}
	case ${#h} in
	32) md5sum "$1" ;;
	64) sha256sum "$1" ;;
	128) sha512sum "$1" ;;
	*) echo "?" ;;
	esac | cut -d' ' -f1
}

# upload NAME FILE FORMAT [KERNEL RAMDISK]: images/NAME from FILE.
upload() {
	local d=$IMG/$1 sum
	check "mkdir images/$1" mkdir "$d"
	check "$1: disk_format $3" sh -c "echo $3 > $d/disk_format"
	if [ $# -gt 3 ]; then
		check "$1: kernel $4" sh -c "echo $4 > $d/kernel"
		check "$1: ramdisk $5" sh -c "echo $5 > $d/ramdisk"
	fi
	check "cp $(basename "$2") images/$1/data" cp "$2" "$d/data"
	if ! wait_for 60 file_is "$d/status" active; then
		diag "status $(cat "$d/status" 2>&1), fault $(cat "$d/fault" 2>&1)"
		fail "$1 is active"
	fi
	ok "$1 is active"
	check_eq "$1: its size" "$(cat "$d/size" 2>/dev/null)" "$(stat -c %s "$2")"
	sum=$(cat "$d/checksum" 2>/dev/null)
	check_eq "$1: its checksum is the file's" "${sum#*:}" "$(hash_of "$2" "$sum")"
}
upload k "$GUEST/vmlinuz" aki
upload r "$GUEST/initrd.img" ari
upload g "$GUEST/root.img" ami k r

# The store's files that hold the bytes uploaded: digest, mtime, path.
# The same, every one, once the instance is gone.
store_files() {
	local f sum
	for f in vmlinuz initrd.img root.img; do sha256sum "$GUEST/$f"; done | cut -d' ' -f1 >"$TEST_TMP/uploaded"
	find "$IMAGE_DIR" -type f | LC_ALL=C sort | while read -r f; do
		sum=$(sha256sum "$f" | cut -d' ' -f1)
		grep -qx "$sum" "$TEST_TMP/uploaded" && echo "$sum $(stat -c %Y "$f") $f"
	done
}
store_files >"$TEST_TMP/store.before"
for f in vmlinuz initrd.img root.img; do
	check "the store holds $f's bytes" grep -q "^$(sha256sum "$GUEST/$f" | cut -d' ' -f1) " "$TEST_TMP/store.before"
done

mkdir "$W" || fail "mkdir instances/g1"
ok "mkdir instances/g1"
UUID=$(cat "$W/id")
DOM=instance-$UUID
check "g1: flavor m1.tiny" sh -c "echo m1.tiny > $W/flavor"
check "g1: image g" sh -c "echo g > $W/image"
check "g1: no network" sh -c "echo > $W/network"
check_eq "g1 has no NIC" "$(cat "$W/network")" ""

t0=$(date +%s%N)
check "start" sh -c "echo start > $W/ctl"
# The console is followed like events: grep ends at the line, timeout
# if it never comes.
if timeout 90 grep -q -F -m 1 "$GUEST_LINE" "$W/console"; then
	t=$((($(date +%s%N) - t0) / 1000000))
	ok "its console says '$GUEST_LINE' $((t / 1000)).$((t % 1000 / 100)) s after start"
else
	not_ok "its console says '$GUEST_LINE' within 90 s"
	diag "state $(cat "$W/state") task $(cat "$W/task") fault $(cat "$W/fault")"
	timeout 2 cat "$W/console" | tail -n 20 | sed 's/^/#   console: /'
	virsh -q -c "$URI" dumpxml "$DOM" 2>&1 | sed 's/^/#   /'
fi
check_eq "g1 is active" "$(timeout 60 cat "$W/wait")" active
check_eq "virsh: the guest runs" "$(virsh -q -c "$URI" domstate "$DOM" 2>&1)" running
virsh -q -c "$URI" dumpxml "$DOM" >"$TEST_TMP/domain.xml" 2>&1
check "virsh: it boots the store's kernel and initrd directly" sh -c \
	"grep -q '<kernel>$IMAGE_DIR/' $TEST_TMP/domain.xml &&
	 grep -q '<initrd>$IMAGE_DIR/' $TEST_TMP/domain.xml"
check "virsh: its disk is an overlay in the host's instances dir" sh -c \
	"virsh -q -c $URI domblklist $DOM | grep -q ' $INSTANCES_DIR/'"

t0=$(date +%s%N)
check "stop" sh -c "echo stop > $W/ctl"
state=$(timeout 90 cat "$W/wait")
t=$((($(date +%s%N) - t0) / 1000000))
check_eq "g1 is stopped" "$state" stopped
if [ "$state" != stopped ]; then
	not_ok "the guest powered itself off on ACPI (g1 is $state)"
elif [ "$t" -lt $((SHUTDOWN_TIMEOUT * 1000 - 5000)) ]; then
	ok "the guest powered itself off on ACPI (in $t ms, not the ${SHUTDOWN_TIMEOUT} s timeout)"
else
	not_ok "the guest powered itself off on ACPI (took $((t / 1000)) s)"
	# Without <features><acpi/>, libvirt runs QEMU with -no-acpi: the
	# power button never reaches the guest.
	grep -q '<acpi/>' "$TEST_TMP/domain.xml" || diag "the domain has no <features><acpi/>"
fi
if timeout 5 grep -q -F -m 1 "$GUEST_OFF_LINE" "$W/console"; then
	diag "its console says '$GUEST_OFF_LINE'"
fi
check_eq "power shutdown" "$(cat "$W/power_state")" shutdown

check "rmdir instances/g1" rmdir "$W"
check "virsh list --all: nothing of it is left" wait_for 20 sh -c \
	"! virsh -q -c $URI list --all --name | grep -qx $DOM"
check "no overlay is left in the host's instances dir" wait_for 20 sh -c \
	"[ -z \"\$(find $INSTANCES_DIR -type f)\" ]"
check "nor in its storage pool" sh -c \
	"! virsh -q -c $URI vol-list $POOL | grep -q ."
store_files >"$TEST_TMP/store.after"
check "the image store is untouched" cmp "$TEST_TMP/store.before" "$TEST_TMP/store.after"
for i in k r g; do
	check_eq "$i: still active" "$(cat "$IMG/$i/status" 2>/dev/null)" active
done

done_testing
