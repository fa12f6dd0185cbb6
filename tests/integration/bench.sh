#!/usr/bin/env bash
# bench.sh - `make bench` as a smoke run: bench/run.sh with tiny sizes
# (BENCH_SMALL=1) on this build prints its whole table.  Figures are not
# checked (a benchmark is not a test; the targets are in bench/run.sh and
# the README), only that every row has one, so that `make bench` cannot
# rot between runs.
. "$(dirname "$0")/../lib/common.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$TEST_TMP/bench.out
BENCH_SMALL=1 "$TOP/bench/run.sh" "$(realpath --relative-to="$TOP" "$B")" >"$OUT" 2>&1
check_eq "bench/run.sh exits 0" "$?" 0
ROWS=(
	"mkdir/s, 8 writers, durable"
	"open+read+close state, p50 us"
	"open+read+close state, p99 us"
	"ls -l instances/"
	"find -type f"
	"first starts wait (scheduler stopped)"
	"rmdirs (compute host stopped)"
	"first start (call + cast), p50 us"
	"rmdir (a confirmed cast), p50 us"
	"first start with a NIC (2 calls + cast), p50 us"
	"addresses allocated through the mount, per s"
	"echo stop > ctl, bash loop, per s"
	"stopped, ms after the loop"
	"echo start; cat wait (until active), p50 us"
	"actions on 10 instances, p99 us"
	"actions on 10 instances, per s"
	"40 instances mkdir to active, 4 hosts, ms"
	"image upload, 16 MiB, MB/s until active"
	"image upload: novafs peak resident MB"
	"instances: resident MB"
	"instances: mount to first ls, ms"
	"placement throughput: instances scheduled per second with 100 simulated hosts reporting"
)
for r in "${ROWS[@]}"; do
	check "a figure for \"$r\"" awk -v r="$r" '
		index($0, r) && /(met|MISSED)  / { found = 1 }
		END { exit !found }' "$OUT"
done
check "no row without a figure" sh -c "! grep -q ' n/a ' '$OUT'"
check "it ends counting the missed targets" sh -c "tail -n 1 '$OUT' | grep -Eq '^[0-9]+ target\(s\) missed$'"
check "it cleaned up: no mount left" sh -c "! grep -q novafs-bench /proc/mounts"
[ "$TAP_FAILED" = 0 ] || sed 's/^/#   /' "$OUT"
done_testing
