#!/usr/bin/env bash
# Drives a real mount with shell tools, as a user would: the instance
# lifecycle, the flavor file, bad input, permissions and the rename dance
# of config management tools.
. "$(dirname "$0")/../lib/common.sh"

start_stack || { not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances

check_eq "top level lists every collection and events" "$(ls "$MNT" | tr '\n' ' ')" "events flavors groups hosts images instances networks services "
check_eq "flavors are seeded" "$(ls "$MNT/flavors" | tr '\n' ' ')" "m1.large m1.medium m1.small m1.tiny "
check_eq "m1.medium has 2 vCPUs" "$(cat "$MNT/flavors/m1.medium/vcpus")" 2
check_eq "m1.small has 2048 MB" "$(cat "$MNT/flavors/m1.small/memory_mb")" 2048
check_fails "flavors are read-only" "Permission denied" mkdir "$MNT/flavors/m1.huge"

# Creating
check "mkdir creates an instance" mkdir "$I/web1"
check_eq "a new instance is stopped" "$(cat "$I/web1/state")" stopped
check_eq "with no task" "$(cat "$I/web1/task")" none
check "its id is a UUID" grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$I/web1/id"
check_eq "no fault" "$(cat "$I/web1/fault")" ""
check_eq "its files" "$(ls "$I/web1" | tr '\n' ' ')" "actions console ctl fault flavor group host id image ip mac network power_state spec state target_state task wait "
check_eq "ls -l shows the creator" "$(stat -c %U "$I/web1")" root
check_eq "ls -l shows ctl writable by its owner" "$(stat -c %A "$I/web1/ctl")" "-rw-r--r--"
check_eq "stat size matches content" "$(stat -c %s "$I/web1/state")" 8
check_fails "mkdir of an existing name" "File exists" mkdir "$I/web1"

# Bad names
check_fails "mkdir with a space" "Invalid argument" mkdir "$I/bad name"
check_fails "mkdir with a star" "Invalid argument" mkdir "$I/a*b"
check_fails "mkdir with 64 bytes" "Invalid argument" mkdir "$I/$(printf 'a%.0s' $(seq 64))"
check "mkdir with 63 bytes works" mkdir "$I/$(printf 'b%.0s' $(seq 63))"
check "rmdir it" rmdir "$I/$(printf 'b%.0s' $(seq 63))"
check_fails "mkdir ." "File exists" mkdir "$I/."
check_fails "mkdir .." "File exists" mkdir "$I/.."
check_fails "mkdir with a non-ASCII name" "Invalid argument" mkdir "$I/wéb"
check "bad names left nothing behind" test "$(ls "$I")" = web1

# The flavor file
check_fails "an unknown flavor" "Invalid argument" bash -c "echo m1.huge > $I/web1/flavor"
check "the reason is in fault" grep -q 'FlavorNotFound: flavor "m1.huge" does not exist' "$I/web1/fault"
check "and in the log" grep -q 'FlavorNotFound' "$LOGS/novafs.log"
check_eq "and the flavor is unchanged" "$(cat "$I/web1/flavor")" ""
check "echo a flavor" bash -c "echo m1.small > $I/web1/flavor"
check "reads back byte for byte" cmp <(echo m1.small) "$I/web1/flavor"
check "printf without newline" bash -c "printf 'm1.tiny' > $I/web1/flavor"
check "reads back without newline" cmp <(printf 'm1.tiny') "$I/web1/flavor"
check_eq "a good write clears the fault" "$(cat "$I/web1/fault")" ""
check "set m1.small again" bash -c "echo m1.small > $I/web1/flavor"

check_fails "a flavor file over 4 KiB" "File too large" /usr/bin/python3 -c "
import os; fd = os.open('$I/web1/flavor', os.O_WRONLY | os.O_TRUNC); os.write(fd, b'm' * 5000)"
check_fails "truncating flavor to a size" "Invalid argument" truncate -s 3 "$I/web1/flavor"
check "flavor survives bad writes" cmp <(echo m1.small) "$I/web1/flavor"

# Bad commands and read-only files
check_fails "an unknown command" "Invalid argument" bash -c "echo reboot-now > $I/web1/ctl"
check "its reason is in fault" grep -q 'InvalidInput: unknown command "reboot-now' "$I/web1/fault"
check "ctl reads what the state allows" grep -qx start "$I/web1/ctl"
check_fails "state is read-only" "Permission denied" bash -c "echo active > $I/web1/state"
check_fails "id is read-only" "Permission denied" bash -c "echo x > $I/web1/id"
check "rm of ctl changes nothing" sh -c "rm -f $I/web1/ctl && test -e $I/web1/ctl"
check_eq "state unchanged by bad writes" "$(cat "$I/web1/state")" stopped

# Start
check "mkdir noflavor" mkdir "$I/noflavor"
check_fails "start without a flavor" "Invalid argument" bash -c "echo start > $I/noflavor/ctl"
check "says to set one" grep -q "noflavor has no flavor" "$I/noflavor/fault"
check_eq "and stays stopped" "$(cat "$I/noflavor/state")" stopped
check "rmdir noflavor" rmdir "$I/noflavor"
check "echo start" bash -c "echo start > $I/web1/ctl"
check "reaches active" wait_for 20 file_is "$I/web1/state" active
check_eq "on the host the scheduler chose" "$(cat "$I/web1/host")" node1
check_eq "task done" "$(cat "$I/web1/task")" none
check_eq "power state running" "$(cat "$I/web1/power_state")" running
check_fails "start while active" "Device or resource busy" bash -c "echo start > $I/web1/ctl"
check "reason readable" grep -q 'cannot start web1: it is active (start needs stopped or error)' "$I/web1/fault"
check_eq "still active" "$(cat "$I/web1/state")" active
check_fails "flavor is fixed once started" "Device or resource busy" bash -c "echo m1.large > $I/web1/flavor"
check "flavor unchanged" cmp <(echo m1.small) "$I/web1/flavor"
check "ls -l works" ls -l "$I/" "$MNT/flavors/"
check "compute defined the domain" grep -q "start_instance instance $(cat "$I/web1/id")" "$LOGS/compute-node1.log"

# Stop and start again
check "echo stop" bash -c "echo stop > $I/web1/ctl"
check "reaches stopped" wait_for 20 file_is "$I/web1/state" stopped
check_eq "power state shutdown" "$(cat "$I/web1/power_state")" shutdown
check_fails "stop while stopped" "Device or resource busy" bash -c "echo stop > $I/web1/ctl"
check "start again" bash -c "echo start > $I/web1/ctl"
check "active again" wait_for 20 file_is "$I/web1/state" active
check_eq "same host" "$(cat "$I/web1/host")" node1

# Config management: temp file, chmod, chown, touch, fsync, rename over.
check "mkdir web2" mkdir "$I/web2"
check "write a temp file" bash -c "printf 'm1.tiny\n' > $I/web2/.flavor.tmp"
check "chmod it" chmod 0644 "$I/web2/.flavor.tmp"
check "chown it" chown root:root "$I/web2/.flavor.tmp"
check "touch it" touch -d '2020-01-01' "$I/web2/.flavor.tmp"
check "sync it" sync "$I/web2/.flavor.tmp"
check "ls shows it" sh -c "ls -a $I/web2 | grep -qx .flavor.tmp"
check "rename it over flavor" mv "$I/web2/.flavor.tmp" "$I/web2/flavor"
check "flavor holds its bytes" cmp <(printf 'm1.tiny\n') "$I/web2/flavor"
check "the temp file is gone" test ! -e "$I/web2/.flavor.tmp"
check "chmod, chown, touch, sync of flavor" sh -c "chmod 0644 $I/web2/flavor && chown root $I/web2/flavor && touch $I/web2/flavor && sync $I/web2/flavor"
check "a bad temp file" bash -c "echo m1.nope > $I/web2/.t2"
check_fails "does not rename over flavor" "Invalid argument" /usr/bin/python3 -c "import os; os.rename('$I/web2/.t2', '$I/web2/flavor')"
check "and is kept" test -e "$I/web2/.t2"
check "flavor unchanged" cmp <(printf 'm1.tiny\n') "$I/web2/flavor"
check_fails "renaming over state" "Permission denied" mv "$I/web2/.t2" "$I/web2/state"
check "rm a temp file" rm "$I/web2/.t2"
check_fails "temp files do not move between instances" "Invalid cross-device link" /usr/bin/python3 -c "
import os; open('$I/web2/.x', 'w').close(); os.rename('$I/web2/.x', '$I/web1/.x')"
rm -f "$I/web2/.x"
check "64 temp files" bash -c "for i in \$(seq 64); do : > $I/web2/.t\$i || exit 1; done"
check_fails "but not 65" "No space left on device" bash -c ": > $I/web2/.t65"
check "remove them" bash -c "rm $I/web2/.t*"
check_fails "temp files only in instances" "Operation not permitted" touch "$I/x"
if [ -x /usr/bin/python3 ]; then
	check "python's atomic replace" /usr/bin/python3 -c "
import os, tempfile
d = '$I/web2'
fd, tmp = tempfile.mkstemp(dir=d, prefix='.ansible_tmp')
os.write(fd, b'm1.medium\n'); os.fsync(fd); os.close(fd)
os.chmod(tmp, 0o644); os.utime(tmp, None)
os.rename(tmp, d + '/flavor')
assert open(d + '/flavor', 'rb').read() == b'm1.medium\n'
"
fi

# Other users (allow_other + default_permissions)
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
check "another user can list" "${NOBODY[@]}" ls "$I"
check "another user can read state" "${NOBODY[@]}" cat "$I/web1/state"
check "another user can mkdir" "${NOBODY[@]}" mkdir "$I/theirs"
check_eq "owned by them" "$(stat -c %u:%g "$I/theirs")" 65534:65534
check_fails "but cannot write root's ctl" "Permission denied" "${NOBODY[@]}" bash -c "echo stop > $I/web1/ctl"
check_fails "nor remove root's instance" "Operation not permitted" "${NOBODY[@]}" rmdir "$I/web2"
check "and can remove their own" "${NOBODY[@]}" rmdir "$I/theirs"
check "root can chown an instance" chown 65534:65534 "$I/web2"
check_eq "chown shows" "$(stat -c %u "$I/web2/state")" 65534

# Delete
ID=$(cat "$I/web1/id")
check "rmdir an active instance" rmdir "$I/web1"
check "it is gone" test ! -e "$I/web1"
check "the compute host destroyed the domain" wait_for 10 grep -q "terminate_instance instance $ID: deleted" "$LOGS/compute-node1.log"
check_fails "rmdir again" "No such file" rmdir "$I/web1"
check_fails "rmdir instances/" "Operation not permitted" rmdir "$I"

# A compute host that is down
check "web2 back to m1.tiny" bash -c "echo m1.tiny > $I/web2/flavor"
check "start web2" bash -c "echo start > $I/web2/ctl"
check "web2 active" wait_for 20 file_is "$I/web2/state" active
stop compute-node1
check_fails "stop with its host down" "Host is down" bash -c "echo stop > $I/web2/ctl"
check_eq "web2 is still active" "$(cat "$I/web2/state")" active
check_eq "with no task" "$(cat "$I/web2/task")" none
check "fault names the service" grep -q "ServiceUnavailable" "$I/web2/fault"
ID2=$(cat "$I/web2/id")
check "rmdir with its host down deletes it at once" rmdir "$I/web2"
check "web2 is gone" test ! -e "$I/web2"

# No compute host alive
check "mkdir web3" mkdir "$I/web3"
check "flavor web3" bash -c "echo m1.tiny > $I/web3/flavor"
SECONDS_BEFORE=$SECONDS
check_fails "start with no host fails" "No route to host" bash -c "echo start > $I/web3/ctl"
check "at once" test $((SECONDS - SECONDS_BEFORE)) -le 3
check_eq "the instance is in error" "$(cat "$I/web3/state")" error
check "fault says no valid host" grep -q "NoValidHost" "$I/web3/fault"
check "an errored instance can be deleted" rmdir "$I/web3"

# The scheduler is down
stop scheduler
check "mkdir web4" mkdir "$I/web4"
check "flavor web4" bash -c "echo m1.tiny > $I/web4/flavor"
check_fails "start with no scheduler" "Host is down" bash -c "echo start > $I/web4/ctl"
check_eq "web4 is not in error" "$(cat "$I/web4/state")" stopped
check_eq "nor has a host" "$(cat "$I/web4/host")" ""

# Everything back
start_scheduler
start_compute node1
check "compute host back" wait_for 20 bash -c "[ \$(grep -c 'host node1 is up' $LOGS/scheduler.log) -ge 1 ]"
check "web4 starts now" wait_for 20 bash -c "echo start > $I/web4/ctl"
check "web4 active" wait_for 20 file_is "$I/web4/state" active
check "the host, back, destroys web2's domain from its queue" wait_for 20 grep -q \
	"terminate_instance instance $ID2: deleted" "$LOGS/compute-node1.log"

# The scheduler's allocation ratios: with 1% of node1's memory to give
# (2,621 MB of a default test host's 256 GiB), m1.large (8,192 MB) fits
# nowhere, and the fault says which filter refused.
check "a scheduler that gives 1% of memory" restart_scheduler --ram-allocation-ratio 0.01
check "mkdir web5" mkdir "$I/web5"
check "flavor web5" bash -c "echo m1.large > $I/web5/flavor"
check_fails "start with no memory to give fails" "No route to host" bash -c "echo start > $I/web5/ctl"
check "fault names the RamFilter" grep -q "RamFilter rejected node1 (.* MB free, 8192 MB needed)" "$I/web5/fault"

done_testing
