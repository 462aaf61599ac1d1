#!/usr/bin/env bash
# with-services.sh CMD...
#
# Runs CMD with a throwaway PostgreSQL and a throwaway Redis on loopback, for the
# tests of pgstore, redislimit and integration, then stops both, removes their
# files and exits with CMD's status.
#
# It exports, for each service it started:
#   MYACCOUNT_POSTGRES_DSN  postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#   MYACCOUNT_PG_DATA       the data directory
#   MYACCOUNT_PG_CTL        a command prefix that runs pg_ctl as the server's OS user,
#                           e.g. "$MYACCOUNT_PG_CTL restart -D $MYACCOUNT_PG_DATA -m fast";
#                           the port and socket are in the data directory's config,
#                           so "stop" then "start -D $MYACCOUNT_PG_DATA" works too
#   MYACCOUNT_REDIS_URL     redis://127.0.0.1:PORT/0
#
# A service whose variable is already set, or whose binaries are missing, is not
# started (PostgreSQL: initdb and pg_ctl on PATH or under /usr/lib/postgresql/*/bin;
# Redis: redis-server). PostgreSQL refuses to run as root, so as root it runs as
# the "postgres" OS user.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD..." >&2
	exit 2
fi

log() { echo "with-services: $*" >&2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/myaccount-services.XXXXXX")
pg_started=""
redis_pidfile=""

cleanup() {
	local status=$?
	set +e
	if [ -n "$pg_started" ]; then
		$MYACCOUNT_PG_CTL stop -D "$MYACCOUNT_PG_DATA" -m immediate -w >/dev/null 2>&1
	fi
	if [ -n "$redis_pidfile" ] && [ -s "$redis_pidfile" ]; then
		local pid
		pid=$(cat "$redis_pidfile")
		kill "$pid" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port prints a loopback TCP port that nothing listens on now.
free_port() {
	local port
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	log "no free port found"
	return 1
}

find_pg_bin() {
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v pg_ctl)")"
		return 0
	fi
	local dir
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
			echo "$dir"
			return 0
		fi
	done
	return 1
}

start_postgres() {
	local bin data as port
	bin=$(find_pg_bin) || {
		log "PostgreSQL not found (initdb, pg_ctl); not starting it"
		return 0
	}
	data="$tmp/pg"
	mkdir -p "$data"
	as=""
	if [ "$(id -u)" = 0 ]; then
		chown -R postgres: "$tmp"
		chmod 755 "$tmp"
		as="runuser -u postgres --"
	fi
	$as "$bin/initdb" -D "$data" -A trust -U postgres --no-sync >"$tmp/initdb.log" 2>&1 || {
		cat "$tmp/initdb.log" >&2
		return 1
	}
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		# In the config file, so that a test can "pg_ctl stop" and "pg_ctl start"
		# (or restart) the server and get it back on the same port.
		$as tee "$data/postgresql.auto.conf" >/dev/null <<-EOF
			listen_addresses = '127.0.0.1'
			port = $port
			unix_socket_directories = '$data'
			fsync = off
			max_connections = 200
		EOF
		if $as "$bin/pg_ctl" start -D "$data" -l "$data/server.log" -w -t 60 >/dev/null; then
			pg_started=1
			break
		fi
		tail -n 5 "$data/server.log" >&2 || true
	done
	if [ -z "$pg_started" ]; then
		log "PostgreSQL did not start"
		return 1
	fi
	export MYACCOUNT_PG_DATA="$data"
	export MYACCOUNT_PG_CTL="${as:+$as }$bin/pg_ctl"
	export MYACCOUNT_POSTGRES_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	log "PostgreSQL on 127.0.0.1:$port, data in $data"
}

redis_ping() {
	local port=$1 reply
	if command -v redis-cli >/dev/null 2>&1; then
		[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]
		return
	fi
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf 'PING\r\n' >&3
	read -r -t 1 reply <&3 || true
	exec 3>&-
	[ "${reply%$'\r'}" = "+PONG" ]
}

start_redis() {
	if ! command -v redis-server >/dev/null 2>&1; then
		log "redis-server not found; not starting Redis"
		return 0
	fi
	local dir="$tmp/redis" port
	mkdir -p "$dir"
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		rm -f "$dir/redis.pid"
		redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
			--daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" >/dev/null
		for _ in $(seq 100); do
			if redis_ping "$port"; then
				redis_pidfile="$dir/redis.pid"
				break 2
			fi
			sleep 0.05
		done
		tail -n 5 "$dir/redis.log" >&2 || true
		[ -s "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
	done
	if [ -z "$redis_pidfile" ]; then
		log "Redis did not start"
		return 1
	fi
	export MYACCOUNT_REDIS_URL="redis://127.0.0.1:$port/0"
	log "Redis on 127.0.0.1:$port"
}

if [ -z "${MYACCOUNT_POSTGRES_DSN:-}" ]; then
	start_postgres
fi
if [ -z "${MYACCOUNT_REDIS_URL:-}" ]; then
	start_redis
fi

set +e
"$@"
status=$?
set -e
exit "$status"
