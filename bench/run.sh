#!/usr/bin/env bash
# run.sh [BUILD] - `make bench`: novafs against its floors, measured in
# the same run on the same machine, as one table (bench/lib.sh).
#
# The floors: bench/nullfs (a FUSE file system serving the same tree from
# memory with the same libfuse options: kernel caching on, content direct
# I/O), bench/amqp_floor (a raw librabbitmq call round trip and confirmed
# cast), bench/virt_floor (raw libvirt test-driver define+start),
# bench/placement floor (the placement calls, answered by a trivial
# server).  Instances have no NIC (their network file is empty), so that
# thousands fit and the rows keep their floors, except in the rows about
# addresses, on a network of their own.  Each row names the command that reproduces its novafs figure.
# Two rows run services of their own beside the mount's: the placement
# row a scheduler, and the many-hosts row a whole stack (a scheduler, 4
# compute hosts, a second mount), on vhosts of their own.
#
# BENCH_SMALL=1 shrinks every size: `make check` runs that as a smoke run
# (tests/integration/bench.sh), which checks that the table is complete,
# never a figure.  The exit status is 0 when the table was printed, met
# or missed; the last line counts the missed targets.
set -u -o pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
BUILD=${1:-build}
B=$TOP/$BUILD
. tests/lib/broker.sh
. bench/lib.sh

if [ "${BENCH_SMALL:-}" = 1 ]; then
	N=400 NBIG=2000 READS=2000 SLOW=5 SYNC=20 STOPS=50 LIFE=10 PLACE=400 SPREAD=40 UPLOAD_MB=16
else
	N=10000 NBIG=100000 READS=20000 SLOW=50 SYNC=200 STOPS=1000 LIFE=100 PLACE=20000 SPREAD=1000 UPLOAD_MB=1024
fi
WORK=$(mktemp -d /tmp/novafs-bench.XXXXXX)
chmod 755 "$WORK"
MNT=$WORK/mnt NULL=$WORK/null MNT4=$WORK/mnt4
PIDS=()
MISSED=0

cleanup() {
	local m pid
	for m in "$MNT" "$NULL" "$MNT4"; do
		grep -q " $m fuse" /proc/mounts && fusermount3 -u "$m"
	done
	for pid in "${PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	broker_stop
	if [ "${KEEP:-}" = 1 ]; then echo "# logs kept in $WORK (KEEP=1)"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "bench: $*" >&2
	tail -n 5 "$WORK"/*.log >&2
	exit 1
}
# spawn NAME CMD...: a background process remembered for cleanup.
spawn() {
	local name=$1; shift
	"$@" >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	eval "PID_$name=$!"
}
# stop_spawned NAME...: stops what spawn NAME started, and waits for it.
stop_spawned() {
	local name pid
	for name in "$@"; do
		eval "pid=\$PID_$name"
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}
wait_for() {
	local i
	for i in $(seq 1200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
row() { bench_row "$@" || MISSED=$((MISSED + 1)); }
abs() { bench_abs "$@" || MISSED=$((MISSED + 1)); }
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
# tool CMD...: runs a bench tool and prints its output; on failure, says
# why and fails (the caller exits: a subshell cannot exit the script).
tool() {
	local out
	out=$("$@" 2>"$WORK/tool.err") || { echo "bench: $* failed: $(cat "$WORK/tool.err")" >&2; return 1; }
	echo "$out"
}
# Paths PREFIX1..PREFIXn under instances/, one a line, with SUFFIX.
paths() { local p=$1 n=$2 s=${3:-} i; for i in $(seq "$n"); do echo "$I/$p$i$s"; done; }
# make_instances PREFIX N [start]: N instances with a flavor and no NIC,
# started or not.
make_instances() {
	paths "$1" "$2" | xargs mkdir || die "mkdir $1*"
	paths "$1" "$2" /flavor | tool "$B/bench/oploop" write m1.tiny >/dev/null || exit 1
	paths "$1" "$2" /network | tool "$B/bench/oploop" write "" >/dev/null || exit 1
	[ "${3:-}" = start ] || return 0
	paths "$1" "$2" /ctl | tool "$B/bench/oploop" write start >/dev/null || exit 1
	wait_for sh -c "! cat $I/$1*/state | grep -qv '^active\$'" || die "$1* did not start"
}
# all_are STATE PREFIX: every PREFIX* instance is in STATE with no task.
all_are() {
	! cat "$I/$2"*/state | grep -qv "^$1\$" && ! cat "$I/$2"*/task | grep -qv '^none$'
}

# all_are_in DIR STATE: every instance in DIR (an instances/) is in STATE.
all_are_in() { ! cat "$1"/*/state | grep -qv "^$2\$"; }

mount_novafs() {
	mkdir -p "$MNT"
	spawn novafs "$B/novafs" -f --config "$BROKER_ETC/novafs.conf" \
		--db "$WORK/novafs.db" --image-dir "$WORK/images" "$MNT"
	wait_for test -d "$MNT/instances" || die "novafs did not mount"
}
unmount_novafs() {
	fusermount3 -u "$MNT"
	wait "$PID_novafs" 2>/dev/null
}

# A port of its own, away from tests/run.sh's 5800-6199 and the tests'.
port=$((6700 + RANDOM % 200))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
# Vhost v1 is the placement bench's and v2 the four hosts', away from
# the mount's services.
broker_start "$WORK/broker" "$port" 2 >/dev/null || die "cannot start RabbitMQ"
# A test host of the default size (64 vCPUs, 256 GiB, 2,048 GB): room
# for thousands of instances only with generous allocation ratios.
spawn scheduler "$B/novafs-scheduler" --config "$BROKER_ETC/scheduler.conf" \
	--report-interval 2 --cpu-allocation-ratio 1000 --ram-allocation-ratio 1000 \
	--disk-allocation-ratio 1000
spawn compute "$B/novafs-compute" --config "$BROKER_ETC/compute-node1.conf" \
	--host node1 --report-interval 2
spawn network "$B/novafs-network" --config "$BROKER_ETC/network.conf" \
	--host net1 --db "$WORK/network.db" --report-interval 2
mount_novafs
mkdir -p "$NULL"
spawn nullfs "$B/bench/nullfs" -o allow_other,default_permissions -f "$NULL"
wait_for test -d "$NULL/instances" || die "nullfs did not mount"
wait_for grep -q "host node1 is up" "$WORK/scheduler.log" || die "node1 never came up"
I=$MNT/instances

echo "novafs bench: $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ), N=$N"
bench_header

# --- the tree: N instances made by 8 writers, then read ---
m=$(bench_field mkdir_per_s "$(tool "$B/bench/mkdirs" "$I" 8 "$((N / 8))" b)") || exit 1
f=$(bench_field mkdir_per_s "$(tool "$B/bench/mkdirs" "$NULL/instances" 8 "$((N / 8))" b)") || exit 1
abs "mkdir/s, 8 writers, durable" "$m" "$f" 2000 higher "bench/mkdirs MNT/instances 8 $((N / 8)) b"
X=$(ls "$I" | head -n 1)
for p in 50 99; do
	n=$(bench_field "p${p}_us" "$(tool "$B/bench/readloop" "$I/$X/state" "$READS")") || exit 1
	f=$(bench_field "p${p}_us" "$(tool "$B/bench/readloop" "$NULL/instances/$X/state" "$READS")") || exit 1
	row "open+read+close state, p$p us" "$n" "$f" 1.5 lower "bench/readloop MNT/instances/X/state $READS"
done
ls -l "$I" >/dev/null; ls -l "$NULL/instances" >/dev/null
n=$(median3 $(for i in 1 2 3; do bench_time_ms ls -l "$I"; done))
f=$(median3 $(for i in 1 2 3; do bench_time_ms ls -l "$NULL/instances"; done))
row "ls -l instances/ ($N), ms" "$n" "$f" 1.5 lower "ls -l MNT/instances"
nf=$(find "$MNT" -type f | wc -l) ff=$(find "$NULL" -type f | wc -l)
n=$(median3 $(for i in 1 2 3; do bench_time_ms find "$MNT" -type f; done))
f=$(median3 $(for i in 1 2 3; do bench_time_ms find "$NULL" -type f; done))
n=$(awk -v t="$n" -v c="$nf" 'BEGIN { printf "%.1f", t * 1000 / c }')
f=$(awk -v t="$f" -v c="$ff" 'BEGIN { printf "%.1f", t * 1000 / c }')
row "find -type f ($nf files), us per file" "$n" "$f" 2 lower "find MNT -type f"

# --- a stopped service holds up only what waits for it ---
# SLOW first starts on a stopped scheduler, then SLOW rmdirs of instances
# on a stopped compute host, while one instance's state is read in a loop.
slow_reads() {
	local what=$1 pid=$2 file=$3 text=$4 n f
	kill -STOP "$pid"
	paths s "$SLOW" "$file" | while read -r p; do
		if [ "$text" = rmdir ]; then rmdir "$p"; else echo "$text" >"$p"; fi 2>/dev/null &
	done
	sleep 0.5
	n=$(bench_field p99_us "$(tool "$B/bench/readloop" "$I/$X/state" "$READS")") || exit 1
	kill -CONT "$pid"
	f=$(bench_field p99_us "$(tool "$B/bench/readloop" "$NULL/instances/$X/state" "$READS")") || exit 1
	abs "state p99 us, $SLOW $what" "$n" "$f" 10000 lower \
		"bench/readloop MNT/instances/X/state $READS while $what"
}
make_instances s "$SLOW"
slow_reads "first starts wait (scheduler stopped)" "$PID_scheduler" /ctl start
wait_for all_are active s || die "s* did not start"
slow_reads "rmdirs (compute host stopped)" "$PID_compute" "" rmdir
wait_for sh -c "! ls -d $I/s* 2>/dev/null" || die "s* were not deleted"

# --- the bus ---
call=$(AMQP_URL=$BROKER_ADMIN_URL tool "$B/bench/amqp_floor" call 500) || exit 1
cast=$(AMQP_URL=$BROKER_ADMIN_URL tool "$B/bench/amqp_floor" cast 500) || exit 1
callp50=$(bench_field p50 "$call") castp50=$(bench_field p50_us "$cast")
# A first start is novafs's synchronous operation: it calls the scheduler
# (select_destinations) and casts to the host it chose, confirmed, before
# the write returns.  The floor leaves out the scheduler's own work
# (microseconds for one host), so the ratio is, if anything, too high.
make_instances y "$SYNC"
n=$(paths y "$SYNC" /ctl | tool "$B/bench/oploop" write start) || exit 1
row "first start (call + cast), p50 us" "$(bench_field p50_us "$n")" \
	"$(awk -v a="$callp50" -v b="$castp50" 'BEGIN { print a + b }')" 1.2 lower \
	"bench/oploop write start < MNT/instances/*/ctl"
wait_for all_are active y || die "y* did not start"
n=$(paths y "$SYNC" | tool "$B/bench/oploop" rmdir) || exit 1
row "rmdir (a confirmed cast), p50 us" "$(bench_field p50_us "$n")" "$castp50" 1.2 lower \
	"bench/oploop rmdir < MNT/instances/*"

# The same first starts with a NIC each, on a network of their own: one
# call more (allocate_for_instance, committed by novafs-network before
# it answers).  Addresses per second is the rate of those starts, one
# after another, against raw call round trips one after another.
mkdir "$MNT/networks/bench" && echo 198.51.100.0/24 >"$MNT/networks/bench/cidr" ||
	die "cannot make the bench network"
paths a "$SYNC" | xargs mkdir || die "mkdir a*"
paths a "$SYNC" /flavor | tool "$B/bench/oploop" write m1.tiny >/dev/null || exit 1
paths a "$SYNC" /network | tool "$B/bench/oploop" write bench >/dev/null || exit 1
n=$(paths a "$SYNC" /ctl | tool "$B/bench/oploop" write start) || exit 1
row "first start with a NIC (2 calls + cast), p50 us" "$(bench_field p50_us "$n")" \
	"$(awk -v a="$callp50" -v b="$castp50" 'BEGIN { print 2 * a + b }')" 1.2 lower \
	"bench/oploop write start < MNT/instances/*/ctl (network bench)"
row "addresses allocated through the mount, per s" "$(bench_field per_s "$n")" \
	"$(awk -v a="$callp50" 'BEGIN { printf "%.0f", 1e6 / a }')" 3 higher \
	"(the same run; floor: raw call round trips, one after another)"
[ "$(cat "$I"/a*/ip | sort -u | wc -l)" = "$SYNC" ] || die "a* do not have $SYNC addresses"
wait_for all_are active a || die "a* did not start"
paths a "$SYNC" | xargs rmdir || die "rmdir a*"

# STOPS running instances stopped from one bash loop: the loop against
# the raw confirmed cast rate, then how long until the last one stopped.
make_instances c "$STOPS" start
t0=$(now_ms)
bash -c "for i in \$(seq $STOPS); do echo stop > $I/c\$i/ctl; done" 2>"$WORK/stops.err"
t1=$(now_ms)
wait_for all_are stopped c || die "c* did not stop: $(head -n 3 "$WORK/stops.err")"
t2=$(now_ms)
rate=$(awk -v n="$STOPS" -v ms=$((t1 - t0)) 'BEGIN { printf "%.0f", n * 1000 / (ms ? ms : 1) }')
row "echo stop > ctl, bash loop, per s" "$rate" "$(bench_field cast_confirmed_per_s "$cast")" \
	2 higher "for i in ...; do echo stop > MNT/instances/c\$i/ctl; done"
abs "last of $STOPS stopped, ms after the loop" "$((t2 - t1))" - 1000 lower \
	"poll every 50 ms until every state is stopped"

# A start as its user waits for it, to the end: novafs, the cast, the
# compute host's libvirt calls and its report back.
virt=$(tool "$B/bench/virt_floor" test:///default 200 | grep '^define_start_us') || exit 1
n=$(paths c "$SYNC" | tool "$B/bench/oploop" command start) || exit 1
row "echo start; cat wait (until active), p50 us" "$(bench_field p50_us "$n")" \
	"$(awk -v v="$(bench_field p50 "$virt")" -v c="$castp50" 'BEGIN { print v + 2 * c }')" \
	3 lower "bench/oploop command start < MNT/instances/* (floor: define+start, 2 casts)"

# LIFE instances paused and unpaused by turns, ten actions each, one
# after another, each until its wait returns; the floor is the bus's
# share of an action that reports back (two confirmed casts).
make_instances l "$LIFE" start
n=$(for r in $(seq 10); do
	a=$([ $((r % 2)) = 1 ] && echo pause || echo unpause)
	for i in $(seq "$LIFE"); do echo "$I/l$i $a"; done
done | tool "$B/bench/oploop" command -) || exit 1
two=$(awk -v c="$castp50" 'BEGIN { print 2 * c }')
row "$((10 * LIFE)) actions on $LIFE instances, p99 us" "$(bench_field p99_us "$n")" \
	"$two" 3 lower "bench/oploop command - < 'MNT/instances/lN pause|unpause' x10"
row "$((10 * LIFE)) actions on $LIFE instances, per s" "$(bench_field per_s "$n")" \
	"$(awk -v t="$two" 'BEGIN { printf "%.0f", 1e6 / t }')" 3 higher \
	"(the same run; floor: one action after another at the floor's latency)"

# --- SPREAD instances to active on 4 compute hosts ---
# A stack of its own on vhost v2: a scheduler with the default allocation
# ratios, 4 test-driver hosts with room for 256 m1.tiny each (16 vCPUs,
# 96 GiB, 256 GB), a second mount.  8 writers, as a user's script would
# run them, each making its share of the instances, writing their flavor
# and starting them; then every wait file is read, which returns when the
# instance's task is over, and the wall time is taken.  The floor is
# SPREAD raw define+starts one after another on one test driver, divided
# by 4: the four hosts start theirs side by side.  The stack is stopped
# after, so the rows below run as before.
spawn sched4 "$B/novafs-scheduler" --config "$BROKER_ETC/scheduler.conf" \
	--amqp "${BROKER_URL}v2" --host sched4 --report-interval 2
for h in 1 2 3 4; do
	spawn "node$h" "$B/novafs-compute" --config "$BROKER_ETC/compute-node$h.conf" \
		--amqp "${BROKER_URL}v2" --host "node$h" --report-interval 2 \
		--libvirt-uri test:///default --test-vcpus 16 --test-memory-mb 98304 \
		--test-disk-gb 256
done
mkdir -p "$MNT4"
spawn novafs4 "$B/novafs" -f --config "$BROKER_ETC/novafs.conf" --amqp "${BROKER_URL}v2" \
	--db "$WORK/novafs4.db" --image-dir "$WORK/images4" "$MNT4"
wait_for test -d "$MNT4/instances" || die "the second novafs did not mount"
for h in 1 2 3 4; do
	wait_for grep -q "host node$h is up" "$WORK/sched4.log" || die "node$h never came up"
	wait_for test -d "$MNT4/hosts/node$h" || die "node$h is not in $MNT4/hosts"
done
I4=$MNT4/instances
# spread_writer K: instances hK-1..hK-SPREAD/8 made, given a flavor and
# started, each step by one program for all of them; errors to spreadK.err.
spread_writer() {
	local k=$1 n=$((SPREAD / 8)) i
	exec 2>"$WORK/spread$k.err"
	for i in $(seq "$n"); do echo "$I4/h$k-$i"; done | xargs mkdir || return 1
	for i in $(seq "$n"); do echo "$I4/h$k-$i/flavor"; done |
		"$B/bench/oploop" write m1.tiny >/dev/null || return 1
	for i in $(seq "$n"); do echo "$I4/h$k-$i/network"; done |
		"$B/bench/oploop" write "" >/dev/null || return 1
	for i in $(seq "$n"); do echo "$I4/h$k-$i/ctl"; done |
		"$B/bench/oploop" write start >/dev/null
}
writers=()
t0=$(now_ms)
for k in $(seq 8); do
	spread_writer "$k" &
	writers+=($!)
done
for k in $(seq 8); do
	wait "${writers[k - 1]}" || die "writer $k failed: $(cat "$WORK/spread$k.err")"
done
cat "$I4"/*/wait >/dev/null || die "cannot read the wait files"
t1=$(now_ms)
[ "$(ls "$I4" | wc -l)" = "$SPREAD" ] || die "$(ls "$I4" | wc -l) of $SPREAD instances"
all_are_in "$I4" active || die "not all active: $(cat "$I4"/*/state | sort | uniq -c | tr '\n' ' ')"
spread=$(for h in 1 2 3 4; do ls "$MNT4/hosts/node$h/instances" | wc -l; done | paste -sd+)
[ "$(($spread))" = "$SPREAD" ] || die "the hosts hold $spread, not $SPREAD"
case "+$spread+" in *+0+*) die "a host got nothing: $spread" ;; esac
virt=$(tool "$B/bench/virt_floor" test:///default "$SPREAD" | grep '^define_start_us') || exit 1
row "$SPREAD instances mkdir to active, 4 hosts, ms" "$((t1 - t0))" \
	"$(awk -v w="$(bench_field wall_ms "$virt")" 'BEGIN { printf "%.1f", w / 4 }')" 3 lower \
	"8 writers: mkdir, echo m1.tiny > flavor, echo start > ctl; cat */wait (hosts $spread; floor: bench/virt_floor $SPREAD, wall / 4)"
fusermount3 -u "$MNT4"
stop_spawned novafs4 node1 node2 node3 node4 sched4

# --- placement: 100 compute hosts reporting, many requests in flight ---
# A scheduler of its own on vhost v1, with the default allocation ratios;
# bench/placement speaks for the hosts (and so as an oslo peer: see
# there) and calls select_destinations 64 at a time, then makes the same
# calls to a trivial server, the floor.
spawn placer "$B/novafs-scheduler" --config "$BROKER_ETC/scheduler.conf" \
	--amqp "${BROKER_URL}v1" --host placer --allow-peers-without-user-id
wait_for grep -q "serving topic scheduler" "$WORK/placer.log" || die "the placement scheduler did not start"
n=$(AMQP_URL=${BROKER_ADMIN_URL}v1 tool "$B/bench/placement" sched 100 "$PLACE" 64) || exit 1
f=$(AMQP_URL=${BROKER_ADMIN_URL}v1 tool "$B/bench/placement" floor "$PLACE" 64) || exit 1
kill "$PID_placer"
wait "$PID_placer" 2>/dev/null
row "placement throughput: instances scheduled per second with 100 simulated hosts reporting" \
	"$(bench_field placements_per_s "$n")" "$(bench_field calls_per_s "$f")" 2 higher \
	"bench/placement sched 100 $PLACE 64 (floor: placement floor $PLACE 64)"

# --- an image upload: UPLOAD_MB of random bytes, cp into data ---
# until the image is active (hashed twice, its format checked, fsynced
# and renamed), against a plain cp of the same file onto the same disk
# (the work directory's), each from a warm page cache; the floor is
# measured first, and its copy removed before the upload.  novafs's
# peak resident memory is reset before the upload (clear_refs 5) and
# read after, against what it was before.
head -c $((UPLOAD_MB * 1024 * 1024)) /dev/urandom >"$WORK/upload.img" || die "cannot make the upload file"
cat "$WORK/upload.img" >/dev/null
t0=$(date +%s%N)
cp "$WORK/upload.img" "$WORK/copy.img" || die "cp failed"
t1=$(date +%s%N)
rm -f "$WORK/copy.img"
mkdir "$MNT/images/up" || die "mkdir images/up"
before=$(awk '/VmRSS/ { print $2 }' "/proc/$PID_novafs/status")
echo 5 >"/proc/$PID_novafs/clear_refs"
t2=$(date +%s%N)
cp "$WORK/upload.img" "$MNT/images/up/data" || die "the upload failed"
[ "$(cat "$MNT/images/up/wait")" = active ] || die "the upload is $(cat "$MNT/images/up/status"): $(cat "$MNT/images/up/fault")"
t3=$(date +%s%N)
peak=$(awk '/VmHWM/ { print $2 }' "/proc/$PID_novafs/status")
rate() { awk -v mb="$UPLOAD_MB" -v ns="$1" 'BEGIN { printf "%.0f", mb * 1e9 / ns }'; }
row "image upload, $UPLOAD_MB MiB, MB/s until active" "$(rate $((t3 - t2)))" \
	"$(rate $((t1 - t0)))" 1.43 higher \
	"cp FILE MNT/images/up/data; cat MNT/images/up/wait (floor: cp FILE onto the same disk)"
abs "image upload: novafs peak resident MB (before $((before / 1024)))" "$((peak / 1024))" - \
	$((before / 1024 + 32)) lower "VmHWM of novafs after clear_refs, during the upload"
rmdir "$MNT/images/up" || die "rmdir images/up"
rm -f "$WORK/upload.img"

# --- NBIG instances: memory, and mount to the first answer ---
unmount_novafs
/usr/bin/python3 - "$WORK/novafs.db" "$NBIG" <<'EOF' || die "cannot fill the database"
import sqlite3, sys, time, uuid
db = sqlite3.connect(sys.argv[1])
now = time.time_ns()
db.executemany("INSERT INTO instances (uuid, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
               ((str(uuid.uuid4()), "big%06d" % i, now, now) for i in range(int(sys.argv[2]))))
db.commit()
EOF
total=$(/usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM instances").fetchone()[0])' "$WORK/novafs.db")
t0=$(now_ms)
mount_novafs
wait_for ls "$I/big000000" || die "the big tree did not answer"
t1=$(now_ms)
ls -l "$I" >/dev/null
[ "$(ls "$I" | wc -l)" = "$total" ] || die "novafs lists $(ls "$I" | wc -l) of $total instances"
kb=$(awk '/VmHWM/ { print $2 }' "/proc/$PID_novafs/status")
abs "$total instances: resident MB" "$((kb / 1024))" - 100 lower "VmHWM of novafs after ls -l"
abs "$total instances: mount to first ls, ms" "$((t1 - t0))" - 1000 lower \
	"novafs MNT; until ls MNT/instances/big000000 answers (polled every 50 ms)"
echo "$MISSED target(s) missed"
