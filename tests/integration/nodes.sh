#!/usr/bin/env bash
# nodes.sh - every node type of the novafs core through a real mount of
# the fixture tree (tests/tools/nodefs.c): a nested collection that
# persists, a symlink, a stream followed by tail -f and poll(), a blob
# written and read back by offset at 1 GiB without being held in memory.
. "$(dirname "$0")/../lib/common.sh"

NODEFS=$B/tests/nodefs
BLOBS=$TEST_TMP/blobs
mkdir -p "$MNT" "$BLOBS"

start_nodefs() {
	spawn nodefs "$NODEFS" --db "$TEST_TMP/nodes.db" --blobs "$BLOBS" -f "$MNT"
	wait_for 20 test -d "$MNT/boxes" || { diag "nodefs did not mount"; cat "$LOGS/nodefs.log" >&2; return 1; }
}
stop_nodefs() {
	fusermount3 -u "$MNT"
	stop nodefs
}

start_nodefs || { not_ok "nodefs mounted"; done_testing; exit 1; }
X=$MNT/boxes

# A nested collection
check "mkdir a box" mkdir "$X/b1"
check "mkdir in its nested collection" mkdir "$X/b1/items/i1" "$X/b1/items/i2"
check "write a nested attribute" sh -c "echo hello > $X/b1/items/i1/note"
check_eq "read it back" "$(cat "$X/b1/items/i1/note")" hello
check_eq "ls of the nested collection" "$(ls "$X/b1/items" | tr '\n' ' ')" "i1 i2 "
check_eq "its link count counts its subdirectories" "$(stat -c %h "$X/b1/items")" 4
check_fails "mkdir of an invalid name" "Invalid argument" mkdir "$X/b1/items/bad*name"
check_fails "mkdir of an existing name" "File exists" mkdir "$X/b1/items/i1"
check "rmdir a nested object" rmdir "$X/b1/items/i2"
check_eq "it is gone" "$(ls "$X/b1/items")" i1

# A symlink
check "mkdir b2" mkdir "$X/b2"
check_eq "a symlink's target" "$(readlink "$X/b1/peer")" ../b1
check "its target follows the label" sh -c "echo b2 > $X/b1/label"
check_eq "readlink at once" "$(readlink "$X/b1/peer")" ../b2
check "it resolves" test -d "$X/b1/peer/items"
check_eq "stat -L sees b2" "$(stat -L -c %i "$X/b1/peer")" "$(stat -c %i "$X/b2")"
check_eq "an attribute's size is fresh after a change" "$(stat -c %s "$X/b1/label")" 3

# A stream
# Line-buffered: tail writes to a file here, not a terminal.
stdbuf -oL tail -f "$MNT/ticks" >"$TEST_TMP/tail.out" 2>&1 &
TAIL=$!
check "emit a line" sh -c "echo 'emit one' > $X/b1/ctl"
check "tail -f sees it" wait_for 10 grep -qx one "$TEST_TMP/tail.out"
check "emit another" sh -c "echo 'emit two' > $X/b1/ctl"
check "tail -f follows" wait_for 10 grep -qx two "$TEST_TMP/tail.out"
kill "$TAIL"; wait "$TAIL" 2>/dev/null
check "poll() wakes when a line comes" /usr/bin/python3 -c "
import os, select, subprocess, time
fd = os.open('$MNT/ticks', os.O_RDONLY | os.O_NONBLOCK)
while True:                      # catch up
    try:
        if not os.read(fd, 65536): break
    except BlockingIOError: break
p = select.poll(); p.register(fd, select.POLLIN)
assert p.poll(200) == [], 'ready with nothing new'
subprocess.Popen(['sh', '-c', 'sleep 0.3; echo emit three > $X/b1/ctl'])
t = time.time(); ev = p.poll(5000)
assert ev and ev[0][1] & select.POLLIN, ev
assert os.read(fd, 100) == b'three\n'
print('woke after', round(time.time() - t, 2), 's')
"
check "timeout interrupts a blocking read" sh -c "timeout 1 cat $MNT/ticks >/dev/null; [ \$? = 124 ]"
check_fails "a non-blocking read at the end" "Resource temporarily unavailable" /usr/bin/python3 -c "
import os
fd = os.open('$MNT/ticks', os.O_RDONLY | os.O_NONBLOCK)
while os.read(fd, 65536): pass"
check_fails "the stream is read-only" "Permission denied" sh -c "echo x > $MNT/ticks"

# A blob at 1 GiB
PID=${PID_OF[nodefs]}
check "write 4 KiB at 1 GiB" dd if=/dev/urandom of="$TEST_TMP/chunk" bs=4096 count=1 status=none
check "into the blob by offset" dd if="$TEST_TMP/chunk" of="$X/b1/data" bs=4096 seek=262144 conv=notrunc status=none
check_eq "its size" "$(stat -c %s "$X/b1/data")" $((1024 * 1024 * 1024 + 4096))
check "read back by offset" cmp <(dd if="$X/b1/data" bs=4096 skip=262144 count=1 status=none) "$TEST_TMP/chunk"
check "a hole reads as zeros" cmp <(dd if="$X/b1/data" bs=4096 skip=1000 count=1 status=none) <(head -c 4096 /dev/zero)
check "stream 64 MiB through it" sh -c "head -c 67108864 /dev/zero | dd of=$X/b1/data bs=1M conv=notrunc status=none"
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
check "without holding it in memory (peak $HWM kB)" test "$HWM" -lt 65536
check "ftruncate it" truncate -s 10 "$X/b1/data"
check_eq "truncated" "$(stat -c %s "$X/b1/data")" 10

# Everything but the stream survives a restart; rmdir takes nested objects along
stop_nodefs
start_nodefs || { not_ok "nodefs mounted again"; done_testing; exit 1; }
check_eq "the nested object is back" "$(cat "$X/b1/items/i1/note")" hello
check_eq "the label too" "$(readlink "$X/b1/peer")" ../b2
check "rmdir a box with a nested object" rmdir "$X/b1"
stop_nodefs
start_nodefs || { not_ok "nodefs mounted a third time"; done_testing; exit 1; }
check_eq "nothing of it is left" "$(ls "$X")" b2
check "no orphan nested rows" sh -c "! /usr/bin/python3 -c \"
import sqlite3, sys
n = sqlite3.connect('$TEST_TMP/nodes.db').execute('select count(*) from items').fetchone()[0]
sys.exit(0 if n else 1)\""
stop_nodefs

done_testing
