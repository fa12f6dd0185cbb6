# common.sh - what every integration script sources.
#
# tests/run.sh gives each script NOVAFS_BUILD (binaries), AMQP_URL (a vhost of
# its own on a private RabbitMQ node), BROKER_ETC (the identities
# tests/lib/broker.sh made: USER.conf for each RabbitMQ user) and TEST_TMP
# (a fresh directory).  A script reports in TAP through ok/not_ok/check and
# ends with `done_testing`.  start_stack/stop_stack run the scheduler,
# the network service, compute hosts and a mounted novafs, each as its own RabbitMQ user
# (`identity USER` is that user's config file); every process is
# remembered by pid and stopped by pid in the EXIT trap, and the mount is
# unmounted with fusermount3 -u.

set -u
: "${NOVAFS_BUILD:?run through tests/run.sh}" "${AMQP_URL:?}" "${TEST_TMP:?}"
: "${BROKER_ETC:?run through tests/run.sh (tests/lib/broker.sh sets it)}"
B=$NOVAFS_BUILD
MNT=$TEST_TMP/mnt
DB=$TEST_TMP/novafs.db
NETWORK_DB=$TEST_TMP/network.db
LOGS=$TEST_TMP
TAP_N=0
TAP_FAILED=0
declare -A PID_OF=()

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
diag() { echo "# $*"; }

# check DESC CMD...: one TAP line from CMD's exit status.
check() {
	local desc=$1; shift
	if "$@" >"$TEST_TMP/check.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		sed 's/^/#   /' "$TEST_TMP/check.out" | head -n 20
	fi
}

# check_eq DESC GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got '$2', want '$3'"; fi
}

# check_fails DESC ERRNO_TEXT CMD...: CMD must fail and say ERRNO_TEXT
# (strerror's words: "Invalid argument", "File exists", ...).
check_fails() {
	local desc=$1 want=$2; shift 2
	if "$@" >"$TEST_TMP/check.out" 2>&1; then
		not_ok "$desc (succeeded)"
	elif grep -q -- "$want" "$TEST_TMP/check.out"; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "wanted '$want', got: $(head -c 300 "$TEST_TMP/check.out")"
	fi
}

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# within_ms MS CMD...: CMD succeeds within MS milliseconds of now (polled
# every 20 ms): for the bounds an issue states.
within_ms() {
	local deadline=$(($(date +%s%N) / 1000000 + $1)); shift
	until "$@"; do
		[ "$(($(date +%s%N) / 1000000))" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

file_is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }

# spawn NAME CMD...: starts a service in the background, logs to $LOGS/NAME.log.
spawn() {
	local name=$1; shift
	"$@" >"$LOGS/$name.log" 2>&1 &
	PID_OF[$name]=$!
}

# stop NAME [SIGNAL]: stops one spawned service by pid and waits for it.
stop() {
	local pid=${PID_OF[$1]:-}
	[ -n "$pid" ] || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "PID_OF[$1]"
}

is_mounted() { grep -q " $1 fuse" /proc/mounts; }

# identity USER: the config file that logs in as RabbitMQ user USER
# (novafs, scheduler, network, compute-node1..9, oslo-peer), mode 0600.
# The URL in it names the node; services get the test's vhost with --amqp.
identity() { echo "$BROKER_ETC/$1.conf"; }

# rpc_as USER ARGS...: rpcctl as USER, on this test's vhost.
rpc_as() { local u=$1; shift; "$B/tests/rpcctl" --config "$(identity "$u")" --amqp "$AMQP_URL" "$@"; }

# How many times the scheduler had heard each host come up when that host
# was last started (wait_compute waits for one more).
declare -A UP_BEFORE=()
up_count() { grep -c "host $1 is up" "$LOGS/scheduler.log" 2>/dev/null; }

# start_scheduler [OPTION...]: novafs-scheduler --host sched1 as scheduler.
# Its log starts afresh, and so do the counts of hosts heard.
start_scheduler() {
	UP_BEFORE=()
	spawn scheduler "$B/novafs-scheduler" --config "$(identity scheduler)" \
		--amqp "$AMQP_URL" --host sched1 --report-interval "${REPORT_INTERVAL:-2}" "$@"
}
# restart_scheduler [OPTION...]: a new scheduler in place of the old one,
# once novafs has heard it is up (until then a first start fails fast,
# EHOSTDOWN) and it has heard node1.
restart_scheduler() {
	local n
	n=$(grep -c "novafs-scheduler on sched1 is up" "$LOGS/novafs.log")
	stop scheduler
	start_scheduler "$@"
	wait_for 20 sh -c "[ \$(grep -c 'novafs-scheduler on sched1 is up' $LOGS/novafs.log) -gt $n ]" &&
		wait_compute node1
}
# start_network [OPTION...]: novafs-network --host net1 as network, its
# database $NETWORK_DB.
start_network() {
	spawn network "$B/novafs-network" --config "$(identity network)" \
		--amqp "$AMQP_URL" --host net1 --db "$NETWORK_DB" \
		--report-interval "${REPORT_INTERVAL:-2}" "$@"
}
# start_compute HOST [OPTION...]: novafs-compute --host HOST as compute-HOST,
# its instances' disks in a directory of the test's, its image store
# novafs's.
start_compute() {
	local host=$1; shift
	UP_BEFORE[$host]=$(up_count "$host")
	spawn "compute-$host" "$B/novafs-compute" --config "$(identity "compute-$host")" \
		--amqp "$AMQP_URL" --host "$host" --libvirt-uri test:///default \
		--instances-dir "$TEST_TMP/instances-$host" \
		--image-dir "${IMAGE_DIR:-$TEST_TMP/images}" \
		--report-interval "${REPORT_INTERVAL:-2}" "$@"
}
# start_novafs [OPTION...]: mounts $MNT, waits until the tree answers;
# its image store is $IMAGE_DIR (default $TEST_TMP/images).
start_novafs() {
	mkdir -p "$MNT"
	spawn novafs "$B/novafs" -f --db "$DB" --config "$(identity novafs)" \
		--amqp "$AMQP_URL" --image-dir "${IMAGE_DIR:-$TEST_TMP/images}" "$@" "$MNT"
	wait_for 20 test -d "$MNT/instances" || { diag "novafs did not mount"; cat "$LOGS/novafs.log" >&2; return 1; }
}
# wait_compute HOST: until the scheduler has heard HOST's latest start
# (not a start before it: a request sent before that first heartbeat
# would be counted in it).
wait_compute() {
	wait_for 20 sh -c "[ \"\$(grep -c 'host $1 is up' '$LOGS/scheduler.log' 2>/dev/null)\" -gt ${UP_BEFORE[$1]:-0} ]"
}

# A compute host driven over the bus, as novafs drives it: what it says
# back, heard by a listener on topic conductor whose output is $HEARD
# (rpcctl listen conductor), and what node1 logged ($NODE1_LOG).
# reports UUID VM: how many instance_updates said VM for UUID.
reports() {
	grep '^{' "$HEARD" | jq -c --arg u "$1" --arg v "$2" \
		'select(.method == "instance_update" and .args.uuid == $u and .args.vm_state == $v)' | wc -l
}
# last_fault UUID: the class and message of UUID's last fault.
last_fault() {
	grep '^{' "$HEARD" | jq -r --arg u "$1" \
		'select(.method == "instance_update" and .args.uuid == $u and .args.fault != null) |
		 .args.fault.class + ": " + .args.fault.message' | tail -n 1
}
# deleted UUID [N]: node1 logged UUID's deletion N times (1) or more.
deleted() { [ "$(grep -c "terminate_instance instance $1: deleted" "$NODE1_LOG")" -ge "${2:-1}" ]; }
# at_least N CMD...: CMD prints a number, N or more.
at_least() { local n=$1; shift; [ "$("$@")" -ge "$n" ]; }

# start_stack [COMPUTE OPTION...]: the scheduler, the network service,
# node1 and novafs.
start_stack() {
	start_scheduler
	start_network
	start_compute node1 "$@"
	start_novafs || return 1
	wait_compute node1
}

stop_stack() {
	if is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null
	fi
	local name
	for name in "${!PID_OF[@]}"; do stop "$name"; done
}

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ]
}

trap stop_stack EXIT
