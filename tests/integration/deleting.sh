#!/usr/bin/env bash
# deleting.sh - removing objects the way tools remove directories (README
# "Writing files"): rm -r, Python's shutil.rmtree and Ruby's
# FileUtils.rm_rf unlink every file and rmdir every subdirectory before
# the object's own directory.  They delete an instance as rmdir does, and
# a second run changes nothing; removing one of an object's files or
# subdirectories changes nothing and the kernel finds it again; another
# user's rm -r is refused and deletes nothing; an object that may not go
# (a network in use, a host that is up) fails rm -r with its own error and
# stays whole; a descriptor kept across rm -r is stale.
. "$(dirname "$0")/../lib/common.sh"

start_stack || { not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances
N=$MNT/networks
PY=/usr/bin/python3
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
FILES="actions console ctl fault flavor group host id image ip mac network power_state spec state target_state task wait"

# boot NAME [NETWORK]: a new m1.tiny instance, started and active.
boot() {
	mkdir "$I/$1" && echo m1.tiny >"$I/$1/flavor" &&
		{ [ -z "${2:-}" ] || echo "$2" >"$I/$1/network"; } &&
		echo start >"$I/$1/ctl" && [ "$(timeout 20 cat "$I/$1/wait")" = active ]
}
# terminated ID: the compute host destroyed instance ID's domain.
terminated() {
	wait_for 10 grep -q "terminate_instance instance $1: deleted" "$LOGS/compute-node1.log"
}
listing() { ls "$1" | tr '\n' ' ' | sed 's/ $//'; }

# --- rm -r ---
check "boot a1" boot a1
ID=$(cat "$I/a1/id")
check "it has an action record" test -f "$I/a1/actions/000001-start/result"
exec 7<"$I/a1/state"
check "rm -r of a started instance" rm -r "$I/a1"
check "it is gone" test ! -e "$I/a1"
check "its domain went" terminated "$ID"
check_fails "a descriptor kept across rm -r is stale" "Stale file handle" bash -c "cat <&7"
exec 7<&-
check "a second rm -rf changes nothing" rm -rf "$I/a1"
check_eq "the domain went once" "$(grep -c "terminate_instance instance $ID: deleted" "$LOGS/compute-node1.log")" 1

check "boot a2" boot a2
ID=$(cat "$I/a2/id")
check "shutil.rmtree of a started instance" $PY -c "import shutil; shutil.rmtree('$I/a2')"
check "it is gone" test ! -e "$I/a2"
check "its domain went" terminated "$ID"
check_fails "a second rmtree finds nothing there" "No such file" $PY -c "import shutil; shutil.rmtree('$I/a2')"
if command -v ruby >/dev/null; then
	check "boot a3" boot a3
	ID=$(cat "$I/a3/id")
	ruby -rfileutils -e "FileUtils.rm_rf('$I/a3', secure: true)"
	check "rm_rf(secure: true) removes nothing: its chmod 0700 is refused" test -d "$I/a3"
	check "FileUtils.rm_rf of a started instance" ruby -rfileutils -e "FileUtils.rm_rf('$I/a3')"
	check "it is gone" test ! -e "$I/a3"
	check "its domain went" terminated "$ID"
	check "a second rm_rf changes nothing" ruby -rfileutils -e "FileUtils.rm_rf('$I/a3')"
else
	diag "ruby is not installed: FileUtils.rm_rf not tried"
fi

# --- removing a part: nothing changes ---
check "boot k1" boot k1
check "rm of its flavor says nothing" sh -c "rm $I/k1/flavor 2>&1 | grep . && exit 1; exit 0"
check "flavor is still there, with its value" file_is "$I/k1/flavor" m1.tiny
check "rm -f of ctl" rm -f "$I/k1/ctl"
check "a command still runs" sh -c "echo reboot > $I/k1/ctl"
check "rmdir of an action record" rmdir "$I/k1/actions/000001-start"
check "its files are still there" file_is "$I/k1/actions/000001-start/action" start
check "rmdir of actions/" rmdir "$I/k1/actions"
check "it still lists both records" wait_for 20 sh -c "ls $I/k1/actions | grep -q 000002-reboot && ls $I/k1/actions | grep -q 000001-start"
check_eq "every file is listed" "$(listing "$I/k1")" "$FILES"
check_eq "the instance is active" "$(timeout 20 cat "$I/k1/wait")" active
check "stat finds each file again" sh -c "cd $I/k1 && stat $FILES >/dev/null"

check "rmdir of actions/ while it is open: the path finds it again" $PY -c "
import os
fd = os.open('$I/k1/actions', os.O_RDONLY)
os.rmdir('$I/k1/actions')
assert '000001-start' in os.listdir('$I/k1/actions')"
check "a shell inside it finds it again by cd" sh -c \
	"cd $I/k1/actions && rmdir ../actions && cd $I/k1/actions && ls | grep -q 000001-start"

# --- another user's rm -r ---
check_fails "rm -r of root's instance by another user" "Permission denied" "${NOBODY[@]}" rm -r "$I/k1"
check_fails "shutil.rmtree too" "Permission denied" "${NOBODY[@]}" $PY -c "import shutil; shutil.rmtree('$I/k1')"
check_fails "rmdir too" "Operation not permitted" "${NOBODY[@]}" rmdir "$I/k1"
check_eq "nothing was deleted" "$(listing "$I/k1")" "$FILES"
check_eq "k1 is still active" "$(cat "$I/k1/state")" active
check "its records are still there" test -f "$I/k1/actions/000001-start/result"
check "another user boots an instance of their own" "${NOBODY[@]}" bash -c \
	"$(declare -f boot); I=$I; boot b1"
ID=$(cat "$I/b1/id")
check "and removes it with rm -r" "${NOBODY[@]}" rm -r "$I/b1"
check "it is gone" test ! -e "$I/b1"
check "its domain went" terminated "$ID"

# --- objects that may not go ---
check "a network lab" sh -c "mkdir $N/lab && echo 198.51.100.0/24 > $N/lab/cidr"
check "an instance on it" boot n1 lab
check "its address is in allocations/" test -L "$N/lab/allocations/198.51.100.2"
BEFORE=$(cd "$N/lab" && grep -r . --exclude=fault . 2>/dev/null | sort)
check_fails "rm -r of a network in use" "Device or resource busy" rm -r "$N/lab"
check_eq "it is whole" "$(cd "$N/lab" && grep -r . --exclude=fault . 2>/dev/null | sort)" "$BEFORE"
check_eq "its files" "$(listing "$N/lab")" "allocations bridge cidr dhcp_end dhcp_start dns fault free gateway"
check "and its allocation" test -L "$N/lab/allocations/198.51.100.2"
check_fails "another user's rm -r of a network" "Permission denied" "${NOBODY[@]}" rm -r "$N/lab"
check "once unused, rm -r removes it" sh -c "rm -r $I/n1 && rm -r $N/lab"
check "it is gone" test ! -e "$N/lab"
check_fails "rm -r of a host that is up" "Device or resource busy" rm -r "$MNT/hosts/node1"
check "it is whole" sh -c "test -f $MNT/hosts/node1/state && test -L $MNT/hosts/node1/instances/k1"
check_fails "rm -r of a flavor" "Operation not permitted" rm -r "$MNT/flavors/m1.tiny"
check_eq "it is whole" "$(listing "$MNT/flavors/m1.tiny")" "disk_gb memory_mb vcpus"
check_fails "rm -r of the events stream" "Operation not permitted" rm -r "$MNT/events"

done_testing
