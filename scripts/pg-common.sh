# Shell helpers shared by scripts/pg-test-server.sh and scripts/pg-standby.sh (sourced; each
# script sets DATA, PGBIN, PORTFILE, PASSWORD and DB before calling them).

is_root() { [ "$(id -u)" = 0 ]; }

# Run a command as the server's owner: `postgres` when we are root (initdb refuses root).
as_owner() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")  # from /: the checkout may be closed to postgres
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running() { [ -f "$DATA/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

url() {
    echo "postgresql://postgres:$PASSWORD@127.0.0.1:$(cat "$PORTFILE")/$DB"
}
