#!/usr/bin/env bash
# fs_semantics.sh - how the mount behaves as a file system, without any
# backend service: the write rules of the README ("Writing files"), file
# descriptors bound to objects, temporary files, names, the kernel's
# caches, and the defects the object-core issue listed, each of which
# once crashed, misbehaved or lied.
. "$(dirname "$0")/../lib/common.sh"

start_novafs || { not_ok "novafs mounted"; done_testing; exit 1; }
I=$MNT/instances
PY=/usr/bin/python3
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
mkdir "$I/w"

# --- attribute writes ---
check "echo value > flavor" sh -c "echo m1.small > $I/w/flavor"
check "reads back byte for byte" cmp <(echo m1.small) "$I/w/flavor"
check_fails "echo bogus > flavor fails in bash" "Invalid argument" bash -c "echo bogus > $I/w/flavor"
check "and in dash (whose message is always I/O error)" sh -c "! dash -c 'echo bogus > $I/w/flavor' 2>/dev/null"
check "a refusal changes nothing" cmp <(echo m1.small) "$I/w/flavor"
check "and its reason is in fault" grep -q 'FlavorNotFound: flavor "bogus" does not exist' "$I/w/fault"
check "printf without a newline is applied at close" sh -c "printf m1.tiny > $I/w/flavor"
check "as written" cmp <(printf m1.tiny) "$I/w/flavor"
check "dd bs=1 arrives whole" sh -c "printf 'm1.large\n' | dd of=$I/w/flavor bs=1 status=none"
check "as written, byte by byte" cmp <(echo m1.large) "$I/w/flavor"
check "a value split over two writes" $PY -c "
import os
fd = os.open('$I/w/flavor', os.O_WRONLY | os.O_TRUNC)
os.write(fd, b'm1.s'); os.write(fd, b'mall\n'); os.close(fd)
assert open('$I/w/flavor', 'rb').read() == b'm1.small\n'"
check "a refused part leaves nothing behind" $PY -c "
import os
fd = os.open('$I/w/flavor', os.O_WRONLY | os.O_TRUNC)
try:
    os.write(fd, b'm1.nope\n'); raise SystemExit('accepted')
except OSError: pass
os.write(fd, b'm1.tiny\n'); os.close(fd)
assert open('$I/w/flavor', 'rb').read() == b'm1.tiny\n'
assert 'm1.nope' not in open('$I/w/flavor').read()"
check "Python's buffered write" $PY -c "
with open('$I/w/flavor', 'w') as f: f.write('m1.medium\n')
assert open('$I/w/flavor').read() == 'm1.medium\n'"
check_fails "a close that applies a refused value fails" "Invalid argument" $PY -c "
import os
fd = os.open('$I/w/flavor', os.O_WRONLY | os.O_TRUNC)
os.write(fd, b'm1.nope'); os.close(fd)"
check "surrounding whitespace is ignored, the bytes kept" sh -c "printf '  m1.small \r\n' > $I/w/flavor"
check "the bytes are kept" cmp <(printf '  m1.small \r\n') "$I/w/flavor"
check_fails "a NUL byte is refused" "Invalid argument" $PY -c "
import os
fd = os.open('$I/w/flavor', os.O_WRONLY | os.O_TRUNC)
os.write(fd, b'm1.tiny\0GARBAGE\n')"
check_fails "a write past the end is refused (no holes)" "Invalid argument" $PY -c "
import os
fd = os.open('$I/w/flavor', os.O_WRONLY)
os.pwrite(fd, b'm1.tiny\n', 100)"
check_fails "O_APPEND appends (making an invalid flavor here)" "Invalid argument" bash -c "echo more >> $I/w/flavor"
check "an O_RDWR handle reads the current value" $PY -c "
import os
fd = os.open('$I/w/flavor', os.O_RDWR)
assert os.read(fd, 100) == b'  m1.small \r\n'"
check "truncate -s 0 stores the empty value" truncate -s 0 "$I/w/flavor"
check_eq "flavor is unset" "$(cat "$I/w/flavor")" ""
check ": > flavor too" sh -c "echo m1.tiny > $I/w/flavor && : > $I/w/flavor"
# (Stored at release, which the kernel sends just after close returns:
# bash's own redirections close a duplicate of the descriptor first, so
# an earlier flush cannot be the moment.)
check "unset again, once released" wait_for 5 sh -c "[ \$(stat -c %s $I/w/flavor) = 0 ]"
check_fails "a value over 4 KiB" "File too large" $PY -c "
import os
fd = os.open('$I/w/flavor', os.O_WRONLY | os.O_TRUNC); os.write(fd, b'm' * 5000)"
check_fails "a read-only attribute, for root too" "Permission denied" sh -c "echo active > $I/w/state"

# --- commands ---
check "one descriptor takes any number of commands" $PY -c "
import os
fd = os.open('$I/w/ctl', os.O_WRONLY)
bad = 0
for i in range(3000):
    try: os.write(fd, b'nothing\n')
    except OSError as e: bad += e.errno == 22
assert bad == 3000, bad"
check_fails "an unknown command" "Invalid argument" bash -c "echo reboot-now > $I/w/ctl"
check "its reason is in fault" grep -q 'InvalidInput: unknown command "reboot-now"' "$I/w/fault"
check "ctl reads the commands allowed now" grep -qx delete "$I/w/ctl"

# --- descriptors are bound to objects, not names ---
check "mkdir mine (nobody)" "${NOBODY[@]}" mkdir "$I/mine"
exec 7>"$I/mine/flavor"
check "a descriptor survives its object's rmdir" "${NOBODY[@]}" rmdir "$I/mine"
check "root makes a new one of that name" mkdir "$I/mine"
check_fails "the old descriptor does not reach it" "Stale file handle" bash -c "echo m1.tiny >&7"
exec 7>&-
check_eq "the new one is untouched" "$(stat -c %s "$I/mine/flavor")" 0
exec 7<"$I/mine/state"
rmdir "$I/mine"
check_fails "reading through a descriptor of a deleted object" "Stale file handle" bash -c "cat <&7"
exec 7<&-

# --- temporary files ---
check "ftruncate of an unlinked temp file" $PY -c "
import os
fd = os.open('$I/w/t', os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b'hello'); os.unlink('$I/w/t')
os.ftruncate(fd, 2); os.fchmod(fd, 0o640)
st = os.fstat(fd)
assert st.st_size == 2 and st.st_mode & 0o777 == 0o640, st
assert os.pread(fd, 10, 0) == b'he'"
check "ftruncate after rmdir of its directory" $PY -c "
import os
os.mkdir('$I/gone')
fd = os.open('$I/gone/t', os.O_RDWR | os.O_CREAT, 0o600)
os.rmdir('$I/gone'); os.ftruncate(fd, 0); os.fstat(fd)"
check "novafs is still serving" test -d "$I/w"
check "a temp file renamed over flavor" sh -c "echo m1.tiny > $I/w/.f.tmp && mv $I/w/.f.tmp $I/w/flavor"
check "is its content, at once" cmp <(echo m1.tiny) "$I/w/flavor"
check "stat and chmod of it work too (Ansible does both)" sh -c "stat $I/w/flavor >/dev/null && chmod 0644 $I/w/flavor"
check "a thousand renames over flavor" /usr/bin/python3 -c "
import os
for i in range(1000):
    v = b'm1.tiny\\n' if i % 2 else b'm1.small\\n'
    with open('$I/w/.r', 'wb') as f: f.write(v)
    os.rename('$I/w/.r', '$I/w/flavor')
    assert open('$I/w/flavor', 'rb').read() == v, i
    os.stat('$I/w/flavor')"
check "a bad temp file" sh -c "echo m1.nope > $I/w/.t2"
check_fails "is not renamed over flavor" "Invalid argument" $PY -c "import os; os.rename('$I/w/.t2', '$I/w/flavor')"
check "and is kept" test -e "$I/w/.t2"
check_fails "nor over a read-only file" "Permission denied" mv "$I/w/.t2" "$I/w/state"
check "rm of a temp file" rm "$I/w/.t2"
check_fails "no temp files in flavors, for root either" "Permission denied" touch "$MNT/flavors/m1.tiny/x"
check_fails "nor at the top of instances/" "Operation not permitted" touch "$I/x"
check "64 temp files" bash -c "for i in \$(seq 64); do : > $I/w/.t\$i || exit 1; done"
check_fails "but not 65" "No space left on device" bash -c ": > $I/w/.t65"
rm -f "$I"/w/.t*

# --- temporary directories (Puppet's lock directory) ---
L=$I/w/flavor20261125-1234-abcd.lock
check "mkdir of a lock directory in an instance" mkdir "$L"
check "it is listed" sh -c "ls $I/w | grep -qx flavor20261125-1234-abcd.lock"
check_eq "a directory, its mode as asked, the creator's" "$(stat -c %F:%a:%u "$L")" directory:755:0
check "chmod and touch of it" sh -c "chmod 700 $L && touch $L && [ \$(stat -c %a $L) = 700 ]"
check "rmdir of it" rmdir "$L"
check "it is gone" sh -c "test ! -e $L && ! ls $I/w | grep -q lock"
check_fails "mkdir of an attribute's name" "File exists" mkdir "$I/w/flavor"
check_fails "or of a temp file's" "File exists" sh -c ": > $I/w/.x && mkdir $I/w/.x"
rm -f "$I/w/.x"
check "temp files in a temp directory" sh -c "mkdir $I/w/d && echo hi > $I/w/d/.f && mv $I/w/d/.f $I/w/d/f && [ \$(cat $I/w/d/f) = hi ]"
check_fails "rmdir of one that holds a file" "Directory not empty" rmdir "$I/w/d"
check_fails "a temp file is not renamed over it" "Is a directory" $PY -c "
import os; open('$I/w/.f', 'w').close(); os.rename('$I/w/.f', '$I/w/d')"
check "rm -r of it" sh -c "rm -r $I/w/d $I/w/.f && test ! -e $I/w/d"
check_fails "no directory in a temp directory" "Operation not permitted" sh -c "mkdir $I/w/d2 && mkdir $I/w/d2/sub"
rmdir "$I/w/d2"
check "temp files and directories count together: 64" bash -c \
	"for i in \$(seq 32); do mkdir $I/w/.d\$i && : > $I/w/.t\$i || exit 1; done"
check_fails "but not 65" "No space left on device" mkdir "$I/w/.d65"
rm -rf "$I"/w/.d* "$I"/w/.t*
check_fails "no temp directories in flavors, for root either" "Permission denied" mkdir "$MNT/flavors/m1.tiny/x.lock"
check "another user's in their own instance, with their umask" "${NOBODY[@]}" sh -c \
	"umask 077 && mkdir $I/theirs && mkdir $I/theirs/l.lock && [ \$(stat -c %a:%u $I/theirs/l.lock) = 700:65534 ]"
check "an instance holding a temp directory and file is removed" "${NOBODY[@]}" sh -c \
	"echo x > $I/theirs/l.lock/f && rmdir $I/theirs && test ! -e $I/theirs"
mkdir "$I/w/kept.lock"

# --- names ---
check_fails "mkdir '*'" "Invalid argument" mkdir "$I/*"
check_fails "instances/* is not a directory" "No such file" stat "$I/*"
check_fails "nor flavors/*" "No such file" cat "$MNT/flavors/*/vcpus"
check_fails "a name with a newline" "Invalid argument" mkdir "$I/x
2026-11-25T00:00:00Z novafs[1] INFO: rootvm: deleted by admin"
check "cannot forge a log line" sh -c "! grep -q 'rootvm: deleted by admin' $LOGS/novafs.log"
check "unlink of a tree file changes nothing" sh -c "rm -f $I/w/ctl && test -e $I/w/ctl"
check "nor does rmdir of actions/" sh -c "rmdir $I/w/actions && test -d $I/w/actions"
check_fails "but only for its owner" "Permission denied" "${NOBODY[@]}" rm -f "$I/w/flavor"
check_fails "mkdir in actions/" "Operation not permitted" mkdir "$I/w/actions/x"
check_fails "unlink of a file of the root" "Operation not permitted" rm -f "$MNT/events"
check_fails "and of a flavor's" "Operation not permitted" rm -f "$MNT/flavors/m1.tiny/vcpus"
check_fails "rmdir of instances/" "Operation not permitted" rmdir "$I"

# --- fresh reads and attributes through the kernel's caches ---
check "stat size follows a change at once" sh -c "
for i in \$(seq 200); do
  echo m1.small > $I/w/flavor; [ \$(stat -c %s $I/w/flavor) = 9 ] || exit 1
  echo m1.tiny > $I/w/flavor; [ \$(stat -c %s $I/w/flavor) = 8 ] || exit 1
done"
check "ls -l sees a new instance at once" sh -c "mkdir $I/fresh && ls -l $I | grep -q ' fresh\$'"
check "and not a deleted one" sh -c "rmdir $I/fresh && ! ls $I | grep -q '^fresh\$'"
check_eq "link count of instances/" "$(stat -c %h "$I")" $(( 2 + $(ls "$I" | wc -l) ))
check "chown of an instance gives it away" chown 65534:65534 "$I/w"
check_eq "its files show the new owner at once" "$(stat -c %u:%g "$I/w/state")" 65534:65534

# --- a restart ---
check "a temp directory is there before" test -d "$I/w/kept.lock"
# Each read right after a write that made a value longer or shorter reads
# all of it (direct I/O: no size the kernel had before bounds it), and so
# does each shared mapping made after it (Ansible's wait_for maps what it
# searches), as the README says.
growing() {
	python3 - "$I/w/flavor" <<'EOF'
import mmap, sys
path = sys.argv[1]
for i in range(200):
    want = (b"m1.medium\n", b"m1.tiny\n")[i % 2]
    with open(path, "wb") as f:
        f.write(want)
    with open(path, "rb") as f:
        if f.read() != want:
            sys.exit("read(2) got a cut value")
    with open(path, "rb") as f:
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            if m[:] != want:
                sys.exit("a shared mapping shows %r, not %r" % (m[:], want))
EOF
}
check "a value that grows or shrinks is read whole, by read and by mmap" growing

stop novafs
start_novafs || not_ok "novafs mounted again"
check "temp directories do not survive a restart" test ! -e "$I/w/kept.lock"
check "the instance does" test -f "$I/w/flavor"

done_testing
