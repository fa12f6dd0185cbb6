# guest.sh - a tiny bootable Linux guest made of Debian packages only, for
# the tests that boot a real one (tests/integration/qemu_image.sh).
#
# Nothing is installed on the machine: the kernel is Debian's current one
# (the package linux-image-amd64 depends on, found with apt-cache),
# fetched with `apt-get download` and unpacked with `dpkg -x`; the
# initramfs is busybox-static's /bin/busybox and an /init, a gzip'd newc
# cpio.  The guest prints GUEST_LINE on its serial console once it is up
# (boot it with console=ttyS0), then idles; the ACPI power button (a clean
# stop: `virsh shutdown`, novafs's `stop`) makes it print GUEST_OFF_LINE
# and power off at once, so a clean stop does not wait for the host's
# shutdown_timeout.  The power button needs the kernel's button and evdev
# modules (Debian builds them as modules): they come from the same
# package and go into the initramfs.
#
#   guest_build DIR   writes DIR/vmlinuz and DIR/initrd.img (mode 0644);
#                     1 with the reason on stderr when it cannot
#
# The unpacked kernel and modules are kept in GUEST_CACHE (default
# /var/cache/novafs-tests, or ~/.cache/novafs-tests for a user who cannot
# write there), one directory per package and version, so that the
# second run of the suite (the sanitizer build) and later ones download
# nothing; a new kernel in the archive is a new directory.  Only
# `apt-get download` needs the network (the Debian archive), and no root.

GUEST_LINE="novafs-guest: booted"
GUEST_OFF_LINE="novafs-guest: powering off"

# guest_cache_dir: GUEST_CACHE, or the default that can be written.
guest_cache_dir() {
	if [ -n "${GUEST_CACHE:-}" ]; then
		echo "$GUEST_CACHE"
	elif mkdir -p /var/cache/novafs-tests 2>/dev/null && [ -w /var/cache/novafs-tests ]; then
		echo /var/cache/novafs-tests
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/novafs-tests"
	fi
}

# guest_kernel_package: the kernel package linux-image-amd64 depends on
# now (linux-image-6.1.0-N-amd64) and its candidate version, "NAME VERSION".
guest_kernel_package() {
	local pkg ver
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		echo "apt-cache knows no kernel linux-image-amd64 depends on (apt-get update?)" >&2
		return 1
	fi
	ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		echo "apt-cache has no candidate version of $pkg" >&2
		return 1
	fi
	echo "$pkg $ver"
}

# guest_kernel: the cache directory holding vmlinuz, evdev.ko and button.ko
# of the current kernel package, downloaded and unpacked the first time.
guest_kernel() {
	local pkg ver cache dir tmp deb
	read -r pkg ver < <(guest_kernel_package) || return 1
	[ -n "$pkg" ] || return 1
	cache=$(guest_cache_dir)
	dir=$cache/${pkg}_${ver//:/%3a}
	if [ -s "$dir/vmlinuz" ] && [ -s "$dir/evdev.ko" ] && [ -s "$dir/button.ko" ]; then
		echo "$dir"
		return 0
	fi
	mkdir -p "$cache" || return 1
	tmp=$(mktemp -d "$cache/.tmp.XXXXXX") || return 1
	# As root, apt downloads as _apt, which cannot write a directory of
	# root's; it would say so and download as root anyway.
	local sandbox=()
	[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
	if ! (cd "$tmp" && apt-get download -q "${sandbox[@]}" "$pkg=$ver") >"$tmp/apt.log" 2>&1; then
		echo "apt-get download $pkg=$ver failed:" >&2
		tail -n 5 "$tmp/apt.log" >&2
		rm -rf "$tmp"
		return 1
	fi
	deb=$(echo "$tmp"/*.deb)
	if ! dpkg -x "$deb" "$tmp/x"; then
		echo "dpkg -x $deb failed" >&2
		rm -rf "$tmp"
		return 1
	fi
	mkdir "$tmp/out"
	if ! cp "$tmp"/x/boot/vmlinuz-* "$tmp/out/vmlinuz" ||
		! cp "$tmp"/x/lib/modules/*/kernel/drivers/input/evdev.ko "$tmp/out/evdev.ko" ||
		! cp "$tmp"/x/lib/modules/*/kernel/drivers/acpi/button.ko "$tmp/out/button.ko"; then
		echo "$pkg has no boot/vmlinuz-*, evdev.ko or button.ko" >&2
		rm -rf "$tmp"
		return 1
	fi
	chmod 0644 "$tmp"/out/*
	chmod 0755 "$tmp/out"
	# Atomic: a concurrent build of the same version wins or loses whole.
	mv -T "$tmp/out" "$dir" 2>/dev/null || [ -s "$dir/vmlinuz" ] ||
		{ echo "cannot make $dir" >&2; rm -rf "$tmp"; return 1; }
	rm -rf "$tmp"
	echo "$dir"
}

# guest_initrd KERNEL_DIR OUT: the initramfs, with KERNEL_DIR's modules.
guest_initrd() {
	local kdir=$1 out=$2 root rc
	if [ ! -x /bin/busybox ] || ! /bin/busybox --list 2>/dev/null | grep -qx acpid ||
		! file_is_static /bin/busybox; then
		echo "/bin/busybox is not busybox-static's (tests/lib/deps.sh: DEPS_TEST)" >&2
		return 1
	fi
	if ! command -v cpio >/dev/null; then
		echo "cpio is not installed (tests/lib/deps.sh: DEPS_TEST)" >&2
		return 1
	fi
	root=$(mktemp -d) && chmod 0755 "$root" || return 1
	mkdir -p "$root"/{bin,dev,proc,sys,etc/acpi/PWRF,lib/modules,var/run}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	cp "$kdir/evdev.ko" "$kdir/button.ko" "$root/lib/modules/"
	# PID 1.  /dev/console is not in this archive (making the node needs
	# root): the kernel then gives init no stdio, so init mounts
	# devtmpfs and opens the console itself.
	cat >"$root/init" <<-EOF
	#!/bin/busybox sh
	# novafs's test guest (tests/lib/guest.sh), PID 1 of its initramfs.
	/bin/busybox mount -t devtmpfs devtmpfs /dev
	exec </dev/console >/dev/console 2>&1
	/bin/busybox --install -s /bin
	export PATH=/bin
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	# The ACPI power button: evdev.ko and button.ko make it an input
	# event, on which acpid runs /etc/acpi/PWRF/00000080.
	insmod /lib/modules/evdev.ko
	insmod /lib/modules/button.ko
	acpid -c /etc/acpi -l /dev/null
	echo "$GUEST_LINE"
	while :; do sleep 3600; done
	EOF
	cat >"$root/etc/acpi/PWRF/00000080" <<-EOF
	#!/bin/sh
	echo "$GUEST_OFF_LINE" >/dev/console
	poweroff -f
	EOF
	chmod 0755 "$root/init" "$root/etc/acpi/PWRF/00000080"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) >"$out.tmp"
	rc=$?
	rm -rf "$root"
	if [ "$rc" != 0 ]; then
		echo "cpio | gzip failed" >&2
		rm -f "$out.tmp"
		return 1
	fi
	chmod 0644 "$out.tmp" && mv "$out.tmp" "$out"
}

# file_is_static FILE: FILE is a statically linked ELF (no interpreter).
file_is_static() {
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# guest_build DIR: DIR/vmlinuz and DIR/initrd.img.
guest_build() {
	local dir=$1 kdir
	mkdir -p "$dir" || return 1
	kdir=$(guest_kernel) || return 1
	if ! cp "$kdir/vmlinuz" "$dir/vmlinuz" || ! chmod 0644 "$dir/vmlinuz"; then
		return 1
	fi
	guest_initrd "$kdir" "$dir/initrd.img"
}
