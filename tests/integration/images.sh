#!/usr/bin/env bash
# images.sh - images/ through a real mount: uploads with cp and cat
# (checksums, formats detected from content, the bytes read back), imports
# from a path written to `source` with the writer's own permissions,
# immutability, every refused input with its errno and fault, a full image
# store (a small tmpfs), an image deleted mid-upload, two writers, a
# second local user, kernel/ramdisk/min_* and rmdir while in use, and
# novafs stopped (SIGSTOP) mid-upload and resumed, and killed mid-upload
# then restarted.
. "$(dirname "$0")/../lib/common.sh"

G=$MNT/images
STORE=$TEST_TMP/images
SMALL=$TEST_TMP/small
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
F=$TEST_TMP/files
mkdir -p "$F"
chmod 755 "$F"

start_novafs || { done_testing; exit 1; }

small_cleanup() {
	grep -q " $SMALL tmpfs" /proc/mounts && umount "$SMALL"
	stop_stack
}
trap small_cleanup EXIT

# mkfile NAME KIND: a test image in $F/NAME: raw (300 KiB of random
# bytes), qcow2 (a header QEMU accepts, 1 GiB virtual), qcow2-backing,
# qcow2-datafile (the refused kinds), iso (a volume descriptor).
mkfile() {
	python3 - "$F/$1" "$2" <<'EOF'
import os, struct, sys
path, kind = sys.argv[1], sys.argv[2]
data = bytearray(os.urandom(300 * 1024))
if kind.startswith("qcow2"):
    version = 3
    backing = 512 if kind == "qcow2-backing" else 0
    incompat = 4 if kind == "qcow2-datafile" else 0
    hdr = struct.pack(">4sIQIIQIIQQIIQQQII", b"QFI\xfb", version, backing,
                      8 if backing else 0, 16, 1 << 30, 0, 1, 65536, 131072,
                      0, 0, 0, incompat, 0, 4, 104)
    data[:len(hdr)] = hdr
    data[len(hdr):65536] = bytes(65536 - len(hdr))
elif kind == "iso":
    data[32769:32774] = b"CD001"
open(path, "wb").write(data)
EOF
}
# refused WHAT ERRNO_TEXT FAULT_TEXT CMD...: CMD fails with ERRNO_TEXT and
# images/WHAT/fault says FAULT_TEXT.  upload_refused: the same for an
# upload, whose end is recorded once the writer's write has failed.
upload_refused() {
	check_fails "$1: ${*:4} is refused" "$2" "${@:4}"
	timeout 10 cat "$G/$1/wait" >/dev/null
	fault_says "$1" "$3"
}
refused() {
	check_fails "$1: ${*:4} is refused" "$2" "${@:4}"
	fault_says "$1" "$3"
}
fault_says() {
	local img=$1 fault=$2
	if wait_for 5 grep -qF -- "$fault" "$G/$img/fault"; then ok "$img: the fault says why"; else
		not_ok "$img: the fault says why"; diag "fault: $(cat "$G/$img/fault")"; diag "want: $fault"; fi
}
parts() { ls -A "$STORE" | grep -c '\.part$'; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- an upload ---
check_eq "images/ is open to all, sticky" "$(stat -c %A "$G")" drwxrwxrwt
mkdir "$G/cirros"
check_eq "a new image is queued" "$(cat "$G/cirros/status")" queued
check_eq "its files" "$(ls "$G/cirros" | tr '\n' ' ')" \
	"checksum data disk_format fault id kernel md5 min_disk min_ram progress ramdisk size source status virtual_size wait "
check_fails "a queued image has no data to read" "No data available" cat "$G/cirros/data"
check "touch changes nothing" sh -c "touch $G/cirros/data && [ \"\$(cat $G/cirros/status)\" = queued ]"
mkfile disk.raw raw
check "cp uploads it" cp "$F/disk.raw" "$G/cirros/data"
check_eq "wait says active" "$(timeout 10 cat "$G/cirros/wait")" active
check_eq "status" "$(cat "$G/cirros/status")" active
check_eq "size" "$(cat "$G/cirros/size")" 307200
check_eq "virtual_size (raw: its size)" "$(cat "$G/cirros/virtual_size")" 307200
check_eq "checksum is the SHA-256" "$(cat "$G/cirros/checksum")" "$(sha "$F/disk.raw")"
check_eq "md5" "$(cat "$G/cirros/md5")" "$(md5sum "$F/disk.raw" | cut -d' ' -f1)"
check_eq "disk_format detected" "$(cat "$G/cirros/disk_format")" raw
check_eq "progress" "$(cat "$G/cirros/progress")" "307200 of 307200 bytes (100%)"
check "data reads back the bytes" cmp "$F/disk.raw" "$G/cirros/data"
check_eq "ls -l data shows its size" "$(stat -c %s "$G/cirros/data")" 307200
id=$(cat "$G/cirros/id")
check "the store holds it as UUID" cmp "$F/disk.raw" "$STORE/$id"
check_eq "mode 0644, for QEMU" "$(stat -c %a "$STORE/$id")" 644
check_eq "the store is search-only for others" "$(stat -c %a "$STORE")" 711
check_eq "no part file is left" "$(parts)" 0
check "another user reads it" "${NOBODY[@]}" cmp "$F/disk.raw" "$G/cirros/data"
check "the events stream saw it" sh -c "timeout 1 cat $MNT/events | grep -q 'image	cirros	status	saving	active'"

# --- immutable once active ---
upload_refused cirros "Operation not permitted" "ImageImmutable: image cirros is active" \
	cp "$F/disk.raw" "$G/cirros/data"
refused cirros "Operation not permitted" "ImageImmutable" truncate -s 0 "$G/cirros/data"
refused cirros "Operation not permitted" "ImageImmutable" bash -c "echo qcow2 > $G/cirros/disk_format"
check "writing the disk_format it has changes nothing" bash -c "echo raw > $G/cirros/disk_format"
check_eq "still the bytes" "$(sha "$G/cirros/data")" "$(sha "$F/disk.raw")"

# --- formats from content ---
mkfile disk.qcow2 qcow2
mkfile disk.iso iso
mkdir "$G/q" "$G/iso"
check "cat > data uploads a qcow2" sh -c "cat $F/disk.qcow2 > $G/q/data"
check_eq "it is active" "$(timeout 10 cat "$G/q/wait")" active
check_eq "its format" "$(cat "$G/q/disk_format")" qcow2
check_eq "its virtual size, from the header" "$(cat "$G/q/virtual_size")" 1073741824
check "an iso" sh -c "cp $F/disk.iso $G/iso/data && [ \"\$(timeout 10 cat $G/iso/wait)\" = active ]"
check_eq "detected" "$(cat "$G/iso/disk_format")" iso

# --- a disk_format written first ---
mkdir "$G/k"
refused k "Invalid argument" 'unknown disk_format "vmdk" (disk formats: raw, qcow2, iso, aki, ari, ami)' \
	bash -c "echo vmdk > $G/k/disk_format"
check "aki" bash -c "echo aki > $G/k/disk_format"
check_eq "reads back" "$(cat "$G/k/disk_format")" aki
check "a raw kernel uploads as aki" sh -c "cp $F/disk.raw $G/k/data && [ \"\$(timeout 10 cat $G/k/wait)\" = active ]"
check_eq "and stays aki" "$(cat "$G/k/disk_format")" aki
mkdir "$G/mismatch"
echo qcow2 >"$G/mismatch/disk_format"
upload_refused mismatch "Invalid argument" "ImageUnacceptable: the content is raw, not qcow2" \
	cp "$F/disk.raw" "$G/mismatch/data"
check_eq "killed" "$(timeout 10 cat "$G/mismatch/wait")" "killed: ImageUnacceptable: the content is raw, not qcow2"
check_eq "nothing of it in the store" "$(ls -A "$STORE" | grep -c "$(cat "$G/mismatch/id")")" 0
check_fails "a killed image has no data" "No data available" cat "$G/mismatch/data"
upload_refused mismatch "Operation not permitted" "was killed" cp "$F/disk.raw" "$G/mismatch/data"
mkdir "$G/ariq"
echo ari >"$G/ariq/disk_format"
upload_refused ariq "Invalid argument" "the content is qcow2, not ari" cp "$F/disk.qcow2" "$G/ariq/data"
for bad in backing datafile; do
	mkfile "bad.$bad" "qcow2-$bad"
	mkdir "$G/$bad"
	upload_refused "$bad" "Invalid argument" "ImageUnacceptable: a qcow2 with a" cp "$F/bad.$bad" "$G/$bad/data"
	check_eq "$bad: killed" "$(timeout 10 cat "$G/$bad/status")" killed
done
check_eq "no part file is left" "$(parts)" 0

# --- imports ---
mkdir "$G/imp"
check "a path written to source imports it" bash -c "echo $F/disk.qcow2 > $G/imp/source"
check_eq "active" "$(timeout 10 cat "$G/imp/wait")" active
check_eq "the same bytes" "$(cat "$G/imp/checksum")" "$(sha "$F/disk.qcow2")"
check_eq "source reads back" "$(cat "$G/imp/source")" "$F/disk.qcow2"
check_eq "progress" "$(cat "$G/imp/progress")" "307200 of 307200 bytes (100%)"
check "writing the same source again changes nothing" bash -c "echo $F/disk.qcow2 > $G/imp/source"
mkdir "$G/imp2"
refused imp2 "No such file or directory" "cannot read $F/nope as uid 0: No such file or directory" \
	bash -c "echo $F/nope > $G/imp2/source"
check_eq "still queued" "$(cat "$G/imp2/status")" queued
refused imp2 "Invalid argument" "is not an absolute path" bash -c "echo disk.raw > $G/imp2/source"
refused imp2 "Invalid argument" "is not a regular file" bash -c "echo /proc/self/environ > $G/imp2/source"
# Magic links are novafs's own: /proc/self/fd/N would hand anyone a file
# novafs holds open (its database, another user's import in a directory
# they cannot search), and the file it names is on no procfs.
dbfd=
for fd in /proc/"${PID_OF[novafs]}"/fd/*; do [ "$(readlink "$fd")" = "$DB" ] && dbfd=${fd##*/}; done
refused imp2 "Too many levels of symbolic links" "cannot read /proc/self/fd/$dbfd as uid 0: Too many levels of symbolic links" \
	bash -c "echo /proc/self/fd/$dbfd > $G/imp2/source"
refused imp2 "Invalid argument" "is not a regular file" bash -c "echo $F > $G/imp2/source"
: >"$F/empty"
refused imp2 "Invalid argument" "is empty" bash -c "echo $F/empty > $G/imp2/source"
# A source whose open would block (another's lease on it) or whose reads
# do (a file of novafs's own, opened O_NONBLOCK) fails with EAGAIN, which
# the store takes for a conflict to run again: never as a refusal.
head -c 4096 /dev/urandom >"$F/leased"
python3 - "$F/leased" <<'EOF' &
import fcntl, os, signal, sys, time
signal.signal(signal.SIGIO, signal.SIG_IGN)
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
open(sys.argv[1] + ".held", "w").close()
time.sleep(20)
EOF
leaser=$!
wait_for 5 test -e "$F/leased.held"
refused imp2 "Device or resource busy" "ImageSourceUnreadable: cannot read $F/leased as uid 0: Resource temporarily unavailable" \
	timeout 10 bash -c "echo $F/leased > $G/imp2/source"
kill "$leaser"
wait "$leaser" 2>/dev/null
mkdir "$G/selfimp"
check "a file of the mount is imported" timeout 10 bash -c "echo $G/imp2/wait > $G/selfimp/source"
check_eq "and killed, once" "$(timeout 10 cat "$G/selfimp/wait")" \
	"killed: ImageUploadFailed: cannot copy $G/imp2/wait into the image store: Resource temporarily unavailable"
check_eq "logged once" "$(grep -c "image selfimp: ImageUploadFailed" "$LOGS/novafs.log")" 1

# --- a second user ---
cp "$F/disk.raw" "$F/secret"
chmod 600 "$F/secret"
check "another user makes an image" "${NOBODY[@]}" mkdir "$G/nb"
check_eq "it is theirs" "$(stat -c %u "$G/nb")" 65534
refused nb "Permission denied" "cannot read $F/secret as uid 65534: Permission denied" \
	"${NOBODY[@]}" bash -c "echo $F/secret > $G/nb/source"
check "but a file of theirs imports" "${NOBODY[@]}" bash -c "echo $F/disk.raw > $G/nb/source && [ \"\$(timeout 10 cat $G/nb/wait)\" = active ]"
mkdir "$G/mine"
check_fails "they cannot write root's image" "Permission denied" "${NOBODY[@]}" cp "$F/disk.raw" "$G/mine/data"
check_fails "nor its source" "Permission denied" "${NOBODY[@]}" bash -c "echo $F/disk.raw > $G/mine/source"
check_fails "nor remove it" "Operation not permitted" "${NOBODY[@]}" rmdir "$G/mine"

# --- two writers, a delete mid-upload, a descriptor across rmdir ---
check "a second writer is refused while the first writes" python3 - "$G/mine/data" <<'EOF'
import errno, os, sys
a = os.open(sys.argv[1], os.O_WRONLY)
os.write(a, b"x" * 4096)
try:
    os.open(sys.argv[1], os.O_WRONLY)
    sys.exit("second open succeeded")
except OSError as e:
    assert e.errno == errno.EBUSY, e
os.close(a)
EOF
check_eq "the first's upload is whole" "$(timeout 10 cat "$G/mine/wait"; cat "$G/mine/size")" "active
4096"
mkdir "$G/gone"
check "an image deleted while uploading fails the writer with ESTALE" python3 - "$G/gone" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[1] + "/data", os.O_WRONLY)
os.write(fd, b"y" * 65536)
os.rmdir(sys.argv[1])
try:
    os.write(fd, b"y" * 65536)
    sys.exit("write succeeded")
except OSError as e:
    assert e.errno == errno.ESTALE, e
os.close(fd)
EOF
check "and nothing of it stays in the store" wait_for 5 sh -c "[ \$(ls -A $STORE | wc -l) = \$(ls $G | grep -vc -e mismatch -e ariq -e backing -e datafile -e imp2 -e selfimp) ]"
mkdir "$G/held"
cp "$F/disk.raw" "$G/held/data"
timeout 10 cat "$G/held/wait" >/dev/null
check "a descriptor kept across rmdir fails with ESTALE" python3 - "$G/held" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[1] + "/data", os.O_RDONLY)
os.rmdir(sys.argv[1])
try:
    os.read(fd, 10)
    sys.exit("read succeeded")
except OSError as e:
    assert e.errno == errno.ESTALE, e
EOF

# --- kernel, ramdisk, min_ram, min_disk ---
mkdir "$G/vm"
refused vm "Invalid argument" 'ImageNotFound: kernel: image "nope" does not exist' bash -c "echo nope > $G/vm/kernel"
refused vm "Invalid argument" "an image cannot be its own" bash -c "echo vm > $G/vm/ramdisk"
check "kernel names another image" bash -c "echo k > $G/vm/kernel && echo iso > $G/vm/ramdisk"
check_eq "reads back" "$(cat "$G/vm/kernel")" k
refused vm "Invalid argument" 'min_ram "lots" is not a number of MB' bash -c "echo lots > $G/vm/min_ram"
refused vm "Invalid argument" 'min_disk "-1" is not a number of GB' bash -c "echo -1 > $G/vm/min_disk"
check "min_ram and min_disk" bash -c "echo 1024 > $G/vm/min_ram && echo 2 > $G/vm/min_disk"
check_eq "a new image's min_ram" "$(cat "$G/imp2/min_ram")" 0
refused k "Device or resource busy" "ImageInUse: image k is the kernel of image vm" rmdir "$G/k"
check "k is still there" test -d "$G/k"

# --- the image store is full ---
stop_novafs() { fusermount3 -u "$MNT"; stop novafs; }
stop_novafs
mkdir -p "$SMALL"
mount -t tmpfs -o size=1m tmpfs "$SMALL"
IMAGE_DIR=$SMALL start_novafs
mkdir "$G/big"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$F/big"
upload_refused big "No space left on device" "StorageFull: cannot write to the image store: No space left on device" \
	cp "$F/big" "$G/big/data"
check_eq "killed" "$(timeout 10 cat "$G/big/status")" killed
check "no partial file stays in the store" wait_for 5 sh -c "[ -z \"\$(ls -A $SMALL)\" ]"
check_eq "and its space is free" "$(df --output=used -k "$SMALL" | tail -n 1 | tr -d ' ')" 0
stop_novafs
umount "$SMALL"

# --- an instance uses an image: rmdir refused ---
python3 - "$DB" <<'EOF'
import sqlite3, sys, time, uuid
db = sqlite3.connect(sys.argv[1])
now = time.time_ns()
db.execute("INSERT INTO instances (uuid, name, created_at, updated_at, image) VALUES (?, 'web1', ?, ?, 'cirros')",
           (str(uuid.uuid4()), now, now))
db.commit()
EOF
start_novafs
refused cirros "Device or resource busy" "ImageInUse: image cirros is in use by instance web1" rmdir "$G/cirros"
check_eq "its file is still there" "$(sha "$STORE/$id")" "$(sha "$F/disk.raw")"
check "an active image survives a restart" cmp "$F/disk.raw" "$G/cirros/data"

# --- novafs killed mid-upload, then restarted ---
mkdir "$G/cut"
python3 - "$G/cut/data" 2>/dev/null <<'EOF' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b"z" * 65536)
time.sleep(30)
EOF
writer=$!
wait_for 5 sh -c "[ \"\$(cat $G/cut/status)\" = saving ]"
check_eq "saving while it writes" "$(cat "$G/cut/status")" saving
check_eq "progress counts the bytes" "$(cat "$G/cut/progress")" "65536 bytes"
check "the part file is private" test "$(stat -c %a "$STORE"/.*.part)" = 600
stop novafs KILL
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT"
touch "$STORE/00000000-0000-4000-8000-000000000000"
start_novafs
check_eq "the upload is killed" "$(cat "$G/cut/status")" killed
check "its fault says it was interrupted" grep -q "ImageUploadFailed: the upload was interrupted (novafs stopped)" "$G/cut/fault"
check_eq "the store holds no part file" "$(parts)" 0
check "nor a file of no image" test ! -e "$STORE/00000000-0000-4000-8000-000000000000"
check "the log says so" grep -q "image cut: killed: its upload was interrupted" "$LOGS/novafs.log"

# --- novafs stopped (SIGSTOP) in the middle of an upload, then resumed:
# the writer waits, and nothing is lost ---
head -c $((16 * 1024 * 1024)) /dev/urandom >"$F/paused"
mkdir "$G/paused"
cp "$F/paused" "$G/paused/data" &
writer=$!
sleep 0.1
kill -STOP "${PID_OF[novafs]}"
sleep 1
kill -CONT "${PID_OF[novafs]}"
check "the cp through a stopped novafs succeeds" wait "$writer"
check_eq "the image is active" "$(timeout 20 cat "$G/paused/wait")" active
check_eq "with every byte" "$(cat "$G/paused/checksum")" "$(sha256sum <"$F/paused" | cut -d' ' -f1)"

# --- removing ---
check "rmdir of an image nothing uses" rmdir "$G/q"
check_eq "removes its file" "$(ls -A "$STORE" | grep -c "$(cat "$G/iso/id")x")" 0
check "rm -r of a killed one" rm -r "$G/cut"
done_testing
