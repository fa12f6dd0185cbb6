#!/usr/bin/env bash
# keeping_true.sh - no instance is ever stuck in a task, and state follows
# what the host says: a compute host killed mid-task and restarted; a host
# stopped (SIGSTOP) for longer than service_down_time during a task; a
# request lost from the host's queue; a domain whose instance was deleted
# while its host could not hear it.
. "$(dirname "$0")/../lib/common.sh"

I=$MNT/instances
start_scheduler
start_network
start_compute node1 --report-interval 1
# Short timeouts, so that the sweep's work shows in seconds.
start_novafs --task-timeout 2 --service-down-time 4 || { not_ok "novafs mounted"; done_testing; exit 1; }
wait_compute node1 || { not_ok "node1 up"; done_testing; exit 1; }

# disconnect USER: the broker closes USER's connections.  A process
# stopped with SIGSTOP then receives nothing more, and reconnects when it
# runs again, as after any broker hiccup: what is purged from its queue
# meanwhile is a request it never got.
disconnect() {
	local vhost=${AMQP_URL##*/} pid
	for pid in $(rabbitmqctl -q -n "$RABBITMQ_NODENAME" list_connections -p "$vhost" pid user |
		     awk -v u="$1" '$2 == u { print $1 }'); do
		rabbitmqctl -q -n "$RABBITMQ_NODENAME" close_connection "$pid" "test: lose a request" >/dev/null
	done
}
# purge QUEUE: prints how many ready messages it dropped (as oslo-peer,
# which may do anything).
purge() {
	/usr/bin/python3 - "$(identity oslo-peer)" "$AMQP_URL" "$1" <<'EOF'
import amqp, configparser, sys, urllib.parse
ini = configparser.ConfigParser(interpolation=None)
ini.read(sys.argv[1])
u = urllib.parse.urlparse(sys.argv[2])
c = amqp.Connection('%s:%d' % (u.hostname, u.port), userid=ini['amqp']['user'],
                    password=ini['amqp']['password'], virtual_host=u.path[1:])
c.connect()
print(c.channel().queue_purge(sys.argv[3]))
c.close()
EOF
}
boot() {
	mkdir "$I/$1" && echo m1.tiny >"$I/$1/flavor" && echo start >"$I/$1/ctl" &&
		[ "$(timeout 20 cat "$I/$1/wait")" = active ]
}

# 1. Killed mid-task, then restarted: the task ends as the host now says.
check "boot web1" boot web1
kill -STOP "${PID_OF[compute-node1]}"
check "stop web1 while its host is stopped" sh -c "echo stop > $I/web1/ctl"
check_eq "web1 is powering-off" "$(cat "$I/web1/task")" powering-off
kill -KILL "${PID_OF[compute-node1]}"
kill -CONT "${PID_OF[compute-node1]}" 2>/dev/null
wait "${PID_OF[compute-node1]}" 2>/dev/null
start_compute node1 --report-interval 1
check "once node1 is back, the task ends" wait_for 15 file_is "$I/web1/task" none
check_eq "web1 is stopped: the test driver lost its domain with the process" \
	"$(cat "$I/web1/state")" stopped
check "start defines it again" sh -c "echo start > $I/web1/ctl"
check_eq "web1 is active" "$(timeout 20 cat "$I/web1/wait")" active

# 2. A host down for good during a task: the task ends as it was.
kill -STOP "${PID_OF[compute-node1]}"
check "stop web1 while its host is stopped" sh -c "echo stop > $I/web1/ctl"
SECONDS=0
check "wait ends with the host down" sh -c "timeout 30 cat $I/web1/wait | grep -q 'error: HostDown: compute host node1 is down'"
check "within task_timeout + service_down_time + a sweep interval" test "$SECONDS" -le 10
check_eq "web1 is still active" "$(cat "$I/web1/state")/$(cat "$I/web1/task")" active/none
check "the action says why" grep -q "HostDown" "$(ls -d "$I"/web1/actions/*-stop | tail -n 1)/message"
kill -CONT "${PID_OF[compute-node1]}"
check "when the host runs again and stops it, state follows" wait_for 15 file_is "$I/web1/state" stopped

# 3. A request lost on the way: the sweep asks the host.
echo start >"$I/web1/ctl"
timeout 20 cat "$I/web1/wait" >/dev/null
kill -STOP "${PID_OF[compute-node1]}"
disconnect compute-node1
echo stop >"$I/web1/ctl"
check_eq "the stop is lost from node1's queue" "$(purge compute.node1)" 1
kill -CONT "${PID_OF[compute-node1]}"
check "wait ends when the sweep has asked the host" sh -c \
	"timeout 30 cat $I/web1/wait | grep -q 'error: TaskTimeout: no report of powering-off from node1 in 2 s; the host says running'"
check_eq "web1 is active, as the host says" "$(cat "$I/web1/state")/$(cat "$I/web1/task")" active/none

# 4. Deleted while its host could not hear: the host's report of a domain
# with no instance destroys it.
ID=$(cat "$I/web1/id")
kill -STOP "${PID_OF[compute-node1]}"
disconnect compute-node1
check "rmdir web1 while its host is stopped" rmdir "$I/web1"
check_eq "the terminate is lost from node1's queue" "$(purge compute.node1)" 1
kill -CONT "${PID_OF[compute-node1]}"
check "node1's next report gets its domain destroyed" wait_for 15 grep -q \
	"terminate_instance instance $ID: deleted" "$LOGS/compute-node1.log"
check "novafs said why" grep -q "has domain $ID, which it does not run" "$LOGS/novafs.log"

done_testing
