#!/usr/bin/env bash
# rpc.sh - the bus (rpc/) against the real broker.
#
# Everything happens in one C program, tests/tools/rpc_selftest: buses as
# novafs, compute-node1..3, scheduler and oslo-peer on one event loop, a
# raw connection that reads the wire, and a TCP proxy that cuts, mutes and
# freezes connections.  It prints TAP with its own plan, and the measured
# call round trip and confirmed-cast rate as comments.
. "$(dirname "$0")/../lib/common.sh"

if [ ! -x "$B/tests/rpc_selftest" ]; then
	not_ok "rpc_selftest is built ($B/tests/rpc_selftest)"
	done_testing
	exit 1
fi
"$B/tests/rpc_selftest" "$AMQP_URL" "$BROKER_ETC"
