#!/usr/bin/env bash
# A throw-away PostgreSQL server for the name store's tests:
#   postgres_fixture.sh start DIR PORT [OWNER_PID]
#                                        initdb in DIR/data, start on 127.0.0.1:PORT
#                                        (socket in DIR), wait until it accepts; with
#                                        OWNER_PID, stop it when that process ends
#                                        (a test binary that crashed)
#   postgres_fixture.sh createdb DIR PORT NAME
#   postgres_fixture.sh stop DIR         fast shutdown
# Trust authentication, on loopback only, for a server that lives as long as
# one test binary. PostgreSQL refuses to run as root: as root the server runs
# as the user `postgres` (Debian's package makes it), which gets DIR.
set -euo pipefail

bin=${P2PD_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$bin/initdb" ] || { echo "not installed: no initdb under /usr/lib/postgresql" >&2; exit 3; }
as=()
if [ "$(id -u)" -eq 0 ]; then
  as=(runuser -u postgres --)
fi

cmd=$1 dir=$2
case $cmd in
  start)
    port=$3
    [ ${#as[@]} -eq 0 ] || chown postgres: "$dir"
    "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    if [ -n "${4:-}" ]; then
      # tail --pid returns when the owner is gone, however it ended; its
      # temporary directory goes with the server.
      setsid bash -c "tail --pid=$4 -f /dev/null; ${as[*]} $bin/pg_ctl -D $dir/data -m immediate stop; rm -rf $dir" \
        </dev/null >/dev/null 2>&1 &
    fi
    ;;
  createdb)
    port=$3 name=$4
    "${as[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q \
      -c "CREATE DATABASE \"$name\"" >/dev/null
    ;;
  stop)
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|createdb|stop DIR [PORT [NAME]]" >&2; exit 2 ;;
esac
