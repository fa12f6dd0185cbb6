#!/usr/bin/env bash
# ansible.sh - Debian's ansible-playbook (ansible-core) against a mount, as
# its users run it: playbooks in tests/data/ansible create instances
# (file: state=directory), set their files one at a time or all through
# spec (copy: content=, a temp file renamed over the attribute), wait for
# them (wait_for: search_regex, which maps the file), change them, delete them
# (file: state=absent); every second run changes nothing.  Owners and
# modes asked of the tool either stick or are refused, and bad values fail
# the run with the errno's message, leaving nothing half done.  Last, the
# README's playbook runs as printed.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/tools.sh"

command -v ansible-playbook >/dev/null || { echo "# skip: ansible-playbook (ansible-core) is not installed"; exit 77; }
start_stack || { not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances
PLAY=$DATA/ansible
mkdir "$MNT/networks/lab" && echo 198.51.100.0/24 >"$MNT/networks/lab/cidr"
mkdir "$MNT/images/tiny" && head -c 65536 /dev/zero >"$MNT/images/tiny/data"

# set PATH CONTENT [KEY=VALUE...]: set.yml on one file (no CONTENT: a
# directory), the rest as extra variables.
set_file() {
	local path=$1 content=$2 kv vars; shift 2
	vars=$(jq -nc --arg p "$path" '{path: $p}')
	[ -n "$content" ] && vars=$(jq -c --arg c "$content" '. + {content: $c}' <<<"$vars")
	for kv in "$@"; do vars=$(jq -c --arg k "${kv%%=*}" --arg v "${kv#*=}" '. + {($k): $v}' <<<"$vars"); done
	ansible_run -e "$vars" "$PLAY/set.yml"
}
no_leftovers() { ! ls -A "$I/$1" | grep -q '^\.ansible_tmp'; }
spec_of() {
	printf '# a2: everything it should be\nflavor = m1.small\nimage = tiny\nnetwork = lab default\ntarget_state = %s\n' "$1"
}

# --- a wait until state says active; ctl starts a0 ---
mkdir "$I/a0" && echo m1.tiny >"$I/a0/flavor" && echo start >"$I/a0/ctl"
check_run "wait until state is ^active$" 0 ansible_run -e path="$I/a0/state" -e regex='^active$' "$PLAY/wait.yml"
check_run "a wait for a value that is not there times out" 2 \
	ansible_run -e path="$I/a0/flavor" -e regex='^m1.large$' -e timeout=1 "$PLAY/wait.yml"
rmdir "$I/a0"

# --- create, one file at a time (a1) and through spec (a2) ---
check_run "instances.yml state=active" 0 ansible_run -e mnt="$MNT" -e state=active "$PLAY/instances.yml"
check_eq "a1 is active" "$(cat "$I/a1/state")" active
check_eq "a1's flavor reads back as written" "$(cat "$I/a1/flavor")" m1.tiny
check "a1's network too" cmp <(printf 'lab\ndefault\n') "$I/a1/network"
check "a1's image too" cmp <(printf 'tiny\n') "$I/a1/image"
check "a1's target_state too" cmp <(printf 'active\n') "$I/a1/target_state"
check_eq "a1 has an address on each" "$(wc -l <"$I/a1/ip")" 2
check "a2's spec reads back byte for byte" cmp <(spec_of active) "$I/a2/spec"
check_eq "a2 is active" "$(cat "$I/a2/state")" active
check_eq "a2's flavor says what its spec said" "$(cat "$I/a2/flavor" 2>&1 | tr -d ' \n')" m1.small
check_eq "a2's network too" "$(tr -s ' \n' ' ' <"$I/a2/network" 2>&1)" "lab default "
check_eq "a2's image too" "$(tr -d ' \n' <"$I/a2/image" 2>&1)" tiny
check "no temp file left behind" no_leftovers a1
check_run "the same again" 0 ansible_run -e mnt="$MNT" -e state=active "$PLAY/instances.yml"
check_eq "changes nothing" "$(run_changed)" 0

# --- a change ---
check_run "instances.yml state=stopped" 0 ansible_run -e mnt="$MNT" -e state=stopped "$PLAY/instances.yml"
check_eq "changes two files" "$(run_changed)" 2
check_eq "a1 is stopped" "$(cat "$I/a1/state")" stopped
check_eq "a2 is stopped" "$(cat "$I/a2/state")" stopped
check "a2's spec says so" cmp <(spec_of stopped) "$I/a2/spec"
check_eq "a2's target_state too" "$(tr -d ' \n' <"$I/a2/target_state" 2>&1)" stopped
check_run "the same again" 0 ansible_run -e mnt="$MNT" -e state=stopped "$PLAY/instances.yml"
check_eq "changes nothing" "$(run_changed)" 0

# --- owners and modes ---
STAT_PATH=$I/a1/flavor
check_run "mode 0644 on flavor (what it has)" 0 set_file "$STAT_PATH" $'m1.tiny\n' mode=0644
check_eq "changes nothing" "$(run_changed)" 0
sticks_or_refused "mode 0600 on flavor" %a 600 644 set_file "$STAT_PATH" $'m1.tiny\n' mode=0600
sticks_or_refused "owner nobody on flavor" %U nobody root set_file "$STAT_PATH" $'m1.tiny\n' owner=nobody
check_eq "flavor is as it was" "$(cat "$STAT_PATH")" m1.tiny
STAT_PATH=$I/a1
sticks_or_refused "mode 0700 on an instance" %a 700 755 set_file "$STAT_PATH" ""  mode=0700
check_run "owner nobody on an instance" 0 set_file "$STAT_PATH" "" owner=nobody
check_eq "gives it to nobody" "$(stat -c %U "$I/a1") $(stat -c %U "$I/a1/state")" "nobody nobody"
check_run "and back to root" 0 set_file "$STAT_PATH" "" owner=root
check_eq "is root's again" "$(stat -c %U "$I/a1") $(stat -c %U "$I/a1/state")" "root root"
check_run "the same again" 0 set_file "$STAT_PATH" "" owner=root
check_eq "changes nothing" "$(run_changed)" 0
check "no temp file left behind" no_leftovers a1

# --- bad input fails the run, changes nothing ---
check_run_fails "target_state running" "Invalid argument" set_file "$I/a1/target_state" $'running\n'
check "target_state is as it was" cmp <(printf 'stopped\n') "$I/a1/target_state"
check "no temp file left behind" no_leftovers a1
check_run_fails "a spec with an unknown key" "Invalid argument" \
	set_file "$I/a2/spec" $'flavor = m1.small\nnetwork = lab default\ntarget_state = active\ncolour = blue\n'
check "its reason is in fault" grep -q 'InvalidInput: spec line 4' "$I/a2/fault"
check "the spec is as it was" cmp <(spec_of stopped) "$I/a2/spec"
check_eq "target_state too: nothing half applied" "$(tr -d ' \n' <"$I/a2/target_state" 2>&1)" stopped
check_eq "and a2 stays stopped" "$(cat "$I/a2/state")" stopped
check "no temp file left behind" no_leftovers a2

# --- delete ---
uuids="$(cat "$I/a1/id") $(cat "$I/a2/id")"
check_run "absent.yml" 0 ansible_run -e mnt="$MNT" "$PLAY/absent.yml"
check "a1 and a2 are gone" sh -c "! ls -d $I/a1 $I/a2 2>/dev/null"
for u in $uuids; do
	check "the host terminated $u" wait_for 10 grep -q "terminate_instance instance $u" "$LOGS/compute-node1.log"
done
check_run "the same again" 0 ansible_run -e mnt="$MNT" "$PLAY/absent.yml"
check_eq "changes nothing" "$(run_changed)" 0

# --- the README's playbook, as printed ---
readme_block playbook >"$TOOLS/web.yml"
check "the README has a playbook" test -s "$TOOLS/web.yml"
check_run "it runs as printed" 0 ansible_run -e nova="$MNT" "$TOOLS/web.yml"
check_eq "web1 is active" "$(cat "$I/web1/state" 2>&1)" active
check_run "the same again" 0 ansible_run -e nova="$MNT" "$TOOLS/web.yml"
check_eq "changes nothing" "$(run_changed)" 0

done_testing
