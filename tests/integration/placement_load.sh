#!/usr/bin/env bash
# placement_load.sh - 200 instances started at once on 4 hosts with room
# for 80 of them: no host is ever over its capacity (times the allocation
# ratios), as every report the hosts send says, and every instance ends
# active or in error with its reason.
. "$(dirname "$0")/../lib/common.sh"

I=$MNT/instances
N=200
# Each host: 4 vCPUs (64 with cpu ratio 16), 8,192 MB (12,288 with 1.5),
# 20 GB (ratio 1.0): room for 20 m1.tiny (1 vCPU, 512 MB, 1 GB), by disk.
export REPORT_INTERVAL=1
start_scheduler
start_network
for n in 1 2 3 4; do
	start_compute "node$n" --test-vcpus 4 --test-memory-mb 8192 --test-disk-gb 20
done
start_novafs || { done_testing; exit 1; }
for n in 1 2 3 4; do wait_compute "node$n"; done

# Every heartbeat, as the hosts send it.
spawn reports "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen fanout:scheduler
wait_for 10 grep -q '^listening' "$LOGS/reports.log" || diag "the listener did not start"

for i in $(seq $N); do mkdir "$I/x$i" && echo m1.tiny >"$I/x$i/flavor"; done
# 200 writers at once.
writers=()
for i in $(seq $N); do
	(echo start >"$I/x$i/ctl") 2>/dev/null &
	writers+=($!)
done
wait "${writers[@]}"
for i in $(seq $N); do timeout 60 cat "$I/x$i/wait" >/dev/null; done
# Two more report intervals, so that every host has counted what it runs.
sleep 2.5

states=$(cat "$I"/x*/state | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
check_eq "80 active, 120 in error" "$states" "active=80 error=120 "
check "every instance in error says why" sh -c \
	"for f in $I/x*; do [ \"\$(cat \$f/state)\" = active ] || grep -q '^NoValidHost: No valid host: 0/4 hosts passed; DiskFilter rejected node1 (0 GB free, 1 GB needed)' \$f/fault || exit 1; done"
check_eq "no task left" "$(cat "$I"/x*/task | sort -u)" none
for n in 1 2 3 4; do
	check_eq "node$n runs 20" "$(ls "$MNT/hosts/node$n/instances" | wc -l)" 20
done

stop reports
# A host's own numbers, in every report it sent: never over its limits.
over=$(grep '^{' "$LOGS/reports.log" | jq -c 'select(.args.binary == "novafs-compute" and .args.up) |
	.args | select(.vcpus_used > .vcpus * 16 or .memory_mb_used > .memory_mb * 1.5 or
		       .disk_gb_used > .disk_gb) | {host, vcpus_used, memory_mb_used, disk_gb_used}')
check_eq "no report over capacity" "$over" ""
reports=$(grep -c '"binary":"novafs-compute"' "$LOGS/reports.log")
check "the reports were heard ($reports, two a host at least)" test "$reports" -ge 8
check_eq "the last reports count 20 per host" \
	"$(grep '^{' "$LOGS/reports.log" | jq -r 'select(.args.binary == "novafs-compute" and .args.up) | "\(.args.host) \(.args.disk_gb_used)"' | awk '{last[$1] = $2} END {for (h in last) print h, last[h]}' | sort | tr '\n' ' ')" \
	"node1 20 node2 20 node3 20 node4 20 "
check "nothing was refused by a host: the claims held" \
	sh -c "! grep -l 'refused it' $I/x*/actions/*/events 2>/dev/null | grep -q ."

for i in $(seq $N); do rmdir "$I/x$i"; done
check "every host is empty again" wait_for 10 sh -c \
	"for n in 1 2 3 4; do [ \"\$(cat $MNT/hosts/node\$n/disk_gb_used)\" = 0 ] || exit 1; done"
done_testing
