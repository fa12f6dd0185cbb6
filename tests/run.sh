#!/usr/bin/env bash
# run.sh BUILD_DIR... - the whole suite, once per build directory.
#
# For each build: every unit test binary (build/tests/test_*), then every
# integration script (tests/integration/*.sh) against one private RabbitMQ
# node, each script in its own vhost and temp directory.  Tests speak TAP
# ("ok N - ..." / "not ok N - ..."); a script that exits non-zero without
# a "not ok" line counts as one failure, exit 77 as a skip (a failure when
# CI=true).  The last line is "N passed, N failed".
#
# KEEP=1 keeps the work directory (every test's logs and mounts' files).
#
# Sanitizer builds: ASan/UBSan reports go to per-test log files; any report
# fails that test.
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
. tests/lib/broker.sh

passed=0 failed=0 skipped=0
WORK=$(mktemp -d /tmp/novafs-check.XXXXXX)
chmod 755 "$WORK" # the broker runs as the rabbitmq user
BROKER_PORT=${BROKER_PORT:-$((5800 + RANDOM % 400))}
INTEGRATION=(tests/integration/*.sh)
[ -n "${TESTS:-}" ] && INTEGRATION=($TESTS)

cleanup() {
	broker_stop
	if [ "${KEEP:-}" = 1 ]; then
		echo "# logs kept in $WORK (KEEP=1)"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

prereq_missing() {
	local what=$1
	if [ "${CI:-}" = true ]; then
		echo "not ok - prerequisite missing: $what"
		failed=$((failed + 1))
	else
		echo "# skip: prerequisite missing: $what"
		skipped=$((skipped + 1))
	fi
}

# count LOG NAME RC: adds the TAP results in LOG to the totals.
count() {
	local log=$1 name=$2 rc=$3 p f
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" = 77 ] && [ "$f" = 0 ]; then
		if [ "${CI:-}" = true ]; then
			echo "not ok - $name skipped under CI: $(grep -m1 '^# skip' "$log")"
			f=1
		else
			skipped=$((skipped + 1))
		fi
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	if compgen -G "$WORK/san.*" >/dev/null; then
		echo "not ok - $name: sanitizer report:"
		sed 's/^/#   /' "$WORK"/san.* | head -n 60
		rm -f "$WORK"/san.*
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

export ASAN_OPTIONS="log_path=$WORK/san:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$WORK/san:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$TOP/tests/lsan.supp:print_suppressions=0"

if ! command -v rabbitmq-server >/dev/null; then
	prereq_missing rabbitmq-server
	BROKER_URL=
elif ! broker_start "$WORK/broker" "$BROKER_PORT" $((${#INTEGRATION[@]} * $#)); then
	prereq_missing "a RabbitMQ node that starts"
	BROKER_URL=
fi
[ -e /dev/fuse ] && command -v fusermount3 >/dev/null || prereq_missing "FUSE (/dev/fuse, fusermount3)"

vhost=0
for build in "$@"; do
	echo "# build $build"
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		name=${t#"$build"/}
		echo "# $name"
		"$t" >"$WORK/out" 2>"$WORK/err"
		rc=$?
		cat "$WORK/out"
		[ "$rc" != 0 ] && sed 's/^/#   /' "$WORK/err"
		count "$WORK/out" "$build/$name" "$rc"
	done
	[ -n "$BROKER_URL" ] || continue
	for t in "${INTEGRATION[@]}"; do
		vhost=$((vhost + 1))
		echo "# $build $t"
		tmp="$WORK/t$vhost"
		mkdir -p "$tmp"
		started=$SECONDS
		NOVAFS_BUILD="$TOP/$build" AMQP_URL="${BROKER_URL}v$vhost" TEST_TMP="$tmp" \
			timeout 600 bash "$t" >"$WORK/out" 2>"$tmp/stderr"
		rc=$?
		cat "$WORK/out"
		echo "# $build $t: $((SECONDS - started)) s"
		if [ "$rc" != 0 ]; then
			echo "# stderr of $t:"
			tail -n 40 "$tmp/stderr" | sed 's/^/#   /'
		fi
		count "$WORK/out" "$build/$t" "$rc"
	done
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
