#!/usr/bin/env bash
# netmgr.sh - novafs-network over the bus: allocations are idempotent,
# all or nothing, refused when a range is full or a definition is wrong or
# the sender is not novafs, released and forgotten idempotently, and kept
# across a kill -9; the service heartbeats as novafs-network.
. "$(dirname "$0")/../lib/common.sh"

NLOG=$LOGS/network.log
BEATS=$LOGS/beats.log
spawn beats "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen fanout:scheduler
wait_for 10 grep -q '^listening' "$BEATS" || diag "the heartbeat listener did not start"
start_network
wait_for 20 grep -q "serving topic network on net1" "$NLOG" ||
	{ not_ok "novafs-network started"; cat "$NLOG" >&2; done_testing; exit 1; }

# net NAME CIDR GATEWAY DHCP_START DHCP_END: a definition, as JSON.
net() {
	jq -cn --arg n "$1" --arg c "$2" --arg g "$3" --arg s "$4" --arg e "$5" \
		'{name: $n, cidr: $c, gateway: $g, dhcp_start: $s, dhcp_end: $e}'
}
uuid() { printf '00000000-0000-4000-8000-%012d' "$1"; }
# allocate N DEFINITION...: allocate_for_instance for instance N as USER
# (default novafs); the result on stdout, "Class: message" on stderr.
allocate() {
	local n=$1; shift
	rpc_as "${USER_AS:-novafs}" call network allocate_for_instance "$(jq -cn \
		--arg u "$(uuid "$n")" --argjson nets "$(printf '%s\n' "$@" | jq -cs .)" \
		'{instance_uuid: $u, networks: $nets}')"
}
# ip_of N DEFINITION...: the address instance N gets on the first network.
ip_of() { allocate "$@" | jq -r '.nics[0].ip'; }
# status_of CMD...: CMD's exit status; its output in $TEST_TMP/status.out.
status_of() { "$@" >"$TEST_TMP/status.out" 2>&1; echo $?; }
said() { grep -qF -- "$1" "$TEST_TMP/status.out"; }

TINY=$(net tiny 198.51.100.0/29 198.51.100.1 198.51.100.1 198.51.100.6)
LAN=$(net lan 192.0.2.0/24 192.0.2.1 192.0.2.2 192.0.2.50)

FIRST=$(allocate 1 "$TINY")
check_eq "the first address after the gateway" "$(jq -r '.nics[0].ip' <<<"$FIRST")" 198.51.100.2
check "a MAC under fa:16:3e, for network tiny" \
	jq -e '.nics[0].mac | test("^fa:16:3e(:[0-9a-f]{2}){3}$")' <<<"$FIRST"
check_eq "the same call again: the same address and MAC" "$(allocate 1 "$TINY")" "$FIRST"
check_eq "the next instance: the next address" "$(ip_of 2 "$TINY")" 198.51.100.3
for i in 3 4 5; do allocate "$i" "$TINY" >/dev/null; done
check_eq "a full range: NoMoreFixedIps (EADDRNOTAVAIL)" "$(status_of allocate 6 "$TINY")" 99
check "with the exact message" said "NoMoreFixedIps: no more fixed IPs on tiny"
check "and a log line" grep -q "instance $(uuid 6): NoMoreFixedIps: no more fixed IPs on tiny" "$NLOG"

check_eq "lan fine, tiny full: refused" "$(status_of allocate 7 "$LAN" "$TINY")" 99
check "naming tiny" said "no more fixed IPs on tiny"
check_eq "and lan kept nothing for it: the next one gets lan's first address" \
	"$(ip_of 8 "$LAN")" 192.0.2.2
check "nothing was logged for it on lan" sh -c "! grep -q '$(uuid 7): .* on lan' $NLOG"

# Definitions that are not networks.
bad() {
	local what=$1; shift
	check_eq "$what: InvalidInput (EINVAL)" "$(status_of allocate 9 "$(net "$@")")" 22
	check "saying so" said "InvalidInput: network $1: "
}
bad "a cidr that does not parse" bad1 198.51.100.0/33 198.51.100.1 198.51.100.2 198.51.100.6
bad "a /30" bad2 198.51.100.0/30 198.51.100.1 198.51.100.1 198.51.100.2
bad "a gateway outside" bad3 198.51.100.0/29 203.0.113.1 198.51.100.2 198.51.100.6
bad "a range outside" bad4 198.51.100.0/29 198.51.100.1 198.51.100.2 198.51.100.9
bad "dhcp_start after dhcp_end" bad5 198.51.100.0/29 198.51.100.1 198.51.100.6 198.51.100.2
check "the refusals name what is wrong" said "dhcp_start 198.51.100.6 is after dhcp_end 198.51.100.2"

# Only novafs may allocate.  The broker refuses others' publishes on the
# control exchange; through the default exchange the service refuses them.
check_eq "compute-node1 may not publish allocate_for_instance (EACCES)" \
	"$(USER_AS=compute-node1 status_of allocate 10 "$LAN")" 13
check_eq "neither may the scheduler" "$(USER_AS=scheduler status_of allocate 10 "$LAN")" 13
rpc_as compute-node1 raw "" network "$(jq -cn --arg u "$(uuid 10)" --argjson n "[$LAN]" \
	'{"oslo.version": "2.0", "oslo.message": ({method: "allocate_for_instance",
	  version: "1.0", args: {instance_uuid: $u, networks: $n},
	  _unique_id: "00000000000000000000000000000010"} | tojson)}')" >/dev/null 2>&1
check "straight into its queue, the service refuses it: NotAuthorized" wait_for 10 grep -q \
	"refused allocate_for_instance on network from compute-node1: NotAuthorized" "$NLOG"
check "and allocated nothing" sh -c "! grep -q 'instance $(uuid 10): ' $NLOG"
check_eq "lan's next address is still its second" "$(ip_of 11 "$LAN")" 192.0.2.3

# Releases.
rpc_as novafs cast network deallocate_for_instance "{\"instance_uuid\":\"$(uuid 1)\"}"
check "deallocate releases the address" wait_for 10 grep -q \
	"instance $(uuid 1): released 198.51.100.2 on tiny" "$NLOG"
rpc_as novafs cast network deallocate_for_instance "{\"instance_uuid\":\"$(uuid 1)\"}"
check "twice is harmless" wait_for 10 grep -q "instance $(uuid 1): nothing held" "$NLOG"
check_eq "the released address is the free one" "$(ip_of 6 "$TINY")" 198.51.100.2
rpc_as novafs cast network delete_network '{"name":"tiny"}'
check "delete_network drops what is left on it" wait_for 10 grep -q \
	"delete_network tiny: forgotten, 5 allocations dropped" "$NLOG"
rpc_as novafs cast network delete_network '{"name":"tiny"}'
check "twice is harmless" wait_for 10 grep -q "delete_network tiny: forgotten, 0 allocations" "$NLOG"
check_eq "a network made again under that name starts empty" "$(ip_of 5 "$TINY")" 198.51.100.2

# kill -9 and a restart on the same database.
BEFORE=$(allocate 8 "$LAN")
stop network KILL
start_network
check "it serves again" wait_for 20 sh -c "[ \$(grep -c 'serving topic network on net1' $NLOG) -ge 1 ]"
check_eq "the same instance gets the same address and MAC" "$(allocate 8 "$LAN")" "$BEFORE"
check_eq "a new one the next address, none handed out twice" "$(ip_of 12 "$LAN")" 192.0.2.4

check "its heartbeat, as novafs-network on net1, is on the scheduler fanout" wait_for 10 grep -q \
	'"binary":"novafs-network","host":"net1"' "$BEATS"
done_testing
