#!/usr/bin/env bash
# fresh_reads.sh - a read right after a change returns the new value,
# thousands of times, for changes made by the reader itself and for
# changes that arrive through the bus (a compute host's report).
#
# Each round on one of K instances: `start` or `stop` to ctl; at once
# task and state, which must show the claimed task or its outcome, never
# what was there before the write returned; then wait, whose answer must
# be what state says at once after it; and stat() must give the size of
# what was read, so the kernel's cached attributes were invalidated too.
# The reader uses no cache-defeating trick: plain open/read/close, as cat.
. "$(dirname "$0")/../lib/common.sh"

ROUNDS=${ROUNDS:-2000}
K=8   # instances, m1.tiny each
I=$MNT/instances
start_stack || { not_ok "stack up"; done_testing; exit 1; }
for i in $(seq $K); do
	mkdir "$I/f$i" && echo m1.tiny >"$I/f$i/flavor" && echo start >"$I/f$i/ctl"
done
check "$K instances active" wait_for 30 sh -c \
	"! cat $I/f*/wait | grep -qv '^active\$'"

/usr/bin/python3 - "$I" "$K" "$ROUNDS" >"$TEST_TMP/fresh.out" 2>&1 <<'EOF'
import os, sys

top, k, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def read(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        data = b""
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                return data.decode()
            data += chunk
    finally:
        os.close(fd)

def write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)

ACTIONS = {"active": ("stop", "powering-off", "stopped"),
           "stopped": ("start", "powering-on", "active")}
stale = []
for n in range(rounds):
    d = "%s/f%d" % (top, n % k + 1)
    before = read(d + "/state").strip()
    cmd, task, after = ACTIONS[before]
    write(d + "/ctl", cmd + "\n")
    # Right after the write: the claim, or already the outcome.
    t, s = read(d + "/task").strip(), read(d + "/state").strip()
    if not (t == task or (t == "none" and s == after)):
        stale.append("round %d: after %s, task %s state %s" % (n, cmd, t, s))
    # The outcome arrives through the bus; wait returns once applied.
    w = read(d + "/wait").strip()
    s = read(d + "/state")
    if w != after or s.strip() != after:
        stale.append("round %d: wait said %s, state %s, want %s" % (n, w, s.strip(), after))
    size = os.stat(d + "/state").st_size
    if size != len(s.encode()):
        stale.append("round %d: stat size %d, read %d bytes" % (n, size, len(s)))
print("rounds=%d stale=%d" % (rounds, len(stale)))
for line in stale[:20]:
    print(line)
sys.exit(1 if stale else 0)
EOF
check_eq "$ROUNDS rounds, no stale read" "$(head -n 1 "$TEST_TMP/fresh.out")" "rounds=$ROUNDS stale=0"
[ "$TAP_FAILED" = 0 ] || sed 's/^/#   /' "$TEST_TMP/fresh.out" | head -n 25

# A change made through another descriptor, by another process: a
# reader that kept its own descriptor open sees it on its next read.
exec 3<"$I/f1/state"
want=$(cat "$I/f1/state")
check_eq "a descriptor kept open reads the state" "$(cat <&3)" "$want"
case $want in active) cmd=stop new=stopped ;; *) cmd=start new=active ;; esac
echo $cmd >"$I/f1/ctl"
cat "$I/f1/wait" >/dev/null
check_eq "after the change, it reads the new one from offset 0" \
	"$(/usr/bin/python3 -c 'import os; print(os.pread(3, 64, 0).decode().strip())')" "$new"
exec 3<&-

done_testing
