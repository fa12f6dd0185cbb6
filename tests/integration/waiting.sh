#!/usr/bin/env bash
# waiting.sh - a script waits for a task without a sleep loop: a read of
# wait blocks until the task ends and says how (success, failure), can be
# interrupted and given a timeout, and O_NONBLOCK says EAGAIN; poll() on
# state wakes when it changes and times out when it does not.
. "$(dirname "$0")/../lib/common.sh"

start_stack || { not_ok "stack started"; done_testing; exit 1; }
I=$MNT/instances
COMPUTE=${PID_OF[compute-node1]}
mkdir "$I/w1"
echo m1.tiny >"$I/w1/flavor"

# Success: the host is held (SIGSTOP) so that the task is surely running
# when the reader starts.
kill -STOP "$COMPUTE"
echo start >"$I/w1/ctl"
timeout 20 cat "$I/w1/wait" >"$TEST_TMP/w1.out" &
READER=$!
check_eq "while the task runs, wait blocks" "$(sleep 0.5; kill -0 $READER && echo blocked)" blocked
check_fails "O_NONBLOCK says so at once" "Resource temporarily unavailable" \
	/usr/bin/python3 -c "import os; os.read(os.open('$I/w1/wait', os.O_RDONLY | os.O_NONBLOCK), 64)"
check_eq "a timeout ends it" "$(timeout 1 cat "$I/w1/wait"; echo "rc=$?")" "rc=124"
# (A background job of a script ignores SIGINT: Python restores it.)
/usr/bin/python3 -c "
import os, signal
signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    os.read(os.open('$I/w1/wait', os.O_RDONLY), 64)
    print('read')
except KeyboardInterrupt:
    print('interrupted')" >"$TEST_TMP/intr.out" &
INTR=$!
sleep 0.5
kill -INT "$INTR"
check "an interrupt (Ctrl-C) ends a blocked read" wait_for 5 sh -c "! kill -0 $INTR 2>/dev/null"
check_eq "as interrupted" "$(cat "$TEST_TMP/intr.out")" interrupted
# poll(): blocks while nothing changes, wakes when state does.
/usr/bin/python3 - "$I/w1/state" >"$TEST_TMP/poll.out" <<'EOF' &
import os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
os.read(fd, 64)
p = select.poll()
p.register(fd, select.POLLIN | select.POLLPRI)
t = time.monotonic()
quiet = p.poll(300)
print("quiet" if not quiet else "woke early")
events = p.poll(20000)
print("woke" if events else "timed out", os.pread(fd, 64, 0).decode().strip())
EOF
POLLER=$!
sleep 1
kill -CONT "$COMPUTE"
wait "$READER"
check_eq "wait says the outcome once the task ends" "$(cat "$TEST_TMP/w1.out")" active
wait "$POLLER"
check_eq "poll() timed out while nothing changed, then woke when state did" \
	"$(tr '\n' ' ' <"$TEST_TMP/poll.out")" "quiet woke active "
check_eq "with no task, wait answers at once" "$(timeout 2 cat "$I/w1/wait")" active

# Failure: wait says what went wrong.
# 1% of a default test host's memory, 2,621 MB: no room for m1.large.
restart_scheduler --ram-allocation-ratio 0.01
mkdir "$I/w2"
echo m1.large >"$I/w2/flavor"
check_fails "a start nothing has room for" "No route to host" bash -c "echo start > $I/w2/ctl"
check "wait says the error" sh -c "timeout 5 cat $I/w2/wait | grep -q '^error: NoValidHost: '"

done_testing
