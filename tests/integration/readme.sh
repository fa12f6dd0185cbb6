#!/usr/bin/env bash
# readme.sh - the README says what the code does: its option tables are
# the services' own --help-markdown, and its drawing of the tree names the
# files and modes that ls -l shows in a real mount.
. "$(dirname "$0")/../lib/common.sh"

check "the option tables are each service's --help-markdown" \
	sh -c "tests/tools/readme_options.sh $B | diff -u README.md - >&2"
# The lifecycle's script, as printed.
sed -n '/^<!-- BEGIN script -->$/,/^<!-- END script -->$/p' README.md |
	sed '1,2d;$d' | sed '$d' >"$TEST_TMP/five.sh"
check "the README's script has at most 20 lines" test "$(wc -l <"$TEST_TMP/five.sh")" -le 20
check "and no sleep" sh -c "! grep -q sleep $TEST_TMP/five.sh"

start_stack || { not_ok "stack started"; done_testing; exit 1; }
mkdir "$MNT/instances/NAME" "$MNT/groups/NAME" "$MNT/networks/NAME" "$MNT/images/NAME"
wait_for 10 test -d "$MNT/services/novafs-compute.node1"
mkdir -p "$MNT/instances/NAME/actions" # exists already
echo m1.tiny >"$MNT/instances/NAME/flavor"
echo start >"$MNT/instances/NAME/ctl"
timeout 20 cat "$MNT/instances/NAME/wait" >/dev/null

check "the README's script runs as printed" timeout 60 sh "$TEST_TMP/five.sh" "$MNT"
check "and leaves nothing behind" sh -c "! ls -d $MNT/instances/vm* 2>/dev/null"

# The quick start's commands, as printed (but tail -f), on this mount.
python3 - README.md "$MNT" >"$TEST_TMP/quick.sh" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
block = text.split("In a second shell", 1)[1].split("\n\n", 2)[1]
for line in block.splitlines():
    cmd = line.split("#", 1)[0].strip().replace("mnt/nova", sys.argv[2])
    if cmd and not cmd.startswith("tail -f"):
        print(cmd)
PY
check "the quick start has its commands" test "$(wc -l <"$TEST_TMP/quick.sh")" -ge 15
check "the quick start runs as printed" sh -c "timeout 60 bash -e '$TEST_TMP/quick.sh' >/dev/null"

# "100 m1.tiny or 10 m1.large fit on one" host of make run's size.
fill() {
	local flavor=$1 n=$2 i
	for i in $(seq "$n"); do
		mkdir "$MNT/instances/fill$i" && echo "$flavor" >"$MNT/instances/fill$i/flavor" &&
			echo start >"$MNT/instances/fill$i/ctl" || return 1
	done
	for i in $(seq "$n"); do
		[ "$(timeout 20 cat "$MNT/instances/fill$i/wait")" = active ] || return 1
	done
	for i in $(seq "$n"); do rmdir "$MNT/instances/fill$i" || return 1; done
}
check "10 m1.large fit on a default host" fill m1.large 10
check "100 m1.tiny fit on a default host" fill m1.tiny 100

# "PATH MODE" for every entry of the README's drawing that shows a mode,
# its path rebuilt from the indentation of the tree's branches.
drawn() {
	python3 - README.md <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
block = text.split("## The tree", 1)[1].split("```", 2)[1]
path = []
for line in block.splitlines():
    m = re.search(r"[├└]── (\S+)", line)
    if not m:
        continue
    depth = m.start() // 4
    path[depth:] = [m.group(1).rstrip("/")]
    mode = re.search(r" ([-d][-r][-w][-xt][-r][-w][-x][-r][-w][-xt]) ", line)
    if mode:
        print("/".join(path), mode.group(1))
PY
}
n=0
while read -r path mode; do
	n=$((n + 1))
	check_eq "README: $path is $mode" "$(stat -c %A "$MNT/$path" 2>&1)" "$mode"
done < <(drawn)
check "the drawing shows the modes of at least a dozen entries ($n)" test "$n" -ge 12
check_eq "and every entry of an instance" \
	"$(drawn | awk -F'[/ ]' '$1 == "instances" && $2 == "NAME" && NF == 4 { print $3 }' | sort | tr '\n' ' ')" \
	"$(ls "$MNT/instances/NAME" | sort | tr '\n' ' ')"

done_testing
