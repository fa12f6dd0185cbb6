#!/usr/bin/env bash
# spec.sh - instances/NAME/spec through a real mount: every desired
# attribute in one file, written plainly or by temp file + rename,
# checked as a whole and applied all or nothing, read back byte for byte
# while the single files agree with it; every refusal names its line and
# changes nothing.
. "$(dirname "$0")/../lib/common.sh"

I=$MNT/instances
N=$MNT/networks
G=$MNT/groups

start_stack --test-memory-mb 4096 || { done_testing; exit 1; }
mkdir "$N/lab" "$G/web"
echo 198.51.100.0/24 >"$N/lab/cidr"
echo anti-affinity >"$G/web/policy"

# refused NAME ERRNO_TEXT FAULT SPEC: writing SPEC fails with ERRNO_TEXT,
# fault is FAULT, and NAME's files are as they were.
refused() {
	local before after
	before=$(cd "$I/$1" && cat flavor network group host target_state spec)
	# cat reports what close(2) says; a shell's own > does not.
	check_fails "$1: spec refused: $3" "$2" bash -c "printf '%s' '$4' | cat > $I/$1/spec"
	check_eq "$1: the fault says which line" "$(cat "$I/$1/fault")" "$3"
	after=$(cd "$I/$1" && cat flavor network group host target_state spec)
	check_eq "$1: nothing changed" "$after" "$before"
}

# --- a new instance's spec says what it has ---
mkdir "$I/a"
check_eq "a new instance's spec" "$(cat "$I/a/spec")" "network = default"

# --- written whole ---
SPEC='# the web tier
flavor = m1.tiny
network =   lab default
group = web
target_state = active
'
check "a spec written plainly" sh -c "printf '%s' '$SPEC' > $I/a/spec"
check_eq "reads back byte for byte" "$(cat "$I/a/spec"; echo x)" "${SPEC}x"
check "the flavor file says it" file_is "$I/a/flavor" m1.tiny
check_eq "the network file, a network a line" "$(cat "$I/a/network" | tr '\n' ' ')" "lab default "
check "the group file" file_is "$I/a/group" web
check "target_state" file_is "$I/a/target_state" active
check_eq "a becomes active on its own" "$(timeout 30 sh -c "until grep -qx active $I/a/state; do sleep 0.1; done; echo ok")" ok
check_eq "with a NIC on each network" "$(wc -l <"$I/a/ip")" 2
check_eq "still byte for byte" "$(cat "$I/a/spec"; echo x)" "${SPEC}x"
check "writing it again is no change" sh -c "printf '%s' '$SPEC' > $I/a/spec"

# --- by temp file and rename, as Ansible and Puppet write ---
mkdir "$I/b"
printf 'flavor = m1.small\nnetwork = lab\n' >"$I/b/.spec.tmp"
check "a spec by rename" mv "$I/b/.spec.tmp" "$I/b/spec"
check_eq "reads back" "$(cat "$I/b/spec")" "$(printf 'flavor = m1.small\nnetwork = lab')"
check "flavor m1.small" file_is "$I/b/flavor" m1.small
check "network lab" file_is "$I/b/network" lab
check "no target: b stays stopped" file_is "$I/b/state" stopped
check "no temporary file is left" test ! -e "$I/b/.spec.tmp"

# --- a single file written since: the spec says what is in force ---
echo m1.tiny >"$I/b/flavor"
check_eq "the spec follows the flavor file" "$(cat "$I/b/spec")" \
	"$(printf 'flavor = m1.tiny\nnetwork = lab')"
check "absent keys are defaults: network default" sh -c \
	"printf 'flavor = m1.tiny\n' > $I/b/spec && [ \"\$(cat $I/b/network)\" = default ]"
check "'network =' is no NIC" sh -c "printf 'network =\n' > $I/b/spec && [ -z \"\$(cat $I/b/network)\" ] && [ -z \"\$(cat $I/b/flavor)\" ]"

# --- every refusal names its line, and changes nothing ---
mkdir "$I/c"
printf 'flavor = m1.tiny\nnetwork = lab\n' >"$I/c/spec"
refused c "Invalid argument" "InvalidInput: spec line 2: unknown key \"flavour\" (keys: flavor, image, network, group, host, target_state)" \
	"network = default
flavour = m1.small"
refused c "Invalid argument" "InvalidInput: spec line 3: flavor given twice (first on line 1)" \
	"flavor = m1.small
network = lab
flavor = m1.tiny"
refused c "Invalid argument" "InvalidInput: spec line 1: not KEY = VALUE" "flavor m1.small"
refused c "Invalid argument" "FlavorNotFound: spec line 1: flavor \"m9.huge\" does not exist (see flavors/)" \
	"flavor = m9.huge
network = default"
refused c "Invalid argument" "NetworkNotFound: spec line 2: network \"nope\" does not exist (see networks/)" \
	"flavor = m1.small
network = lab nope"
refused c "Invalid argument" "InvalidInput: spec line 2: network lab is named twice (one NIC per network)" \
	"flavor = m1.small
network = lab lab"
refused c "Invalid argument" "InstanceGroupNotFound: spec line 1: group \"nogroup\" does not exist (see groups/)" \
	"group = nogroup"
refused c "Invalid argument" "ComputeHostNotFound: spec line 1: host \"node9\" does not exist (see hosts/)" \
	"host = node9"
refused c "Invalid argument" "InvalidInput: spec line 3: unknown target_state \"running\" (target states: active, stopped, paused, suspended)" \
	"flavor = m1.small
network = lab
target_state = running"
check "a good spec after refusals" sh -c "printf 'flavor = m1.small\nhost = node1\n' > $I/c/spec"
check "clears the fault" test -z "$(cat "$I/c/fault")"
check "host is forced" file_is "$I/c/host" node1

# --- a flavor too big for any host: the spec is taken, the start fails ---
mkdir "$I/big"
check "a spec naming m1.large is taken" sh -c "printf 'flavor = m1.large\ntarget_state = active\n' > $I/big/spec"
check "the fault says no host fits" wait_for 20 grep -q "NoValidHost" "$I/big/fault"

# --- once started, only target_state may change ---
refused a "Device or resource busy" "InstanceInvalidState: spec line 2: cannot change the flavor of a: it has been started" \
	"# the web tier
flavor = m1.small
network =   lab default
group = web
target_state = active"
check "a spec changing only target_state is taken" sh -c \
	"printf 'flavor = m1.tiny\nnetwork = lab default\ngroup = web\ntarget_state = stopped\n' > $I/a/spec"
check "a stops" wait_for 30 file_is "$I/a/state" stopped

# --- a second user ---
check_fails "another user cannot write root's spec" "Permission denied" \
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "echo 'flavor = m1.tiny' > $I/c/spec"
check "but can read it" setpriv --reuid=65534 --regid=65534 --clear-groups cat "$I/c/spec"

# --- a restart keeps the spec ---
stop novafs
fusermount3 -u "$MNT" 2>/dev/null
start_novafs || { done_testing; exit 1; }
check_eq "after a restart, byte for byte" "$(cat "$I/c/spec")" "$(printf 'flavor = m1.small\nhost = node1')"

for x in a b c big; do rmdir "$I/$x"; done
done_testing
