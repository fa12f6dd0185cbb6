# deps.sh - the Debian packages novafs needs to build, run and test, in one
# place for `make run` and .ci/run.
#
#   deps_missing      prints the packages that are not installed
#   deps_install      apt-get installs them (root only)
#
# DEPS_QEMU is needed only with a real hypervisor: it counts when
# LIBVIRT=qemu (make run) or CI=true (the suite runs qemu.sh).

# nettle-dev: SHA-256 and MD5 of uploaded images (novafs/image_store.c).
DEPS_BUILD="build-essential pkg-config libfuse3-dev librabbitmq-dev libvirt-dev libsqlite3-dev libjansson-dev nettle-dev"
DEPS_RUN="fuse3 rabbitmq-server libvirt-clients"
# python3-oslo.messaging (with python3-amqp): the Python peers of
# tests/integration/oslo_interop.sh.
# ansible-core and puppet: tests/integration/ansible.sh and puppet.sh run
# ansible-playbook and puppet apply against a mount, as their users do.
DEPS_TEST="python3 util-linux jq python3-oslo.messaging python3-amqp ansible-core puppet"
# A real hypervisor: `make run LIBVIRT=qemu` and tests/integration/qemu.sh
# (libvirtd, virtlogd, QEMU; SeaBIOS prints on the serial console;
# dnsmasq-base, only recommended by libvirt-daemon, serves the DHCP of
# the libvirt networks of NICs, tests/integration/qemu_networks.sh;
# qemu-utils: qemu-img, which libvirt's dir storage pool runs to make the
# instances' qcow2 overlays, tests/integration/qemu_disks.sh).
DEPS_QEMU="libvirt-daemon-system qemu-system-x86 seabios dnsmasq-base qemu-utils"

# busybox-static and cpio: the initramfs of the guest that
# tests/integration/qemu_image.sh boots (tests/lib/guest.sh) is a static
# busybox (the package busybox's is dynamic and cannot run alone there)
# in a cpio archive; its kernel is downloaded, never installed.
DEPS_QEMU="$DEPS_QEMU busybox-static cpio"

deps_missing() {
	local p
	local qemu=
	[ "${LIBVIRT:-}" = qemu ] || [ "${CI:-}" = true ] && qemu=$DEPS_QEMU
	for p in $DEPS_BUILD $DEPS_RUN $DEPS_TEST $qemu; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
	done
}

deps_install() {
	local missing
	missing=$(deps_missing)
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages (run as root to install them):" $missing >&2
		return 1
	fi
	echo "installing:" $missing
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
}
