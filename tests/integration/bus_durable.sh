#!/usr/bin/env bash
# bus_durable.sh - nothing queued is lost to a broker restart.
#
# On a RabbitMQ node of its own (it restarts it twice): the exchange and
# queues carry exactly the flags of an oslo.messaging peer with
# amqp_durable_queues = true (tests/data/oslo-14.0.3-extra.json); casts
# that wait in the queue of a stopped (SIGSTOP) compute host survive a
# restart and are all acted on once it runs again; reports that wait for
# a conductor that is not there survive one too.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/broker.sh"

N=20
UPDATES=$LOGS/listener.log
DATA=$(dirname "$0")/../data/oslo-14.0.3-extra.json

# A port of its own, away from tests/run.sh's 5800-6199.
port=$((6300 + RANDOM % 300))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
trap 'stop_stack; broker_stop' EXIT
if ! broker_start "$TEST_TMP/broker" "$port" 1 >"$TEST_TMP/broker.out" 2>&1; then
	not_ok "a RabbitMQ node of this test's own starts"
	cat "$TEST_TMP/broker.out" >&2
	done_testing
	exit 1
fi
AMQP_URL=${BROKER_URL}v1

uuid_of() { printf '00000000-0000-4000-8000-%012d' "$1"; }
instance() { echo "{\"uuid\":\"$(uuid_of "$1")\",\"name\":\"vm$1\",\"flavor\":\"m1.tiny\",\"vcpus\":1,\"memory_mb\":64,\"disk_gb\":1}"; }
# reported VM_STATE: how many distinct instances the listener saw in it.
reported() {
	grep '^{' "$UPDATES" | jq -r --arg v "$1" 'select(.args.vm_state == $v) | .args.uuid' |
		sort -u | wc -l
}
# seen VM_STATE N: at least N of them.
seen() { [ "$(reported "$1")" -ge "$2" ]; }
# logged_times PATTERN N: node1 logged PATTERN at least N times.
logged_times() { [ "$(grep -c -- "$1" "$LOGS/compute-node1.log")" -ge "$2" ]; }
listen() {
	spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
		listen conductor
	wait_for 10 grep -q '^listening' "$UPDATES"
}

start_scheduler
start_compute node1
wait_compute node1 || { not_ok "scheduler hears from node1"; done_testing; exit 1; }
listen || diag "listener did not start"
check "a call leaves a reply queue to look at" rpc_as novafs call scheduler select_destinations \
	"{\"instance_uuid\":\"$(uuid_of 0)\",\"flavor\":{\"name\":\"m1.tiny\",\"vcpus\":1,\"memory_mb\":64,\"disk_gb\":1}}"

# Every entity oslo declares with amqp_durable_queues, as the broker
# reports ours: the same flags and arguments, names mapped.
broker_ctl list_exchanges -p v1 --formatter json name type durable auto_delete arguments \
	>"$TEST_TMP/exchanges.json"
broker_ctl list_queues -p v1 --formatter json name durable auto_delete exclusive arguments \
	>"$TEST_TMP/queues.json"
/usr/bin/python3 - "$DATA" "$TEST_TMP/exchanges.json" "$TEST_TMP/queues.json" >"$TEST_TMP/flags.out" <<'EOF'
import json, re, sys
want = json.load(open(sys.argv[1]))["durable"]["all_declared"]
ours = {"exchanges": json.load(open(sys.argv[2])), "queues": json.load(open(sys.argv[3]))}
# Ours for oslo's (topic "vectors", server hostA): topic compute, server
# node1, and the user in the names of per-process queues.
names = {"novafs": r"novafs", "vectors": r"compute",
         "vectors.hostA": r"compute\.node1", "vectors_fanout": r"compute_fanout",
         "vectors_fanout_<uuid4 hex>": r"compute_fanout_compute-node1_[0-9a-f]{32}",
         "reply_<uuid4 hex>": r"reply_novafs_[0-9a-f]{32}"}
def args(a):
    # tests/data: [[name, type, value]]; rabbitmqctl: {name: value}.
    if isinstance(a, dict):
        return sorted(a.items())
    return sorted((x[0], x[-1]) for x in a)
failed = 0
for kind in ("exchanges", "queues"):
    for w in want[kind]:
        pattern = names[w["name"]]
        got = [o for o in ours[kind] if re.fullmatch(pattern, o["name"])]
        keys = [k for k in ("type", "durable", "auto_delete", "exclusive") if k in w]
        ok = got and all(all(g.get(k) == w[k] for k in keys) and
                         args(g.get("arguments") or []) == args(w["arguments"])
                         for g in got)
        print("%s %s %s as oslo's %s: %s args %s" % (
            "ok" if ok else "FAIL", kind[:-1], pattern, w["name"],
            ", ".join("%s %s" % (k, w[k]) for k in keys), args(w["arguments"])))
        if not ok:
            print("# ours: %s" % got)
            failed += 1
sys.exit(1 if failed else 0)
EOF
rc=$?
while read -r verdict rest; do
	if [ "$verdict" = ok ]; then ok "$rest"; elif [ "$verdict" = FAIL ]; then not_ok "$rest"; else diag "$verdict $rest"; fi
done <"$TEST_TMP/flags.out"
[ "$rc" = 0 ] || diag "flag comparison failed"

# --- casts waiting for a stopped compute host ---
kill -STOP "${PID_OF[compute-node1]}"
sent=0
for i in $(seq "$N"); do
	rpc_as novafs cast compute.node1 start_instance \
		"{\"instance\":$(instance "$i"),\"expected_task_state\":\"spawning\"}" && sent=$((sent + 1))
done
check_eq "$N casts confirmed by the broker while node1 is stopped" "$sent" "$N"
check "the broker restarts" broker_restart
kill -CONT "${PID_OF[compute-node1]}"
if wait_for 60 seen active "$N"; then
	ok "node1 acted on all $N after the restart, and the conductor heard each"
else
	not_ok "node1 acted on all $N after the restart, and the conductor heard each ($(reported active))"
	tail -n 20 "$LOGS/compute-node1.log" | sed 's/^/#   /'
fi
check "node1 reconnected on its own" grep -q "lost the message bus" "$LOGS/compute-node1.log"
check_eq "none was handled twice" \
	"$(grep -c 'start_instance instance .*: active' "$LOGS/compute-node1.log")" "$N"

# --- reports waiting for an absent conductor ---
stop listener
for i in $(seq 5); do
	rpc_as novafs cast compute.node1 stop_instance \
		"{\"instance\":$(instance "$i"),\"expected_task_state\":\"powering-off\"}"
done
check "node1 stops five instances with no conductor listening" \
	wait_for 10 logged_times 'stop_instance instance .*: stopped' 5
check "the broker restarts again" broker_restart
listen || diag "listener did not start again"
check "the five reports waited in the conductor's queue" wait_for 30 seen stopped 5

done_testing
