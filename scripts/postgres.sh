#!/usr/bin/env bash
# A private PostgreSQL cluster for the shared frontier (--frontier), for tests, benchmarks and users.
#
#   scripts/postgres.sh start DIR [PORT [ADDRESS]]   # initdb into DIR, start; prints the frontier URL
#   scripts/postgres.sh stop DIR [fast|immediate]    # stop it and remove DIR
#   scripts/postgres.sh restart DIR [fast|immediate] # stop and start again, keeping the data
#
# The server listens on ADDRESS (default 127.0.0.1) and on a socket in DIR, nowhere else. Role
# `fanout`, password `fanout` over TCP (scram-sha-256), database `fanout`. As root, the cluster
# runs as the `postgres` user (initdb refuses root). PORT 0 or none: a free port is picked.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bindir/initdb" ] || { echo "postgres.sh: no PostgreSQL server found (apt-get install postgresql-15)" >&2; exit 3; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,9p' "$0" >&2; exit 2; }

case "$cmd" in
  start)
    port=${3:-0}; address=${4:-127.0.0.1}
    [ "$port" = 0 ] && port=$(free_port)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      # chown is not enough when a directory above DIR is closed to others (mktemp -d makes them 700).
      runuser -u postgres -- test -w "$dir" || {
        echo "postgres.sh: the postgres user cannot reach $dir: a directory above it is closed to it (chmod o+x)" >&2; exit 1; }
    fi
    pw="$dir/.pw"
    echo fanout > "$pw"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$pw"
    as_owner "$bindir/initdb" -D "$dir/data" -U fanout --pwfile="$pw" -A scram-sha-256 --auth-local=trust \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$pw"
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '$address'
port = $port
unix_socket_directories = '$dir'
max_connections = 60
log_min_messages = warning
CONF
    # TCP from anywhere the server listens (the address is the boundary), with a password.
    echo "host all all 0.0.0.0/0 scram-sha-256" >>"$dir/data/pg_hba.conf"
    echo "$port" >"$dir/port"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/port"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null
    as_owner "$bindir/createdb" -h "$dir" -p "$port" -U fanout fanout
    echo "postgresql://fanout:fanout@$address:$port/fanout"
    ;;
  stop)
    mode=${3:-fast}
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  restart)
    mode=${3:-fast}
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null
    ;;
  *) sed -n '2,9p' "$0" >&2; exit 2 ;;
esac
