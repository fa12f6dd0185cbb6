# deps.sh - the Debian packages novafs needs to build, run and test, in one
# place for `make run` and .ci/run.
#
#   deps_missing      prints the packages that are not installed
#   deps_install      apt-get installs them (root only)

DEPS_BUILD="build-essential pkg-config libfuse3-dev librabbitmq-dev libvirt-dev libsqlite3-dev libjansson-dev"
DEPS_RUN="fuse3 rabbitmq-server libvirt-clients"
# python3-oslo.messaging (with python3-amqp): the Python peers of
# tests/integration/oslo_interop.sh.
DEPS_TEST="python3 util-linux jq python3-oslo.messaging python3-amqp"

deps_missing() {
	local p
	for p in $DEPS_BUILD $DEPS_RUN $DEPS_TEST; do
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
