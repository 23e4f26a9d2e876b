#!/usr/bin/env bash
# A throw-away PostgreSQL 15 + pgvector server for the test suite, on loopback only.
#
#   scripts/pg-test-server.sh start   install what is missing, initdb, start; prints the URL
#   scripts/pg-test-server.sh stop    stop the server started by `start` (always safe to call)
#   scripts/pg-test-server.sh url     print the URL of the running server
#   scripts/pg-test-server.sh restart restart it in place (same port and data; for tests)
#
# Everything lives in .pg/ inside the checkout (gitignored). Installing needs root (apt-get);
# a developer without root gets told what to install. pgvector has no binary package on
# Debian bookworm, so it is built from Debian trixie's source package with PGXS.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PGDIR="$ROOT/.pg"
PGVER="${LANGMEM_PG_VERSION:-15}"
# Enough cache for bench/postgres.py's 100k-text store (tables and indexes ~620 MB): searches
# that read pages from the OS cache instead cost ~40 % more server CPU. Memory is taken as used.
SHARED_BUFFERS="${LANGMEM_PG_SHARED_BUFFERS:-1GB}"
PGBIN="/usr/lib/postgresql/$PGVER/bin"
PORTFILE="$PGDIR/port"

# The server's files live in .pg/; when the checkout sits where the postgres user cannot reach
# it (say under /root, mode 700), in a private folder under /tmp named in .pg/rundir.
locate() {
    RUN="$PGDIR"
    [ -f "$PGDIR/rundir" ] && RUN="$(cat "$PGDIR/rundir")"
    DATA="$RUN/data"
    SOCK="$RUN/sock"
    LOG="$RUN/server.log"
}
locate
DB=langmem_test
# Loopback TCP asks for this password (so tests can check wrong credentials); the Unix socket
# in .pg/sock trusts its local owner. The server holds throw-away test data only.
PASSWORD=langmem-test

say() { echo "pg-test-server: $*" >&2; }

. "$(dirname "$0")/pg-common.sh"

need_root() {
    say "$1"
    say "install it first, as root:  apt-get install postgresql-$PGVER postgresql-server-dev-$PGVER"
    say "and pgvector for PostgreSQL $PGVER (e.g. build https://github.com/pgvector/pgvector with"
    say "'make OPTFLAGS=\"\" && make install'), or run 'make test' as root, which does all of this."
    exit 2
}

have_vector() { [ -f "/usr/share/postgresql/$PGVER/extension/vector.control" ]; }
have_pgxs() { [ -f "/usr/include/postgresql/$PGVER/server/postgres.h" ]; }

install_postgres() {
    if [ -x "$PGBIN/initdb" ] && { have_vector || have_pgxs; }; then
        return
    fi
    is_root || need_root "PostgreSQL $PGVER (server and server-dev) is not installed."
    say "installing postgresql-$PGVER and postgresql-server-dev-$PGVER with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "postgresql-$PGVER" \
            "postgresql-server-dev-$PGVER" make gcc libc6-dev >"$PGDIR/apt.log" 2>&1; then
        apt-get update -q >>"$PGDIR/apt.log" 2>&1
        apt-get install -y -q --no-install-recommends "postgresql-$PGVER" \
            "postgresql-server-dev-$PGVER" make gcc libc6-dev >>"$PGDIR/apt.log" 2>&1 ||
            { tail -20 "$PGDIR/apt.log" >&2; say "apt-get install failed"; exit 2; }
    fi
}

install_pgvector() {
    have_vector && return
    is_root || need_root "the pgvector extension is not installed for PostgreSQL $PGVER."
    local src="$PGDIR/pgvector-src" apt="$PGDIR/apt"
    if [ ! -f "$src/Makefile" ]; then
        # Debian trixie's source package, through a private apt configuration (the machine's own
        # sources are left alone).
        say "fetching pgvector's Debian source package (trixie)"
        mkdir -p "$apt/lists/partial" "$src"
        echo "deb-src http://deb.debian.org/debian trixie main" >"$apt/sources.list"
        local opts=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$apt/lists")
        apt-get "${opts[@]}" update >"$apt/log" 2>&1 || { tail -20 "$apt/log" >&2; exit 2; }
        (cd "$apt" && apt-get "${opts[@]}" source --download-only pgvector >>"$apt/log" 2>&1) ||
            { tail -20 "$apt/log" >&2; say "could not download pgvector's source"; exit 2; }
        tar -xzf "$apt"/pgvector_*.orig.tar.gz -C "$src" --strip-components=1
    fi
    say "building pgvector with PGXS"
    local pgconfig="/usr/lib/postgresql/$PGVER/bin/pg_config"
    [ -x "$pgconfig" ] || pgconfig="$(command -v pg_config)"
    (cd "$src" && make -s PG_CONFIG="$pgconfig" OPTFLAGS="" >"$PGDIR/pgvector-build.log" 2>&1 &&
        make -s PG_CONFIG="$pgconfig" install >>"$PGDIR/pgvector-build.log" 2>&1) ||
        { tail -20 "$PGDIR/pgvector-build.log" >&2; say "pgvector build failed"; exit 2; }
}

start() {
    mkdir -p "$PGDIR"
    install_postgres
    install_pgvector
    if running; then
        url
        return
    fi
    if is_root; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
        chown postgres "$PGDIR"
        if ! runuser -u postgres -- test -x "$PGDIR"; then
            local run="/tmp/langmem-pg-$(printf %s "$ROOT" | md5sum | cut -c1-12)"
            mkdir -p "$run" && chown postgres "$run" && chmod 700 "$run"
            echo "$run" >"$PGDIR/rundir"
        else
            rm -f "$PGDIR/rundir"
        fi
        locate
    fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
        rm -rf "$DATA"
        echo "$PASSWORD" >"$RUN/pwfile"
        is_root && chown postgres "$RUN/pwfile"
        as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth-local=trust \
            --auth-host=scram-sha-256 --pwfile="$RUN/pwfile" --no-sync -E UTF8 \
            --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 ||
            { tail -20 "$PGDIR/initdb.log" >&2; say "initdb failed"; exit 2; }
    fi
    mkdir -p "$SOCK"
    is_root && chown postgres "$SOCK"
    free_port >"$PORTFILE"
    local port
    port="$(cat "$PORTFILE")"
    # Loopback only; fsync off because the data is thrown away; enough connections for the
    # multi-process tests; shared_buffers: see SHARED_BUFFERS.
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $SOCK -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=200 -c shared_buffers=$SHARED_BUFFERS" >/dev/null ||
        { tail -20 "$LOG" >&2; say "the server did not start"; exit 2; }
    as_owner "$PGBIN/psql" -q -h "$SOCK" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" -tA | grep -q 1 ||
        as_owner "$PGBIN/createdb" -h "$SOCK" -p "$port" -U postgres "$DB"
    as_owner "$PGBIN/psql" -q -h "$SOCK" -p "$port" -U postgres -d "$DB" -v ON_ERROR_STOP=1 \
        -c "CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
    url
}

stop() {
    if running; then
        as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
    fi
}

restart() {
    running || { say "no server to restart"; exit 2; }
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 restart -l "$LOG" >/dev/null
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) restart ;;
    url) running && url ;;
    *) echo "usage: $0 start|stop|restart|url" >&2; exit 64 ;;
esac
