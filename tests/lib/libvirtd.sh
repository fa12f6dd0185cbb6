# libvirtd.sh - libvirtd and virtlogd for `make run LIBVIRT=qemu` and the
# tests that need a libvirt daemon (qemu:///system, or the test driver
# shared through it as test+unix:///default).
#
# Where systemd is not init, `systemctl start libvirtd` fails; the
# daemons are started as `virtlogd -d` and `libvirtd -d` instead, and
# found again by their pid files.  Only what libvirtd_start started is
# stopped by libvirtd_stop, by pid.
#
#   libvirtd_start   starts those that do not run; 1 with the reason on
#                    stderr when they cannot run here
#   libvirtd_stop    stops what libvirtd_start started
#   libvirtd_require for a test: libvirtd_start, or exit 77 (a skip, a
#                    failure under CI=true) with the reason
#   qemu_require     for a test on qemu:///system: QEMU, qemu-img and
#                    libvirtd_require; the test's directories made
#                    traversable for QEMU (qemu_release undoes it)
#   disk_pool DIR    the storage pool of a host's instances directory
#   disk_pool_remove URI POOL   removes that pool (and its volumes' records)

LIBVIRTD_STARTED=()

# libvirtd_pid NAME: the pid of the running daemon NAME, from its pid file.
libvirtd_pid() {
	local pid
	pid=$(cat "/run/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

libvirtd_start() {
	local d i
	if [ "$(id -u)" != 0 ]; then
		echo "libvirtd needs root" >&2
		return 1
	fi
	for d in virtlogd libvirtd; do
		libvirtd_pid "$d" >/dev/null && continue
		if ! command -v "$d" >/dev/null; then
			echo "$d is not installed (tests/lib/deps.sh: DEPS_QEMU)" >&2
			return 1
		fi
		if ! "$d" -d; then
			echo "$d -d failed" >&2
			return 1
		fi
		for i in $(seq 100); do
			libvirtd_pid "$d" >/dev/null && break
			sleep 0.1
		done
		if ! libvirtd_pid "$d" >/dev/null; then
			echo "$d -d did not stay up" >&2
			return 1
		fi
		LIBVIRTD_STARTED+=("$(libvirtd_pid "$d")")
	done
	for i in $(seq 100); do
		virsh -q -c qemu:///system uri >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "libvirtd does not answer on qemu:///system" >&2
	return 1
}

libvirtd_stop() {
	local i pid
	# libvirtd before virtlogd, which it logs through.
	for ((i = ${#LIBVIRTD_STARTED[@]} - 1; i >= 0; i--)); do
		pid=${LIBVIRTD_STARTED[i]}
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
	LIBVIRTD_STARTED=()
}

libvirtd_require() {
	local why
	# Not in a $(…): its subshell would keep LIBVIRTD_STARTED to itself,
	# and libvirtd_stop would stop nothing.
	why=$(mktemp)
	if libvirtd_start 2>"$why" >/dev/null; then
		rm -f "$why"
		return 0
	fi
	echo "# skip: libvirtd cannot run here: $(cat "$why")"
	rm -f "$why"
	exit 77
}

qemu_require() {
	local tool
	for tool in qemu-system-x86_64 qemu-img; do
		if ! command -v "$tool" >/dev/null; then
			echo "# skip: $tool is not installed (tests/lib/deps.sh: DEPS_QEMU)"
			exit 77
		fi
	done
	libvirtd_require
	# QEMU runs as libvirt-qemu: libvirt hands it the files (disks,
	# kernels), not the directories above them, which it must traverse.
	# tests/run.sh makes its work directory 0700.
	QEMU_WORK=$(dirname "$TEST_TMP")
	QEMU_WORK_MODE=$(stat -c %a "$QEMU_WORK")
	chmod o+x "$QEMU_WORK" "$TEST_TMP"
}

qemu_release() {
	[ -z "${QEMU_WORK:-}" ] || chmod "$QEMU_WORK_MODE" "$QEMU_WORK"
}

# The name virt/disk.h gives the pool of a directory: "novafs" and the
# path, '/' as '-'.
disk_pool() { echo "novafs$(echo "$1" | tr / - | tr -c 'A-Za-z0-9._\n-' _)"; }

disk_pool_remove() {
	virsh -q -c "$1" pool-destroy "$2" >/dev/null 2>&1
	virsh -q -c "$1" pool-undefine "$2" >/dev/null 2>&1
}
