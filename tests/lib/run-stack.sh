#!/usr/bin/env bash
# run-stack.sh BUILD MNT - what `make run` does: install what is missing,
# build, start a private RabbitMQ node (unless AMQP_URL is given), the
# scheduler, the network service, HOSTS compute hosts (default 1; `make run HOSTS=4`: node1 to
# node4, at most 9) and novafs on MNT, then wait.  Ctrl-C unmounts and
# stops everything it started, by pid.
#
# LIBVIRT=test (the default): the compute host runs libvirt's test
# driver, in its own process.  LIBVIRT=qemu (`make run LIBVIRT=qemu`): it
# runs qemu:///system, with Nova's virt_type rule (kvm where /dev/kvm
# exists, else qemu), after starting libvirtd and virtlogd with -d where
# they do not run (systemd is not init here; tests/lib/libvirtd.sh), and
# logs serial consoles into BUILD/run/console.
#
# Each service logs in as its own RabbitMQ user with the config file
# NOVAFS_ETC/USER.conf (tests/lib/broker.sh makes them for its node; with
# AMQP_URL, give NOVAFS_ETC, default /etc/novafs, holding novafs.conf,
# scheduler.conf, network.conf and compute-nodeN.conf for each host).
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
BUILD=${1:-build}
MNT=${2:-$TOP/mnt/nova}
RUN=$TOP/$BUILD/run
PORT=${BROKER_PORT:-5673}
LIBVIRT=${LIBVIRT:-test}
HOSTS=${HOSTS:-1}
. tests/lib/deps.sh
. tests/lib/broker.sh
. tests/lib/libvirtd.sh

case $LIBVIRT in
test) COMPUTE=(--libvirt-uri test:///default) ;;
qemu) COMPUTE=(--libvirt-uri qemu:///system --console-dir "$RUN/console") ;;
*) echo "LIBVIRT must be test or qemu, not $LIBVIRT" >&2; exit 2 ;;
esac
case $HOSTS in
[1-9]) ;;
*) echo "HOSTS must be 1 to 9, not $HOSTS" >&2; exit 2 ;;
esac
if [ "$LIBVIRT" = qemu ] && [ "$HOSTS" != 1 ]; then
	echo "LIBVIRT=qemu runs one compute host: this machine's hypervisor" >&2
	exit 2
fi
export LIBVIRT
deps_install || exit 1
make -s all O="$BUILD" || exit 1
mkdir -p "$RUN" "$MNT"
# libvirt's test driver keeps its domains in the compute process, so they
# are gone when it stops: start from an empty tree, not from instances
# whose domains no longer exist, and from no addresses handed out to
# them.  qemu:///system keeps its domains, and the tree and the
# addresses are kept with them.
if [ "$LIBVIRT" = test ]; then
	for db in novafs network; do
		rm -f "$RUN/$db.db" "$RUN/$db.db-wal" "$RUN/$db.db-shm"
	done
fi

PIDS=()
cleanup() {
	# Whoever reads our output may be gone (a pipe to tee, a closed
	# terminal): stopping must not die of SIGPIPE half way.
	trap '' PIPE
	trap - INT TERM EXIT
	echo
	echo "stopping..."
	grep -q " $MNT fuse" /proc/mounts && fusermount3 -u "$MNT"
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	broker_stop
	libvirtd_stop
	echo "stopped."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$LIBVIRT" = qemu ]; then
	echo "starting libvirtd and virtlogd where they do not run"
	libvirtd_start || exit 1
fi
if [ -z "${AMQP_URL:-}" ]; then
	echo "starting RabbitMQ on 127.0.0.1:$PORT (logs in $RUN/broker)"
	broker_start "$RUN/broker" "$PORT" || exit 1
	AMQP_URL=$BROKER_URL
	NOVAFS_ETC=$BROKER_ETC
fi
ETC=${NOVAFS_ETC:-/etc/novafs}
if grep -q " $MNT fuse" /proc/mounts; then
	echo "$MNT is still mounted from an earlier run; unmounting it"
	fusermount3 -u "$MNT" || fusermount3 -u -z "$MNT"
fi

"$BUILD/novafs-scheduler" --config "$ETC/scheduler.conf" --amqp "$AMQP_URL" \
	>"$RUN/scheduler.log" 2>&1 &
PIDS+=($!)
"$BUILD/novafs-network" --config "$ETC/network.conf" --amqp "$AMQP_URL" \
	--db "$RUN/network.db" >"$RUN/network.log" 2>&1 &
PIDS+=($!)
LOGS=("$RUN/novafs.log" "$RUN/scheduler.log" "$RUN/network.log")
for n in $(seq "$HOSTS"); do
	"$BUILD/novafs-compute" --config "$ETC/compute-node$n.conf" \
		--amqp "$AMQP_URL" --host "node$n" --image-dir "$RUN/images" "${COMPUTE[@]}" \
		>"$RUN/compute-node$n.log" 2>&1 &
	PIDS+=($!)
	LOGS+=("$RUN/compute-node$n.log")
done
"$BUILD/novafs" -f --db "$RUN/novafs.db" --image-dir "$RUN/images" --config "$ETC/novafs.conf" \
	--amqp "$AMQP_URL" "$MNT" >"$RUN/novafs.log" 2>&1 &
PIDS+=($!)
NOVAFS_PID=$!
for i in $(seq 100); do
	[ -d "$MNT/instances" ] && break
	kill -0 "$NOVAFS_PID" 2>/dev/null || { cat "$RUN/novafs.log"; exit 1; }
	sleep 0.1
done

# On qemu:///system the network default (192.0.2.0/24) becomes a bridge
# with the gateway's address on this machine; libvirt refuses it where
# this machine's own network is that range (as on some test machines):
# then, while no instance has used it, default moves to 198.51.100.0/24.
DEF=$MNT/networks/default
if [ "$LIBVIRT" = qemu ] && [ -n "$(ip -4 route show 192.0.2.0/24 2>/dev/null | grep -v "dev nvbr-")" ] &&
	[ "$(cat "$DEF/cidr" 2>/dev/null)" = 192.0.2.0/24 ] && [ -z "$(ls -A "$DEF/allocations")" ]; then
	echo 198.51.100.0/24 >"$DEF/cidr" &&
		echo "this machine's network is 192.0.2.0/24: networks/default is 198.51.100.0/24 here"
fi

R=${MNT#"$TOP"/}
cat <<EOT

novafs is mounted on $MNT (logs: $RUN/*.log). In another shell:

    mkdir $R/instances/web1
    echo m1.small > $R/instances/web1/flavor
    echo start > $R/instances/web1/ctl
    cat $R/instances/web1/state $R/instances/web1/host
    ls -l $R/instances/ $R/flavors/ $R/hosts/*/instances/
    echo stop > $R/instances/web1/ctl
    rmdir $R/instances/web1

Ctrl-C here unmounts and stops everything.
EOT
tail -n 0 -f "${LOGS[@]}" &
PIDS+=($!)
wait "$NOVAFS_PID"
