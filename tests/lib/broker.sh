# broker.sh - a private RabbitMQ node on 127.0.0.1, with one RabbitMQ user
# per novafs service.
#
# Sourced by tests/run.sh, tests/lib/run-stack.sh and the integration
# scripts that need a node of their own (a broker restart).  The node has
# its own name, ports, data directory and epmd (ERL_EPMD_PORT), so it never
# touches a system RabbitMQ, and everything it starts is stopped by pid:
#
#   broker_start DIR PORT [N]  starts a node with vhosts "/" and v1..vN (one
#                              per test, so that tests sharing a node share
#                              no queue); exports BROKER_URL (no
#                              credentials), BROKER_DIR, BROKER_ETC, and sets
#                              (not exported) BROKER_ADMIN_URL, a URL with
#                              oslo-peer's credentials for bench/'s raw
#                              floors, which have no config file
#   broker_restart             stops the node and starts it again on the same
#                              data: durable queues and persistent messages
#                              survive, as in production
#   broker_stop                stops the node and its epmd, waits for both
#   broker_ctl ARGS...         rabbitmqctl against this node
#
# Started as root, rabbitmq-server drops to the rabbitmq user, so DIR is
# handed to that user, except DIR/etc, which holds the passwords.
#
# Identities.  There is no guest user.  Each service logs in as its own
# user, with a random password made at start, so that every message carries
# a user_id RabbitMQ has checked (see rpc/bus.h, "Identities"):
#
#   novafs                 the FUSE daemon (API and conductor)
#   scheduler              novafs-scheduler
#   network                novafs-network
#   compute-node1..9       novafs-compute --host node1..node9
#   oslo-peer              Python oslo.messaging peers in the interop tests
#                          only: may do anything, and sends no user_id
#
# For each, $BROKER_ETC/USER.conf (mode 0600) is the service's --config:
#
#   [amqp]
#   url = amqp://127.0.0.1:PORT/
#   user = compute-node1
#   password = ...
#
# The password is in that file only: never on a command line, where every
# user on the machine could read it.  The broker gets a salted SHA-256 hash
# of it (rabbit_password_hashing_sha256) in its definitions file.
#
# Permissions.  RabbitMQ checks three regular expressions per user and
# vhost: configure (declare a queue or exchange), write (publish to an
# exchange; bind to a queue) and read (consume a queue; bind from an
# exchange), and, on the topic exchange "novafs", topic permissions on
# routing keys: write (publish with that key) and read (bind with it).  For
# a service serving topic T (its own queues T, T.HOST and T_fanout_USER_X,
# X being 32 hex digits), with reply queue reply_USER_X:
#
#   user         serves     listens to     fans out to         publishes on "novafs"
#   novafs       conductor  scheduler_fanout compute_fanout    compute, compute.*, scheduler, scheduler.*,
#                                                                network, network.*
#   scheduler    scheduler  -              compute_fanout,     nothing
#                                          scheduler_fanout
#   network      network    -              scheduler_fanout    nothing
#   compute-HOST compute    -              scheduler_fanout    conductor
#                (T.HOST only for its own HOST)
#
# which gives each user:
#
#   configure  novafs (each service declares the control exchange it uses),
#              its queues T, T.HOST, T_fanout_USER_X and exchange T_fanout,
#              the fanout exchanges it sends to or listens to and its
#              queues on those, and reply_USER_X (a call's replies)
#   write      novafs only if it publishes there; amq.default (replies go
#              through the default exchange, straight to the caller's
#              queue); the fanout exchanges it sends to; its own queues
#              (queue.bind needs write on the queue)
#   read       novafs and the fanout exchanges it binds from; its own
#              queues (to consume them)
#   topic      write: the routing keys of the table above, and none at all
#              for a service that publishes nothing there (a user without
#              topic permissions may use every key); read: T and T.HOST,
#              so that no service binds a queue to another's key
#
# Names in queues (reply_USER_X, T_fanout_USER_X) are how the broker keeps
# one service from consuming another's replies or fanout queue; oslo's own
# names are reply_X and T_fanout_X, and only the shape of the name differs.
#
# Topic permissions do not apply to the default exchange, and every
# service needs it for replies: any of them can publish straight into
# compute.node1 by queue name.  What stops that is the receiver: RabbitMQ
# refuses a user_id that is not the publisher's login, and each service
# checks the user_id of every message against the method's declared
# senders (novafs only, for a compute host's methods) and, where the
# arguments name a host, against that host.  Python peers (oslo-peer) send
# no user_id; they are refused unless a service runs with [amqp]
# allow_peers_without_user_id = true.

BROKER_USERS="novafs scheduler network compute-node1 compute-node2 compute-node3
compute-node4 compute-node5 compute-node6 compute-node7 compute-node8
compute-node9 oslo-peer"

broker_start() {
	local dir=$1 port=$2 nvhosts=${3:-0}
	rm -rf "$dir"
	mkdir -p "$dir/mnesia" "$dir/log"
	if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
		chown -R rabbitmq:rabbitmq "$dir"
	fi
	if ! command -v rabbitmq-server >/dev/null ||
	   ! ls /usr/lib/erlang/erts-*/bin/epmd >/dev/null 2>&1; then
		echo "broker: rabbitmq-server is not installed" >&2
		return 1
	fi
	export BROKER_DIR=$dir BROKER_ETC=$dir/etc BROKER_PORT=$port
	export BROKER_URL="amqp://127.0.0.1:$port/"
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
	broker_identities "$nvhosts" >"$dir/definitions.json" || return 1
	printf 'loopback_users = none\nlisteners.tcp.default = 127.0.0.1:%s\nload_definitions = %s\n' \
		"$port" "$dir/definitions.json" >"$dir/rabbitmq.conf"
	[ "$(id -u)" = 0 ] && chown rabbitmq:rabbitmq "$dir"/*.json "$dir"/enabled_plugins "$dir/rabbitmq.conf" 2>/dev/null
	broker_run || return 1
	BROKER_ADMIN_URL="amqp://oslo-peer:$(sed -n 's/^password = //p' "$BROKER_ETC/oslo-peer.conf")@127.0.0.1:$port/"
	# RabbitMQ makes guest on a fresh node whatever the definitions say.
	broker_ctl delete_user guest >/dev/null 2>&1
	broker_ctl list_users -s 2>/dev/null | grep -q '^guest' && {
		echo "broker: cannot delete the guest user" >&2
		broker_stop
		return 1
	}
	return 0
}

# Starts epmd and the node on what broker_start prepared; waits until the
# node accepts connections.
broker_run() {
	local i epmd
	epmd=$(ls /usr/lib/erlang/erts-*/bin/epmd | head -n1)
	"$epmd" -address 127.0.0.1 >>"$BROKER_DIR/epmd.log" 2>&1 &
	BROKER_EPMD_PID=$!
	setsid rabbitmq-server >>"$BROKER_DIR/server.log" 2>&1 </dev/null &
	BROKER_LAUNCHER_PID=$!
	for i in $(seq 300); do
		if [ -s "$BROKER_DIR/mnesia/node.pid" ] &&
		   (exec 3<>"/dev/tcp/127.0.0.1/$BROKER_PORT") 2>/dev/null; then
			BROKER_PID=$(cat "$BROKER_DIR/mnesia/node.pid")
			return 0
		fi
		kill -0 "$BROKER_LAUNCHER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "broker: RabbitMQ did not start; see $BROKER_DIR/server.log and $BROKER_DIR/log" >&2
	tail -n 20 "$BROKER_DIR/server.log" >&2
	broker_stop
	return 1
}

broker_restart() {
	broker_stop
	rm -f "$BROKER_DIR/mnesia/node.pid"
	broker_run
}

broker_ctl() {
	rabbitmqctl -q -n "$RABBITMQ_NODENAME" "$@"
}

# broker_perms USER: "configure write read topic_write topic_read", the
# regular expressions of the table above.
broker_perms() {
	local u=$1 serves= host='.+' listens= fanouts= keys= x='[0-9a-f]{32}'
	case $u in
	novafs) serves=conductor listens=scheduler fanouts=compute
		keys='compute|compute\..+|scheduler|scheduler\..+|network|network\..+|notifications\..+' ;;
	scheduler) serves=scheduler fanouts='compute scheduler' ;;
	network) serves=network fanouts=scheduler ;;
	compute-*) serves=compute host=${u#compute-} fanouts=scheduler
		keys=conductor ;;
	oslo-peer) echo '.* .* .* - -'; return ;;
	*) return 1 ;;
	esac
	local t own="$serves|$serves\\.$host|${serves}_fanout_${u}_$x" f
	local conf="novafs|$own|${serves}_fanout|reply_${u}_$x"
	local write="amq\\.default|$own" read="novafs|$own|${serves}_fanout|reply_${u}_$x"
	[ -n "$keys" ] && write="novafs|$write"
	for t in $listens; do
		conf="$conf|${t}_fanout|${t}_fanout_${u}_$x"
		write="$write|${t}_fanout_${u}_$x"
		read="$read|${t}_fanout|${t}_fanout_${u}_$x"
	done
	for f in $fanouts; do
		case "|$conf|" in *"|${f}_fanout|"*) ;; *) conf="$conf|${f}_fanout" ;; esac
		write="$write|${f}_fanout"
	done
	# (?!) matches nothing: no routing key at all.
	echo "^($conf)\$ ^($write)\$ ^($read)\$ ^(${keys:-(?!)})\$ ^($serves|$serves\\.$host)\$"
}

# broker_identities N: writes $BROKER_ETC/USER.conf for every user and
# prints the definitions: vhosts "/" and v1..vN, the users with their
# password hashes, their permissions on every vhost.
broker_identities() {
	local n=$1 u pw vh conf wr rd twrite tread
	local vhosts=("/") users= permissions= topics=
	for vh in $(seq "$n"); do vhosts+=("v$vh"); done
	rm -rf "$BROKER_ETC"
	mkdir -m 700 "$BROKER_ETC" || return 1
	for u in $BROKER_USERS; do
		pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
		(umask 077; printf '# RabbitMQ identity %s, made by tests/lib/broker.sh\n[amqp]\nurl = %s\nuser = %s\npassword = %s\n' \
			"$u" "$BROKER_URL" "$u" "$pw" >"$BROKER_ETC/$u.conf")
		read -r conf wr rd twrite tread <<<"$(broker_perms "$u")"
		for vh in "${vhosts[@]}"; do
			permissions+="${permissions:+,}$(printf '{"user":"%s","vhost":"%s","configure":"%s","write":"%s","read":"%s"}' \
				"$u" "$vh" "${conf//\\/\\\\}" "${wr//\\/\\\\}" "${rd//\\/\\\\}")"
			[ "$twrite" = - ] && continue
			topics+="${topics:+,}$(printf '{"user":"%s","vhost":"%s","exchange":"novafs","write":"%s","read":"%s"}' \
				"$u" "$vh" "${twrite//\\/\\\\}" "${tread//\\/\\\\}")"
		done
	done
	# RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++
	# sha256(salt ++ password)), with a 4-byte random salt.  Passwords
	# go through stdin, not argv.
	users=$(for u in $BROKER_USERS; do
			printf '%s\t%s\n' "$u" "$(sed -n 's/^password = //p' "$BROKER_ETC/$u.conf")"
		done | /usr/bin/python3 -c '
import base64, hashlib, json, os, sys
users = []
for line in sys.stdin:
    name, pw = line.rstrip("\n").split("\t")
    salt = os.urandom(4)
    h = base64.b64encode(salt + hashlib.sha256(salt + pw.encode()).digest())
    users.append({"name": name, "password_hash": h.decode(),
                  "hashing_algorithm": "rabbit_password_hashing_sha256",
                  "tags": []})
print(json.dumps(users))') || return 1
	printf '{"users":%s,"vhosts":[%s],"permissions":[%s],"topic_permissions":[%s]}\n' \
		"$users" "$(printf '{"name":"%s"},' "${vhosts[@]}" | sed 's/,$//')" \
		"$permissions" "$topics"
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
