#!/usr/bin/env bash
# puppet.sh - Debian's `puppet apply` (7.23) against a mount, as its users
# run it: manifests in tests/data/puppet create instances (file { ensure
# => directory }), set their files one at a time or all through spec
# (file { content => }: Puppet writes a temp file beside the target, under
# a lock directory of its own, then renames it over), wait for them (an
# exec with unless, tries and try_sleep), change them, delete them (file
# { ensure => absent, force => true }); with --detailed-exitcodes every
# second run exits 0 (no change).  Owners and modes either stick or are
# refused, and bad values fail the run with the errno's message, leaving
# nothing half done.  Last, the README's manifest runs as printed.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/tools.sh"

command -v puppet >/dev/null || { echo "# skip: puppet is not installed"; exit 77; }
start_stack || { not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances
PP=$DATA/puppet
mkdir "$MNT/networks/lab" && echo 198.51.100.0/24 >"$MNT/networks/lab/cidr"
mkdir "$MNT/images/tiny" && head -c 65536 /dev/zero >"$MNT/images/tiny/data"

# apply MANIFEST [FACT=VALUE...]: puppet apply with those facts.
apply() {
	local pp=$1 kv; shift
	local facts=()
	for kv in "$@"; do facts+=("FACTER_$kv"); done
	(export FACTER_mnt="$MNT" "${facts[@]}"; puppet_run "$PP/$pp")
}
set_file() { apply set.pp "target=$1" ${2:+"value=$2"} "${@:3}"; }
no_leftovers() { ! ls -A "$I/$1" | grep -q -e '\.lock$' -e '^[a-z_]*20[0-9]*-'; }
spec_of() {
	printf '# p2: everything it should be\nflavor = m1.small\nimage = tiny\nnetwork = lab default\ntarget_state = %s\n' "$1"
}

# --- a file written the way Puppet writes (the lock directory, the temp
# file, the rename), into an instance that exists today ---
mkdir "$I/p0"
check_run "flavor through Puppet" 2 set_file "$I/p0/flavor" m1.tiny
check_eq "reads back" "$(cat "$I/p0/flavor")" m1.tiny
check_run "the same again" 0 set_file "$I/p0/flavor" m1.tiny
check "no lock or temp file left behind" no_leftovers p0
rmdir "$I/p0"

# --- create, one file at a time (p1) and through spec (p2) ---
check_run "instances.pp state=active" 2 apply instances.pp state=active
check_eq "p1 is active" "$(cat "$I/p1/state")" active
check_eq "p1's flavor reads back as written" "$(cat "$I/p1/flavor")" m1.tiny
check "p1's network too" cmp <(printf 'lab\ndefault\n') "$I/p1/network"
check "p1's image too" cmp <(printf 'tiny\n') "$I/p1/image"
check "p1's target_state too" cmp <(printf 'active\n') "$I/p1/target_state"
check_eq "p1 has an address on each" "$(wc -l <"$I/p1/ip")" 2
check "p2's spec reads back byte for byte" cmp <(spec_of active) "$I/p2/spec"
check_eq "p2 is active" "$(cat "$I/p2/state")" active
check_eq "p2's flavor says what its spec said" "$(tr -d ' \n' <"$I/p2/flavor" 2>&1)" m1.small
check_eq "p2's network too" "$(tr -s ' \n' ' ' <"$I/p2/network" 2>&1)" "lab default "
check_eq "p2's image too" "$(tr -d ' \n' <"$I/p2/image" 2>&1)" tiny
check "no lock or temp file left behind" no_leftovers p1
check_run "the same again changes nothing" 0 apply instances.pp state=active

# --- a change ---
check_run "instances.pp state=stopped" 2 apply instances.pp state=stopped
check_eq "p1 is stopped" "$(cat "$I/p1/state")" stopped
check_eq "p2 is stopped" "$(cat "$I/p2/state")" stopped
check "p2's spec says so" cmp <(spec_of stopped) "$I/p2/spec"
check_eq "p2's target_state too" "$(tr -d ' \n' <"$I/p2/target_state" 2>&1)" stopped
check_run "the same again changes nothing" 0 apply instances.pp state=stopped

# --- owners and modes ---
STAT_PATH=$I/p1/flavor
check_run "mode 0644 on flavor (what it has)" 0 set_file "$STAT_PATH" m1.tiny mode=0644
sticks_or_refused "mode 0600 on flavor" %a 600 644 set_file "$STAT_PATH" m1.tiny mode=0600
sticks_or_refused "owner nobody on flavor" %U nobody root set_file "$STAT_PATH" m1.tiny owner=nobody
check_eq "flavor is as it was" "$(cat "$STAT_PATH")" m1.tiny
STAT_PATH=$I/p1
sticks_or_refused "mode 0700 on an instance" %a 700 755 set_file "$STAT_PATH" "" mode=0700
check_run "owner nobody on an instance" 2 set_file "$STAT_PATH" "" owner=nobody
check_eq "gives it to nobody" "$(stat -c %U "$I/p1") $(stat -c %U "$I/p1/state")" "nobody nobody"
check_run "and back to root" 2 set_file "$STAT_PATH" "" owner=root
check_eq "is root's again" "$(stat -c %U "$I/p1") $(stat -c %U "$I/p1/state")" "root root"
check_run "the same again changes nothing" 0 set_file "$STAT_PATH" "" owner=root
check "no lock or temp file left behind" no_leftovers p1

# --- bad input fails the run, changes nothing ---
check_run_fails "target_state running" "Invalid argument" set_file "$I/p1/target_state" running
check "target_state is as it was" cmp <(printf 'stopped\n') "$I/p1/target_state"
check "no lock or temp file left behind" no_leftovers p1
check_run_fails "a spec with an unknown key" "Invalid argument" \
	set_file "$I/p2/spec" $'flavor = m1.small\nnetwork = lab default\ntarget_state = active\ncolour = blue'
check "its reason is in fault" grep -q 'InvalidInput: spec line 4' "$I/p2/fault"
check "the spec is as it was" cmp <(spec_of stopped) "$I/p2/spec"
check_eq "target_state too: nothing half applied" "$(tr -d ' \n' <"$I/p2/target_state" 2>&1)" stopped
check_eq "and p2 stays stopped" "$(cat "$I/p2/state")" stopped
check "no lock or temp file left behind" no_leftovers p2

# --- delete ---
uuids="$(cat "$I/p1/id") $(cat "$I/p2/id")"
check_run "absent.pp" 2 apply absent.pp
check "p1 and p2 are gone" sh -c "! ls -d $I/p1 $I/p2 2>/dev/null"
for u in $uuids; do
	check "the host terminated $u" wait_for 10 grep -q "terminate_instance instance $u" "$LOGS/compute-node1.log"
done
check_run "the same again changes nothing" 0 apply absent.pp

# --- the README's manifest, as printed ---
readme_block manifest >"$TOOLS/web.pp"
sh_puppet_readme() { (export FACTER_nova="$MNT"; puppet_run "$TOOLS/web.pp"); }
check "the README has a manifest" test -s "$TOOLS/web.pp"
check_run "it runs as printed" 2 sh_puppet_readme
check_eq "web2 is active" "$(cat "$I/web2/state" 2>&1)" active
check_run "the same again changes nothing" 0 sh_puppet_readme

done_testing
