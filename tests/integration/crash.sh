#!/usr/bin/env bash
# Startup failures and crashes: a broker that is not there, a database
# that cannot be opened, and novafs killed with SIGKILL and mounted again.
. "$(dirname "$0")/../lib/common.sh"

mkdir -p "$MNT"
NOVAFS=("$B/novafs" -f --config "$(identity novafs)")
PASSWORD=$(sed -n 's/^password *= *//p' "$(identity novafs)")
"${NOVAFS[@]}" --db "$DB" --amqp amqp://127.0.0.1:1/ "$MNT" >"$TEST_TMP/bad.out" 2>&1
rc=$?
check "unreachable broker: non-zero exit" test "$rc" -ne 0
check_eq "in one line" "$(wc -l <"$TEST_TMP/bad.out")" 1
check "naming the URL" grep -q "127.0.0.1:1" "$TEST_TMP/bad.out"
check "without the password" sh -c "! grep -qF '$PASSWORD' $TEST_TMP/bad.out"
check "nothing was mounted" sh -c "! grep -q ' $MNT fuse' /proc/mounts"
check_fails "a URL with credentials is refused" "must not hold credentials" \
	"$B/novafs" -f --db "$DB" --amqp "amqp://novafs:x@127.0.0.1:1/" "$MNT"
check_fails "a password refused by the broker" "ACCESS_REFUSED" env NOVAFS_AMQP_PASSWORD=wrong \
	"${NOVAFS[@]}" --db "$DB" --amqp "$AMQP_URL" "$MNT"
"${NOVAFS[@]}" --db /nonexistent/dir/novafs.db --amqp "$AMQP_URL" "$MNT" >"$TEST_TMP/baddb.out" 2>&1
check "unopenable database: non-zero exit" test $? -ne 0
check "names the database" grep -q "/nonexistent/dir/novafs.db" "$TEST_TMP/baddb.out"
"${NOVAFS[@]}" --db "$DB" --amqp "$AMQP_URL" --rpc-timeout 0 "$MNT" >"$TEST_TMP/badto.out" 2>&1
check "a zero --rpc-timeout: non-zero exit" test $? -eq 2
check "says why" grep -q -- "--rpc-timeout: 0 is out of range" "$TEST_TMP/badto.out"
check "--help" sh -c "'$B/novafs' --help | grep -q -- --amqp"

start_stack || { not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances
mkdir "$I/keep1" "$I/keep2"
echo m1.tiny >"$I/keep1/flavor"
echo start >"$I/keep1/ctl"
wait_for 20 file_is "$I/keep1/state" active
ID1=$(cat "$I/keep1/id")
for i in $(seq 20); do mkdir "$I/burst$i"; done

stop novafs KILL
check "SIGKILL leaves a dead mount" sh -c "! ls $I >/dev/null 2>&1"
fusermount3 -u "$MNT" || fusermount3 -u -z "$MNT"
start_novafs
check_eq "every instance is still there" "$(ls "$I" | wc -l)" 22
check_eq "with its state" "$(cat "$I/keep1/state")" active
check_eq "its id" "$(cat "$I/keep1/id")" "$ID1"
check "its flavor bytes" cmp <(echo m1.tiny) "$I/keep1/flavor"
check_eq "and its host" "$(cat "$I/keep1/host")" node1
check_eq "none half-created" "$(cat "$I"/burst*/state | sort -u)" stopped
check "it still works" bash -c "echo stop > $I/keep1/ctl"
check "stopped" wait_for 20 file_is "$I/keep1/state" stopped

# SIGKILL during 8 parallel mkdir loops: every mkdir that returned is
# there after a restart, and none is half made.
mkdir -p "$TEST_TMP/made"
for w in $(seq 8); do
	( for i in $(seq 400); do
		mkdir "$I/mk$w-$i" 2>/dev/null || break
		echo "mk$w-$i" >>"$TEST_TMP/made/$w"
	done ) &
	LOOPS[$w]=$!
done
sleep 0.4
stop novafs KILL
for w in $(seq 8); do wait "${LOOPS[$w]}"; done
fusermount3 -u "$MNT" || fusermount3 -u -z "$MNT"
start_novafs
MADE=$(cat "$TEST_TMP"/made/* | wc -l)
check "some mkdirs returned before the kill ($MADE)" test "$MADE" -gt 0
check "every mkdir that returned is there" sh -c "cat $TEST_TMP/made/* | while read -r n; do test -d $I/\$n || { echo missing \$n; exit 1; }; done"
check "none is half made" sh -c "for d in $I/mk*; do [ \$(cat \$d/state) = stopped ] && [ \$(cat \$d/task) = none ] && [ \$(wc -c < \$d/id) = 37 ] || { echo \$d; exit 1; }; done"
rm -rf "$TEST_TMP/made"
for d in "$I"/mk*; do rmdir "$d"; done

# A report cast while novafs is down waits in its queue.
echo start >"$I/keep1/ctl"
stop novafs KILL
fusermount3 -u "$MNT" || fusermount3 -u -z "$MNT"
sleep 1
start_novafs
check "a report sent while novafs was down arrives" wait_for 20 file_is "$I/keep1/state" active
check "rmdir after restart" rmdir "$I/keep1"

done_testing
