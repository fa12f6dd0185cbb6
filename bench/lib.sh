# lib.sh - shell helpers for benchmarks that compare novafs with its floors.
#
# Sourced, not run.  A target is a ratio to a floor measured in the same
# run on the same machine (bench/nullfs.c, amqp_floor.c, virt_floor.c), so
# that a figure means the same on a laptop and in CI.  These helpers time
# commands, summarize samples, and print one table row per metric:
#
#   bench_time_ms CMD [ARG...]   run CMD (stdout discarded), print its wall
#                                time in ms; returns CMD's status
#   bench_stats < NUMBERS        one number a line in, "p50=X p99=Y mean=Z n=N" out
#   bench_field KEY LINE         the value of KEY=VALUE in LINE (a tool's output)
#   bench_header                 the column titles for bench_row
#   bench_row METRIC NOVAFS FLOOR TARGET BETTER COMMAND...
#   bench_abs METRIC NOVAFS FLOOR TARGET BETTER COMMAND...
#
# bench_row prints METRIC, both values, their ratio, the target ratio,
# "met" or "MISSED", and the command that reproduces the novafs figure.
# BETTER says which way the metric goes: "lower" (latencies, times: ratio
# = novafs / floor) or "higher" (throughputs: ratio = floor / novafs).
# Either way the ratio is how many times worse than the floor novafs is,
# and the target is met when ratio <= TARGET.  A missing or zero value
# gives ratio "n/a" and MISSED.  Returns 0 when met, 1 when missed, so a
# caller can count misses.  Example:
#
#   . bench/lib.sh
#   n=$(bench_field p50_us "$(readloop "$MNT/instances/b1/state" 20000)")
#   f=$(bench_field p50_us "$(readloop "$NULL/instances/i00000/state" 20000)")
#   bench_header
#   bench_row read_state_p50_us "$n" "$f" 3 lower "readloop MNT/instances/b1/state 20000"
#
# bench_abs is bench_row for a target that is an absolute figure (a rate,
# a memory size, a time to answer): met when NOVAFS <= TARGET ("lower")
# or >= TARGET ("higher").  FLOOR, "-" for none, is shown for scale.

# Percentiles are nearest-rank on sorted samples, index (n-1)*p/100, as
# readloop.c and mkdirs.c compute them, so shell and C figures compare.

bench_time_ms() {
	local t0 t1 rc
	t0=$(date +%s%N)
	"$@" >/dev/null
	rc=$?
	t1=$(date +%s%N)
	awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f\n", ns / 1e6 }'
	return $rc
}

bench_stats() {
	sort -g | awk '
		{ v[NR - 1] = $1; sum += $1 }
		END {
			if (NR == 0) { print "n=0"; exit 1 }
			printf "p50=%g p99=%g mean=%g n=%d\n",
				v[int((NR - 1) * 50 / 100)], v[int((NR - 1) * 99 / 100)], sum / NR, NR
		}'
}

bench_field() {
	local key=$1 line=$2 w
	for w in $line; do
		case $w in "$key="*) echo "${w#*=}"; return 0 ;; esac
	done
	return 1
}

bench_header() {
	printf '%-46s %10s %10s %6s %7s %-6s  %s\n' \
		metric novafs floor ratio target result command
}

bench_row() {
	local metric=$1 novafs=$2 floor=$3 target=$4 better=$5
	shift 5
	case $better in
	lower | higher) ;;
	*) echo "bench_row: BETTER must be lower or higher, not '$better'" >&2; return 2 ;;
	esac
	awk -v m="$metric" -v n="$novafs" -v f="$floor" -v t="$target" -v b="$better" -v c="$*" '
		BEGIN {
			ok = n + 0 > 0 && f + 0 > 0
			if (ok)
				r = b == "lower" ? n / f : f / n
			ratio = ok ? sprintf("%.2f", r) : "n/a"
			met = ok && r <= t + 0
			printf "%-46s %10s %10s %6s %7s %-6s  %s\n",
				m, n == "" ? "-" : n, f == "" ? "-" : f, ratio, "<=" t,
				met ? "met" : "MISSED", c
			exit !met
		}'
}

bench_abs() {
	local metric=$1 novafs=$2 floor=$3 target=$4 better=$5
	shift 5
	awk -v m="$metric" -v n="$novafs" -v f="$floor" -v t="$target" -v b="$better" -v c="$*" '
		BEGIN {
			ok = n != "" && n + 0 == n
			met = ok && (b == "lower" ? n + 0 <= t + 0 : n + 0 >= t + 0)
			printf "%-46s %10s %10s %6s %7s %-6s  %s\n",
				m, n == "" ? "-" : n, f == "" ? "-" : f, "-",
				(b == "lower" ? "<=" : ">=") t, met ? "met" : "MISSED", c
			exit !met
		}'
}
