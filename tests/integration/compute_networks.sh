#!/usr/bin/env bash
# compute_networks.sh - NICs on a compute host, over the bus, on libvirt's
# test driver shared through libvirtd (test+unix:///default, as in
# compute_events.sh), so that virsh sees what the host made: a start with
# two NICs on two networks makes both libvirt networks with the
# instance's DHCP host entries and gives the domain both interfaces; a
# redelivered start duplicates nothing; a NIC that is not valid fails the
# start and touches nothing; terminating one of two instances on a
# network takes only its entry, terminating the last takes the network.
# The test driver makes no bridge and runs no dnsmasq (qemu_networks.sh
# does, on qemu:///system).  Needs a libvirtd (started here if it does
# not run; exit 77 where it cannot).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/libvirtd.sh"

URI=test+unix:///default
UA=7b1c2d3e-4f5a-4b6c-8d7e-000000000001
UB=7b1c2d3e-4f5a-4b6c-8d7e-000000000002
UC=7b1c2d3e-4f5a-4b6c-8d7e-000000000003
# Names of this run alone: the shared test driver is anybody's.
NET1=nvt$$p NET2=nvt$$q
HEARD=$LOGS/listener.log
NODE1_LOG=$LOGS/compute-node1.log

# nic NETWORK PREFIX24 IP MAC: a NIC on PREFIX24.0/24.
nic() {
	echo "{\"network\":\"$1\",\"bridge\":\"b$1\",\"cidr\":\"$2.0/24\",\"gateway\":\"$2.1\",\"dhcp_start\":\"$2.10\",\"dhcp_end\":\"$2.99\",\"dns\":[\"$2.53\"],\"ip\":\"$3\",\"mac\":\"$4\"}"
}
# instance UUID NAME NICS
instance() {
	echo "{\"uuid\":\"$1\",\"name\":\"$2\",\"flavor\":\"m1.tiny\",\"vcpus\":1,\"memory_mb\":512,\"disk_gb\":1,\"nics\":[$3]}"
}
INST_A=$(instance "$UA" web1 "$(nic "$NET1" 192.0.2 192.0.2.10 fa:16:3e:00:00:01),$(nic "$NET2" 198.51.100 198.51.100.10 fa:16:3e:00:01:01)")
INST_B=$(instance "$UB" web2 "$(nic "$NET1" 192.0.2 192.0.2.11 fa:16:3e:00:00:02)")
INST_C=$(instance "$UC" web3 "$(nic "$NET1" 192.0.2 192.0.2.5 fa:16:3e:00:00:03)")

libvirtd_require
cleanup() {
	local d n
	for d in "$UA" "$UB" "$UC"; do
		virsh -q -c "$URI" destroy "instance-$d" >/dev/null 2>&1
		virsh -q -c "$URI" undefine "instance-$d" >/dev/null 2>&1
	done
	for n in "$NET1" "$NET2"; do
		virsh -q -c "$URI" net-destroy "novafs-$n" >/dev/null 2>&1
		virsh -q -c "$URI" net-undefine "novafs-$n" >/dev/null 2>&1
	done
	stop_stack
	libvirtd_stop
}
trap cleanup EXIT

start() {
	rpc_as novafs cast compute.node1 start_instance \
		"{\"instance\":$1,\"expected_task_state\":\"spawning\"}"
}
terminate() {
	rpc_as novafs cast compute.node1 terminate_instance \
		"{\"instance\":{\"uuid\":\"$1\",\"name\":\"$2\"}}"
}
netxml() { virsh -q -c "$URI" net-dumpxml "novafs-$1" 2>/dev/null; }
# hosts NET: the DHCP host entries of NET, one a line.
hosts() { netxml "$1" | grep -o "<host [^>]*>"; }
no_network() { ! virsh -q -c "$URI" net-info "novafs-$1" >/dev/null 2>&1; }

spawn listener "$B/tests/rpcctl" --config "$(identity novafs)" --amqp "$AMQP_URL" \
	listen conductor
wait_for 10 grep -q '^listening' "$HEARD" || diag "listener did not start"
REPORT_INTERVAL=60 start_compute node1 --libvirt-uri "$URI"
check "node1 serves $URI" wait_for 10 grep -q "serving topic compute (libvirt $URI" "$NODE1_LOG"

check "start web1 with two NICs" start "$INST_A"
check "... reports active" wait_for 10 at_least 1 reports "$UA" active
check_eq "$NET1 has web1's DHCP host entry" "$(hosts "$NET1")" \
	"<host mac='fa:16:3e:00:00:01' name='web1' ip='192.0.2.10'/>"
check_eq "$NET2 has it too" "$(hosts "$NET2")" \
	"<host mac='fa:16:3e:00:01:01' name='web1' ip='198.51.100.10'/>"
check "$NET1 is isolated, on its bridge, with its range and DNS" sh -c "
	x=\$(virsh -q -c '$URI' net-dumpxml novafs-$NET1)
	echo \"\$x\" | grep -q \"<bridge name='b$NET1' stp='off' delay='0'/>\" &&
	echo \"\$x\" | grep -q \"<ip address='192.0.2.1' netmask='255.255.255.0'>\" &&
	echo \"\$x\" | grep -q \"<range start='192.0.2.10' end='192.0.2.99'/>\" &&
	echo \"\$x\" | grep -q \"<forwarder addr='192.0.2.53'/>\" &&
	! echo \"\$x\" | grep -q '<forward '"
check_eq "both networks are active" \
	"$(virsh -q -c "$URI" net-list --name | grep -c "^novafs-nvt$$[pq]$")" 2
check_eq "the domain has both interfaces, in order" \
	"$(virsh -q -c "$URI" domiflist "instance-$UA" | awk '{print $3, $5}')" \
	"novafs-$NET1 fa:16:3e:00:00:01
novafs-$NET2 fa:16:3e:00:01:01"

check "start web1 again (a redelivery)" start "$INST_A"
check "... reports active again" wait_for 10 at_least 2 reports "$UA" active
check_eq "... and duplicates no entry" "$(hosts "$NET1" | wc -l)/$(hosts "$NET2" | wc -l)" "1/1"

check "start web2 on $NET1" start "$INST_B"
check "... reports active" wait_for 10 at_least 1 reports "$UB" active
check_eq "$NET1 has both entries" "$(hosts "$NET1" | grep -c "name='web[12]'")" 2

check "start web3 with its IP outside the DHCP range" start "$INST_C"
check "... reports error" wait_for 10 at_least 1 reports "$UC" error
check "... with InvalidInput" sh -c "grep '^{' '$HEARD' | jq -c 'select(.args.uuid == \"$UC\") | .args.fault | select(.class == \"InvalidInput\" and .message == \"nics[0].ip: outside the DHCP range\")' | grep -q ."
check "... and defines nothing" sh -c "! virsh -q -c '$URI' dominfo instance-$UC"
check_eq "... nor adds an entry" "$(hosts "$NET1" | wc -l)" 2

check "terminate web1" terminate "$UA" web1
check "... deletes its domain" wait_for 10 deleted "$UA"
check_eq "$NET1 keeps web2's entry alone" "$(hosts "$NET1")" \
	"<host mac='fa:16:3e:00:00:02' name='web2' ip='192.0.2.11'/>"
check "$NET2, which only web1 used, is gone" no_network "$NET2"
check "terminate web1 again" terminate "$UA" web1
check "... is fine" wait_for 10 deleted "$UA" 2

check "terminate web2" terminate "$UB" web2
check "... deletes its domain" wait_for 10 deleted "$UB"
check "$NET1 is gone with its last domain" no_network "$NET1"

done_testing
