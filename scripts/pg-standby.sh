#!/usr/bin/env bash
# A hot standby (streaming replica) of the test server of scripts/pg-test-server.sh, on loopback
# only, for the read-only PostgreSQL tests (tests/postgres/test_hot_standby.py, in `make test`).
#
#   scripts/pg-standby.sh start   base-backup the running test server, start the replica on a
#                                 port of its own; prints the replica's URL (same database)
#   scripts/pg-standby.sh stop    stop the replica (always safe to call)
#   scripts/pg-standby.sh url     print the URL of the running replica
#
# The replica's files live beside the test server's (.pg/standby, or the private folder named
# in .pg/rundir); `start` makes a fresh base backup each time (pg_basebackup -R: it follows the
# test server by streaming replication, read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PGDIR="$ROOT/.pg"
PGVER="${LANGMEM_PG_VERSION:-15}"
PGBIN="/usr/lib/postgresql/$PGVER/bin"
RUN="$PGDIR"
[ -f "$PGDIR/rundir" ] && RUN="$(cat "$PGDIR/rundir")"
PRIMARY_SOCK="$RUN/sock"
PRIMARY_PORT_FILE="$PGDIR/port"
STANDBY="$RUN/standby"
DATA="$STANDBY/data"
SOCK="$STANDBY/sock"
LOG="$STANDBY/server.log"
PORTFILE="$PGDIR/standby-port"
DB=langmem_test
PASSWORD=langmem-test  # the test server's (the base backup copies its users)

say() { echo "pg-standby: $*" >&2; }

. "$(dirname "$0")/pg-common.sh"

start() {
    if running; then
        url
        return
    fi
    scripts/pg-test-server.sh url >/dev/null ||
        { say "the test server is not running: scripts/pg-test-server.sh start first"; exit 2; }
    local primary_port port
    primary_port="$(cat "$PRIMARY_PORT_FILE")"
    rm -rf "$STANDBY"
    mkdir -p "$STANDBY"
    is_root && chown postgres "$STANDBY"
    as_owner mkdir -p "$SOCK"
    # over the test server's Unix socket (its owner is trusted there, replication included)
    as_owner "$PGBIN/pg_basebackup" -h "$PRIMARY_SOCK" -p "$primary_port" -U postgres -D "$DATA" \
        -R -X stream -c fast --no-sync >"$STANDBY/basebackup.log" 2>&1 ||
        { tail -20 "$STANDBY/basebackup.log" >&2; say "pg_basebackup failed"; exit 2; }
    free_port >"$PORTFILE"
    port="$(cat "$PORTFILE")"
    # a hot standby needs max_connections at least the primary's (200); loopback only
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $SOCK -c hot_standby=on -c fsync=off \
         -c max_connections=200 -c shared_buffers=128MB" >/dev/null ||
        { tail -20 "$LOG" >&2; say "the standby did not start"; exit 2; }
    url
}

stop() {
    if running; then
        as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) running && url ;;
    *) echo "usage: $0 start|stop|url" >&2; exit 64 ;;
esac
