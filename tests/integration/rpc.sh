#!/usr/bin/env bash
# rpc.sh - the rpc/ library against the real broker.
#
# Everything happens in one C program, tests/tools/rpc_selftest (server
# threads and a client, each with its own connection), which prints TAP
# with its own plan; this script only hands it the vhost's URL.
. "$(dirname "$0")/../lib/common.sh"

if [ ! -x "$B/tests/rpc_selftest" ]; then
	not_ok "rpc_selftest is built ($B/tests/rpc_selftest)"
	done_testing
	exit 1
fi
"$B/tests/rpc_selftest" "$AMQP_URL"
