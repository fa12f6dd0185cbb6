#!/usr/bin/env bash
# lifecycle.sh [BUILD] - figures for the walking skeleton, on a private
# RabbitMQ node and libvirt's test driver: how fast the tree answers and
# how long an instance takes to start and stop.  Prints figures; it has no
# pass/fail threshold (targets come with the benchmark issue, measured
# against floors taken in the same run).
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
BUILD=${1:-build}
B=$TOP/$BUILD
. tests/lib/broker.sh

N_DIRS=${N_DIRS:-200}
N_READS=${N_READS:-2000}
N_CYCLES=${N_CYCLES:-20}
WORK=$(mktemp -d /tmp/novafs-bench.XXXXXX)
chmod 755 "$WORK"
MNT=$WORK/mnt
PIDS=()
cleanup() {
	grep -q " $MNT fuse" /proc/mounts && fusermount3 -u "$MNT"
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	broker_stop
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
# per OP COUNT START_NS: prints "OP: N in X ms (Y us each)"
per() {
	awk -v op="$1" -v n="$2" -v ns=$(($(now_ns) - $3)) \
		'BEGIN { printf "%-34s %6d in %8.1f ms  %9.1f us each\n", op, n, ns / 1e6, ns / 1e3 / n }'
}

broker_start "$WORK/broker" $((6700 + RANDOM % 200)) || exit 1
"$B/novafs-scheduler" --amqp "$BROKER_URL" >"$WORK/scheduler.log" 2>&1 & PIDS+=($!)
"$B/novafs-compute" --amqp "$BROKER_URL" --host node1 --report-interval 2 >"$WORK/compute.log" 2>&1 & PIDS+=($!)
mkdir -p "$MNT"
"$B/novafs" -f --db "$WORK/novafs.db" --amqp "$BROKER_URL" "$MNT" >"$WORK/novafs.log" 2>&1 & PIDS+=($!)
NOVAFS_PID=$!
for i in $(seq 100); do [ -d "$MNT/instances" ] && break; sleep 0.1; done
for i in $(seq 100); do grep -q "host node1 is up" "$WORK/scheduler.log" && break; sleep 0.1; done
I=$MNT/instances

echo "novafs bench ($BUILD, $(nproc) CPUs)"
t=$(now_ns); for i in $(seq "$N_DIRS"); do mkdir "$I/b$i"; done; per "mkdir" "$N_DIRS" "$t"
t=$(now_ns); for i in $(seq "$N_READS"); do read -r _ <"$I/b1/state"; done; per "read state (bash read)" "$N_READS" "$t"
t=$(now_ns); for i in $(seq 20); do ls -l "$I" >/dev/null; done; per "ls -l of $N_DIRS instances" 20 "$t"
t=$(now_ns); for i in $(seq "$N_DIRS"); do echo m1.tiny >"$I/b$i/flavor"; done; per "echo m1.tiny > flavor" "$N_DIRS" "$t"

wait_state() { until [ "$(cat "$1/state")" = "$2" ]; do :; done; }
start_ns=0 stop_ns=0
for i in $(seq "$N_CYCLES"); do
	t=$(now_ns); echo start >"$I/b1/ctl"; wait_state "$I/b1" active; start_ns=$((start_ns + $(now_ns) - t))
	t=$(now_ns); echo stop >"$I/b1/ctl"; wait_state "$I/b1" stopped; stop_ns=$((stop_ns + $(now_ns) - t))
done
awk -v n="$N_CYCLES" -v a="$start_ns" -v b="$stop_ns" \
	'BEGIN { printf "%-34s %6d cycles   start %6.1f ms   stop %6.1f ms\n", "echo start|stop until state shows it", n, a / 1e6 / n, b / 1e6 / n }'
t=$(now_ns); for i in $(seq "$N_DIRS"); do rmdir "$I/b$i"; done; per "rmdir" "$N_DIRS" "$t"
printf '%-34s %6d kB\n' "novafs resident memory (VmHWM)" "$(awk '/VmHWM/ {print $2}' /proc/$NOVAFS_PID/status)"
