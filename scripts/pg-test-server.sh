#!/bin/sh
# Throwaway PostgreSQL 15 cluster for the tests.
#   pg-test-server.sh start DIR PORT [PASSWORD]  -> initdb in DIR/data, socket in DIR, listen on 127.0.0.1:PORT
#   pg-test-server.sh stop DIR                   -> fast shutdown, DIR removed
# Local (socket) connections are trusted, TCP ones need scram-sha-256.
# The superuser 'postgres' gets PASSWORD (read from the PGTEST_PASSWORD
# environment variable when not given, so it need not appear in `ps`).
# Run as root: the cluster runs as the postgres OS user.
set -eu
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [PORT [PASSWORD]]" >&2; exit 2; }
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
case "$cmd" in
start)
  port=${3:?port}
  pw=${4:-${PGTEST_PASSWORD:-}}
  mkdir -p "$dir"
  chown postgres: "$dir" 2>/dev/null || true
  chmod 0700 "$dir"
  umask 077
  printf '%s\n' "${pw:-postgres}" > "$dir/pwfile"
  chown postgres: "$dir/pwfile" 2>/dev/null || true
  as_pg "$BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "started $dir port $port"
  ;;
stop)
  if [ -d "$dir/data" ]; then as_pg "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
