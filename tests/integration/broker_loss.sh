#!/usr/bin/env bash
# RabbitMQ goes away while everything runs: reads keep working, writes that
# need the bus fail with a clear errno, and everything recovers when it is
# back.  This test runs its own broker, since it stops it.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/broker.sh"

PORT=$((6300 + RANDOM % 300))
broker_start "$TEST_TMP/broker" "$PORT" || { not_ok "own broker started"; done_testing; exit 1; }
trap 'stop_stack; broker_stop' EXIT
AMQP_URL=$BROKER_URL

start_stack || { not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances
mkdir "$I/web1"
echo m1.tiny >"$I/web1/flavor"

broker_stop
check_eq "reads keep working" "$(cat "$I/web1/state")" stopped
check "listing keeps working" ls -l "$I"
check "mkdir keeps working (no bus needed)" mkdir "$I/web2"
check "novafs notices the broker is gone" wait_for 20 grep -q "lost the message bus" "$LOGS/novafs.log"
check_fails "start fails with the bus's own errno" "Network is down" bash -c "echo start > $I/web1/ctl"
check "which no one takes for a dead mount" sh -c "! bash -c 'echo start > $I/web1/ctl' 2>&1 | grep -q 'not connected'"
check_eq "the instance is not in error" "$(cat "$I/web1/state")" stopped
check "fault says why" grep -q "ConnectionError" "$I/web1/fault"

broker_restart || { not_ok "broker restarted"; done_testing; exit 1; }
check "once the broker is back, start works" wait_for 30 bash -c "echo start > $I/web1/ctl"
check "and the instance becomes active" wait_for 20 file_is "$I/web1/state" active

done_testing
