# broker.sh - start and stop a private RabbitMQ node on 127.0.0.1.
#
# Sourced by tests/run.sh and tests/lib/run-stack.sh.  The node has its own
# name, ports, data directory and epmd (ERL_EPMD_PORT), so it never touches a
# system RabbitMQ, and everything it starts is stopped by pid:
#
#   broker_start DIR PORT [N]  sets BROKER_URL, BROKER_PID, BROKER_EPMD_PID;
#                              with N, also vhosts v1..vN (one per test, so
#                              that tests sharing a node share no queue)
#   broker_stop             stops the node and its epmd, waits for both
#
# Started as root, rabbitmq-server drops to the rabbitmq user, so DIR is
# handed to that user.

broker_start() {
	local dir=$1 port=$2 nvhosts=${3:-0} i
	BROKER_DIR=$dir
	rm -rf "$dir"
	mkdir -p "$dir/mnesia" "$dir/log"
	if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
		chown -R rabbitmq:rabbitmq "$dir"
	fi
	local epmd
	epmd=$(ls /usr/lib/erlang/erts-*/bin/epmd 2>/dev/null | head -n1)
	if [ -z "$epmd" ] || ! command -v rabbitmq-server >/dev/null; then
		echo "broker: rabbitmq-server is not installed" >&2
		return 1
	fi
	export ERL_EPMD_PORT=$((port + 20000))
	export RABBITMQ_NODENAME="novafs$port@localhost"
	export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
	export RABBITMQ_NODE_PORT=$port
	export RABBITMQ_DIST_PORT=$((port + 10000))
	export RABBITMQ_MNESIA_BASE="$dir/mnesia"
	export RABBITMQ_LOG_BASE="$dir/log"
	export RABBITMQ_PID_FILE="$dir/mnesia/node.pid"
	export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
	export RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
	echo '[].' >"$dir/enabled_plugins"
	broker_definitions "$nvhosts" >"$dir/definitions.json"
	printf 'loopback_users = none\nlisteners.tcp.default = 127.0.0.1:%s\nload_definitions = %s\n' \
		"$port" "$dir/definitions.json" >"$dir/rabbitmq.conf"
	[ "$(id -u)" = 0 ] && chown rabbitmq:rabbitmq "$dir"/*.json "$dir"/enabled_plugins "$dir/rabbitmq.conf" 2>/dev/null
	"$epmd" -address 127.0.0.1 >"$dir/epmd.log" 2>&1 &
	BROKER_EPMD_PID=$!
	setsid rabbitmq-server >"$dir/server.log" 2>&1 </dev/null &
	BROKER_LAUNCHER_PID=$!
	BROKER_URL="amqp://guest:guest@127.0.0.1:$port/"
	for i in $(seq 300); do
		if [ -s "$dir/mnesia/node.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			BROKER_PID=$(cat "$dir/mnesia/node.pid")
			return 0
		fi
		if ! kill -0 "$BROKER_LAUNCHER_PID" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "broker: RabbitMQ did not start; see $dir/server.log and $dir/log" >&2
	tail -n 20 "$dir/server.log" >&2
	broker_stop
	return 1
}

# Definitions loaded at boot: the guest user and vhosts "/" and v1..vN.
broker_definitions() {
	local n=$1 i vhosts='{"name":"/"}' perms
	perms='{"user":"guest","vhost":"/","configure":".*","write":".*","read":".*"}'
	for i in $(seq "$n"); do
		vhosts="$vhosts,{\"name\":\"v$i\"}"
		perms="$perms,{\"user\":\"guest\",\"vhost\":\"v$i\",\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}"
	done
	printf '{"users":[{"name":"guest","password":"guest","tags":["administrator"]}],"vhosts":[%s],"permissions":[%s]}\n' \
		"$vhosts" "$perms"
}

# The node's own pid is in its pid file; SIGTERM makes Erlang shut down
# cleanly.  The launcher (a shell and su) exits with it.
broker_stop() {
	local pid i
	for pid in ${BROKER_PID:-} ${BROKER_LAUNCHER_PID:-}; do
		kill "$pid" 2>/dev/null
	done
	for i in $(seq 100); do
		kill -0 "${BROKER_PID:-0}" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "${BROKER_PID:-}" ] && kill -9 "$BROKER_PID" 2>/dev/null
	wait "${BROKER_LAUNCHER_PID:-0}" 2>/dev/null
	if [ -n "${BROKER_EPMD_PID:-}" ]; then
		kill "$BROKER_EPMD_PID" 2>/dev/null
		wait "$BROKER_EPMD_PID" 2>/dev/null
	fi
	BROKER_PID= BROKER_LAUNCHER_PID= BROKER_EPMD_PID=
}
