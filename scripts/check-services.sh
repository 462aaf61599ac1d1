#!/usr/bin/env bash
# check-services.sh [--packages]
#
# Checks that the programs make test needs are installed, or that their service
# is already running and named by its variable:
#   PostgreSQL  initdb and pg_ctl (on PATH or under /usr/lib/postgresql/*/bin),
#               unless MYACCOUNT_POSTGRES_DSN is set
#   Redis       redis-server on PATH, unless MYACCOUNT_REDIS_URL is set
#   Chromium    /usr/bin/chromium or chromium on PATH, for the demo's browser test
# With all present it prints nothing and exits 0. Otherwise it prints one
# message naming each missing program and the apt-get command that installs it,
# and exits 1. With --packages it prints only the Debian packages to install,
# one a line, and exits 0 (for .ci/run).
set -euo pipefail

have_pg() {
	[ -n "${MYACCOUNT_POSTGRES_DSN:-}" ] && return 0
	command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
	local dir
	for dir in /usr/lib/postgresql/*/bin; do
		[ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && return 0
	done
	return 1
}
have_redis() { [ -n "${MYACCOUNT_REDIS_URL:-}" ] || command -v redis-server >/dev/null 2>&1; }
have_chromium() { [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; }

programs=() packages=() uses=()
if ! have_pg; then
	programs+=("initdb, pg_ctl") packages+=(postgresql) uses+=("PostgreSQL, for pgstore and integration")
fi
if ! have_redis; then
	programs+=(redis-server) packages+=(redis-server) uses+=("Redis, for redislimit and integration")
fi
if ! have_chromium; then
	programs+=(chromium) packages+=(chromium) uses+=("the demo's browser test")
fi

if [ "${1:-}" = --packages ]; then
	for p in "${packages[@]}"; do echo "$p"; done
	exit 0
fi
((${#programs[@]})) || exit 0

{
	echo "make test: missing programs:"
	for i in "${!programs[@]}"; do
		printf '  %-16s %s\n' "${programs[$i]}" "(${uses[$i]})"
	done
	echo "Install them with:"
	sudo="sudo "
	[ "$(id -u)" = 0 ] && sudo=""
	echo "  ${sudo}apt-get install ${packages[*]}"
	echo "or run the other tests and list what was skipped:"
	echo "  make test MYACCOUNT_SKIP_SERVICES=1"
	echo "(A PostgreSQL or Redis already running can be named instead: see the README's Tests section.)"
} >&2
exit 1
