#!/usr/bin/env bash
# networks.sh - networks/ and instances' addresses through a real mount,
# with novafs-network: the default network, every refused definition with
# its errno and reason, addresses and MACs at the first start, the
# allocations/ view, two NICs, exhaustion that leaves nothing half
# allocated, deletes that give addresses back (in novafs-network's own
# database too), a second user, a restart, and 100 concurrent starts on a
# /25 while novafs-network is killed and restarted: no address twice,
# none lost.
#
# Only documentation ranges (192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24) are used, on the test driver: nothing is sent anywhere.
. "$(dirname "$0")/../lib/common.sh"

N=$MNT/networks
I=$MNT/instances
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# Room for 100 m1.tiny and more on node1.
start_stack --test-vcpus 256 --test-memory-mb 262144 || { done_testing; exit 1; }

# netdb SQL: a query of novafs-network's own database.
netdb() {
	python3 - "$NETWORK_DB" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
for row in db.execute(sys.argv[2]):
    print(' '.join(str(c) for c in row))
EOF
}
# boot NAME: starts NAME and waits until it is active.
boot() {
	echo start >"$I/$1/ctl" && [ "$(timeout 20 cat "$I/$1/wait")" = active ]
}
new() {
	mkdir "$I/$1" && echo m1.tiny >"$I/$1/flavor"
}
# refused WHAT ERRNO_TEXT FAULT_TEXT FILE VALUE: writing VALUE to FILE
# fails with ERRNO_TEXT, and WHAT's fault says FAULT_TEXT.
refused() {
	check_fails "$1: ${5//$'\n'/\\n} is refused" "$2" bash -c "printf '%s\n' '$5' > $4"
	if grep -qF -- "$3" "$(dirname "$4")/fault"; then ok "$1: the fault says why"; else
		not_ok "$1: the fault says why"; diag "fault: $(cat "$(dirname "$4")/fault")"; diag "want: $3"; fi
}

# --- the default network ---
check "default exists" test -d "$N/default"
check_eq "its files" "$(ls "$N/default" | tr '\n' ' ')" \
	"allocations bridge cidr dhcp_end dhcp_start dns fault free gateway "
check_eq "its definition" \
	"$(cat "$N/default/cidr" "$N/default/gateway" "$N/default/dhcp_start" "$N/default/dhcp_end" "$N/default/bridge" | tr '\n' ' ')" \
	"192.0.2.0/24 192.0.2.1 192.0.2.2 192.0.2.254 nvbr-default "
check "253 addresses free" file_is "$N/default/free" 253
check "a new instance names it" sh -c "mkdir $I/first && [ \"\$(cat $I/first/network)\" = default ]"
check "and needs no network step" sh -c "echo m1.tiny > $I/first/flavor && echo start > $I/first/ctl"
check_eq "first is active" "$(timeout 20 cat "$I/first/wait")" active
check_eq "with the first address" "$(cat "$I/first/ip")" 192.0.2.2
check "and a locally administered MAC" grep -qE '^fa:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$' "$I/first/mac"
check "allocations/ links it by address" test "$(readlink "$N/default/allocations/192.0.2.2")" = ../../../instances/first
check "the link leads to it" test -f "$N/default/allocations/192.0.2.2/ctl"
check_eq "ls allocations/" "$(ls "$N/default/allocations")" 192.0.2.2
check "one address fewer free" file_is "$N/default/free" 252
check "novafs-network has it" test "$(netdb "SELECT ip FROM allocations WHERE instance_uuid = '$(cat "$I/first/id")'")" = 192.0.2.2
check "the start's action record says it" grep -q "scheduled on node1, addresses 192.0.2.2$" "$I"/first/actions/*-start/events

# --- definitions, and every refusal ---
mkdir "$N/lab"
check "a network without a cidr has no free count" test -z "$(cat "$N/lab/free")"
refused lab "Invalid argument" "network lab has no cidr: write networks/lab/cidr first" "$N/lab/gateway" 198.51.100.1
refused lab "Invalid argument" "cidr: not ADDRESS/PREFIX" "$N/lab/cidr" 198.51.100.0
refused lab "Invalid argument" "cidr: 198.51.100.5/24 has host bits set: the network is 198.51.100.0/24" "$N/lab/cidr" 198.51.100.5/24
refused lab "Invalid argument" "a prefix of /30 is not one of /8 to /29" "$N/lab/cidr" 198.51.100.0/30
refused lab "Invalid argument" "a prefix of /7 is not one of /8 to /29" "$N/lab/cidr" 192.0.0.0/7
refused lab "File exists" "cidr 192.0.2.128/25 overlaps network default (192.0.2.0/24)" "$N/lab/cidr" 192.0.2.128/25
refused lab "File exists" "cidr 192.0.0.0/16 overlaps network default (192.0.2.0/24)" "$N/lab/cidr" 192.0.0.0/16
check "a cidr as written, without a newline" sh -c "printf 198.51.100.0/26 > $N/lab/cidr"
check_eq "reads back byte for byte" "$(od -An -c "$N/lab/cidr" | tr -s ' ')" " 1 9 8 . 5 1 . 1 0 0 . 0 / 2 6"
refused lab "Invalid argument" "gateway 198.51.100.64 is not a host address of 198.51.100.0/26" "$N/lab/gateway" 198.51.100.64
refused lab "Invalid argument" "gateway 198.51.100.0 is not a host address" "$N/lab/gateway" 198.51.100.0
refused lab "Invalid argument" "gateway \"198.51.100.x\" is not an IPv4 address" "$N/lab/gateway" 198.51.100.x
refused lab "Invalid argument" "dhcp_start 203.0.113.5 is not a host address of 198.51.100.0/26" "$N/lab/dhcp_start" 203.0.113.5
refused lab "Invalid argument" "dhcp_end 198.51.100.63 is not a host address" "$N/lab/dhcp_end" 198.51.100.63
echo 198.51.100.40 >"$N/lab/dhcp_start"
refused lab "Invalid argument" "dhcp_start 198.51.100.40 is after dhcp_end 198.51.100.30" "$N/lab/dhcp_end" 198.51.100.30
refused lab "Invalid argument" "dns: \"nameserver\" is not an IPv4 address" "$N/lab/dns" nameserver
refused lab "Invalid argument" "bridge \"a-bridge-name-too-long\" is not an interface name" "$N/lab/bridge" a-bridge-name-too-long
refused lab "Invalid argument" "bridge \"br/0\" is not an interface name" "$N/lab/bridge" br/0
refused lab "File exists" "bridge nvbr-default is network default's" "$N/lab/bridge" nvbr-default
check "a refused write changed nothing" sh -c "[ \"\$(cat $N/lab/cidr)\" = 198.51.100.0/26 ] && [ \"\$(cat $N/lab/bridge)\" = nvbr-lab ]"
check "a gateway of its own" sh -c "echo 198.51.100.62 > $N/lab/gateway"
check "dns servers, one a line" sh -c "printf '203.0.113.53\n203.0.113.54\n' > $N/lab/dns"
check "a bridge of its own" sh -c "echo nvbr-lab0 > $N/lab/bridge"
check_eq "the range defaults follow" "$(cat "$N/lab/dhcp_start" "$N/lab/dhcp_end" | tr '\n' ' ')" \
	"198.51.100.40 198.51.100.61 "
check "22 addresses free" file_is "$N/lab/free" 22
: >"$N/lab/dhcp_start"
# (An empty write is applied as the file is released, after close.)
check "an empty write gives the default back" wait_for 5 file_is "$N/lab/dhcp_start" 198.51.100.1
check "61 addresses free" file_is "$N/lab/free" 61
check "the fault is cleared by a good write" test -z "$(cat "$N/lab/fault")"
check "a long name gets a hashed bridge" sh -c "mkdir $N/a-network-with-a-long-name && grep -qE '^nvbr-[0-9a-f]{10}$' $N/a-network-with-a-long-name/bridge"
rmdir "$N/a-network-with-a-long-name"

# --- an instance's networks ---
new two
refused two "Invalid argument" "NetworkNotFound: network \"nope\" does not exist (see networks/)" "$I/two/network" nope
refused two "Invalid argument" "network lab is named twice (one NIC per network)" "$I/two/network" "lab
lab"
check "two networks, one a line" sh -c "printf 'lab\ndefault\n' > $I/two/network"
check "two boots" boot two
check_eq "two addresses, in order" "$(cat "$I/two/ip" | tr '\n' ' ')" "198.51.100.1 192.0.2.3 "
check_eq "two MACs" "$(sort -u "$I/two/mac" | grep -c '^fa:16:3e:')" 2
check "on lab's allocations/" test -L "$N/lab/allocations/198.51.100.1"
check "and default's" test -L "$N/default/allocations/192.0.2.3"
check "the MACs differ from first's" bash -c "! grep -qxF -f $I/first/mac $I/two/mac"
check_fails "the networks are fixed once started" "Device or resource busy" bash -c "echo default > $I/two/network"
check "writing the same again is no change" sh -c "printf 'lab\ndefault\n' > $I/two/network"
refused lab "Device or resource busy" "NetworkInUse: network lab is in use by instance two: its cidr is fixed" "$N/lab/cidr" 198.51.100.0/25
check_fails "rmdir of a network in use" "Directory not empty\|Device or resource busy" rmdir "$N/lab"
check "says which instance" grep -q "network lab is in use by instance two" "$N/lab/fault"
check "a stop and start keep the addresses" sh -c "echo stop > $I/two/ctl && [ \"\$(timeout 20 cat $I/two/wait)\" = stopped ] && echo start > $I/two/ctl && [ \"\$(timeout 20 cat $I/two/wait)\" = active ]"
check_eq "the same addresses" "$(cat "$I/two/ip" | tr '\n' ' ')" "198.51.100.1 192.0.2.3 "
new none
: >"$I/none/network"
check "an empty network file: no NIC" wait_for 5 file_is "$I/none/network" ""
check "none starts" sh -c "echo start > $I/none/ctl"
check_eq "none is active" "$(timeout 20 cat "$I/none/wait")" active
check_eq "without addresses" "$(cat "$I/none/ip" "$I/none/mac")" ""

# --- a second user ---
check_fails "another user cannot change root's network" "Permission denied" \
	"${NOBODY[@]}" sh -c "echo 203.0.113.0/24 > $N/lab/dns"
check_fails "nor make a network (root's, as the admin's in Nova)" "Permission denied" \
	"${NOBODY[@]}" mkdir "$N/mine"
check_fails "nor remove one" "Permission denied" "${NOBODY[@]}" rmdir "$N/default"
check "but may put its instances on any" "${NOBODY[@]}" sh -c \
	"mkdir $I/theirs && printf 'lab\n' > $I/theirs/network && rmdir $I/theirs"

# --- a descriptor kept across rmdir ---
mkdir "$N/gone"
exec 7<>"$N/gone/dns"
rmdir "$N/gone"
check_fails "a descriptor of a removed network is stale" "Stale file handle" \
	bash -c "echo 203.0.113.53 >&7"
exec 7>&-
check "a network made again under its name starts afresh" sh -c \
	"mkdir $N/gone && [ -z \"\$(cat $N/gone/dns)\" ] && rmdir $N/gone"

# --- novafs-network stopped: a first start waits, reads do not ---
new slow
kill -STOP "${PID_OF[network]}"
(echo start >"$I/slow/ctl"; echo "rc=$?" >"$TEST_TMP/slow.rc") 2>/dev/null &
slow_pid=$!
check "slow is being scheduled" wait_for 10 file_is "$I/slow/task" scheduling
check "reads of slow do not wait" timeout 2 cat "$I/slow/state" "$I/slow/ip" "$N/default/free"
check_eq "the start has not returned" "$(cat "$TEST_TMP/slow.rc" 2>/dev/null)" ""
kill -CONT "${PID_OF[network]}"
wait "$slow_pid"
check_eq "once it runs again, the start returns" "$(cat "$TEST_TMP/slow.rc")" rc=0
check_eq "and slow is active" "$(timeout 20 cat "$I/slow/wait")" active
check "with an address" grep -q '^192\.0\.2\.' "$I/slow/ip"
rmdir "$I/slow"

# --- exhaustion: all or nothing ---
mkdir "$N/tiny"
echo 203.0.113.0/29 >"$N/tiny/cidr"
check "a /29 has 5 addresses" file_is "$N/tiny/free" 5
for n in 1 2 3 4 5; do new "t$n"; echo tiny >"$I/t$n/network"; done
check "five boot on it" sh -c "$(declare -f boot); I=$I; for n in 1 2 3 4 5; do boot t\$n || exit 1; done"
check "none left" file_is "$N/tiny/free" 0
new t6
printf 'lab\ntiny\n' >"$I/t6/network"
lab_free=$(cat "$N/lab/free")
check_fails "a sixth is refused" "Cannot assign requested address" bash -c "echo start > $I/t6/ctl"
check_eq "t6 is in error" "$(cat "$I/t6/state")" error
check "its fault says why" grep -qx "NoMoreFixedIps: no more fixed IPs on tiny" "$I/t6/fault"
check_eq "nothing was allocated on lab either" "$(cat "$N/lab/free")" "$lab_free"
check_eq "novafs-network holds nothing for t6" \
	"$(netdb "SELECT count(*) FROM allocations WHERE instance_uuid = '$(cat "$I/t6/id")'")" 0
check_eq "t6 has no address" "$(cat "$I/t6/ip")" ""
check "rmdir t3 gives its address back" rmdir "$I/t3"
check "one free again" file_is "$N/tiny/free" 1
check_eq "novafs-network freed it" "$(netdb "SELECT count(*) FROM allocations WHERE network = 'tiny'")" 4
check "t6 boots once there is room" boot t6
check_eq "with t3's old address on tiny" "$(sed -n 2p "$I/t6/ip")" 203.0.113.4
for n in 1 2 4 5 6; do rmdir "$I/t$n"; done
check "every tiny address is free" file_is "$N/tiny/free" 5
check "rmdir tiny" rmdir "$N/tiny"
check_eq "novafs-network forgot it" "$(netdb "SELECT count(*) FROM networks WHERE name = 'tiny'")" 0

# --- a restart keeps everything ---
stop novafs
fusermount3 -u "$MNT" 2>/dev/null
start_novafs || { done_testing; exit 1; }
check_eq "after a restart, two's addresses" "$(cat "$I/two/ip" | tr '\n' ' ')" "198.51.100.1 192.0.2.3 "
check "and the views" test -L "$N/lab/allocations/198.51.100.1"
check_eq "and lab's definition" "$(cat "$N/lab/gateway" "$N/lab/bridge" | tr '\n' ' ')" "198.51.100.62 nvbr-lab0 "

# --- 100 at once on a /25, novafs-network killed in the middle ---
mkdir "$N/wide"
echo 198.51.100.128/25 >"$N/wide/cidr"
for n in $(seq 100); do mkdir "$I/w$n"; echo m1.tiny >"$I/w$n/flavor"; echo wide >"$I/w$n/network"; done
pids=()
for n in $(seq 100); do
	(echo start >"$I/w$n/ctl") 2>/dev/null &
	pids+=($!)
	# Stopped, it holds the requests delivered to it unacknowledged;
	# killed, it loses them to the broker, which gives them to the new
	# one.
	[ "$n" = 40 ] && kill -STOP "${PID_OF[network]}"
done
sleep 0.5
stop network KILL
start_network
check "the new novafs-network answers the requests the old one held" \
	wait_for 20 grep -q "allocate_for_instance instance .*198\.51\.100\." "$LOGS/network.log"
for p in "${pids[@]}"; do wait "$p"; done
# A start whose allocation never got an answer is tried again.
for n in $(seq 100); do
	if [ "$(cat "$I/w$n/state")" != active ] && [ "$(cat "$I/w$n/task")" = none ]; then
		echo start >"$I/w$n/ctl" 2>/dev/null
	fi
done
check "all 100 come up" wait_for 60 sh -c "[ \$(cat $I/w*/state | grep -c active) = 100 ]"
check_eq "100 addresses" "$(cat "$I"/w*/ip | sort -u | wc -l)" 100
check_eq "each inside the range" "$(cat "$I"/w*/ip | grep -c '^198\.51\.100\.\(1[3-9][0-9]\|2[0-5][0-9]\)$')" 100
check_eq "100 MACs" "$(cat "$I"/w*/mac | sort -u | wc -l)" 100
check_eq "allocations/ lists 100" "$(ls "$N/wide/allocations" | wc -l)" 100
check_eq "novafs-network holds exactly those" \
	"$(netdb "SELECT ip FROM allocations WHERE network = 'wide' ORDER BY ip" | sort | tr '\n' ' ')" \
	"$(cat "$I"/w*/ip | sort | tr '\n' ' ')"
check "25 free" file_is "$N/wide/free" 25
check "a new instance after all that" sh -c "mkdir $I/late && echo m1.tiny > $I/late/flavor && echo wide > $I/late/network && echo start > $I/late/ctl"
check "gets an address nobody has" sh -c "[ -n \"\$(cat $I/late/ip)\" ] && ! cat $I/w*/ip | grep -qxF \"\$(cat $I/late/ip)\""

done_testing
