#!/usr/bin/env bash
# lib.sh - what the p2pd program's shell tests share (sourced): a temp
# directory removed at exit with every process started through `bg`, checks
# that count failures, bounded waits, free loopback ports, a STUN server, a
# name server and a mosquitto of the test's own. Loopback only; every wait
# is bounded (timeout, a bounded loop of 0.1 s sleeps).
set -uo pipefail

P2PD=${P2PD:-}
[ -x "$P2PD" ] || { echo "FAIL: usage: $0 <path to p2pd> [more programs]"; exit 1; }

tmp=$(mktemp -d)
pids=()
# At exit: TERM to each `timeout` started by bg (it passes the signal on to
# its program), at most 5 s for them to end, then KILL to what is left of
# each and of its child (by parent pid).
cleanup() {
  local p i
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for ((i = 0; i < 50; i++)); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do
    pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# check <what> <command...>: ok when the command succeeds.
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { [ "$fails" = 0 ] && { echo PASS; exit 0; }; echo "FAIL: $fails check(s)"; exit 1; }

# bg <command...>: runs it in the background under `timeout 60`, its pid
# in $last_pid and killed at exit. Its stdin is the caller's (bash gives a
# background command /dev/null unless told otherwise).
bg() { timeout 60 "$@" <&0 & last_pid=$!; pids+=("$last_pid"); }

# wait_for <seconds> <command...>: polls the command every 0.1 s.
wait_for() {
  local n=$(($1 * 10)) i; shift
  for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}

# The port of the first "serving <PROTO> 127.0.0.1:<port>" line of <file>.
serving_port() { awk -v p="$2" '$1 == "serving" && $2 == p { n = split($3, a, ":"); print a[n]; exit }' "$1"; }

# Starts `p2pd stun-server 127.0.0.1 127.0.0.2` on free ports; $stun_port.
start_stun() {
  bg "$P2PD" stun-server 127.0.0.1 127.0.0.2 --port 0 >"$tmp/stun.out" 2>"$tmp/stun.err"
  wait_for 10 grep -q "serving TCP 127.0.0.2" "$tmp/stun.out" \
    || { echo "FAIL: the STUN server did not start"; cat "$tmp/stun.err"; exit 1; }
  stun_port=$(serving_port "$tmp/stun.out" UDP)
}

# Starts tools/name_server <prog> on a free port with SQLite in $tmp; $name_port.
start_name_server() {
  bg "$1" 127.0.0.1 --port 0 --db "sqlite:$tmp/names.db" >"$tmp/ns.out" 2>"$tmp/ns.err"
  wait_for 10 grep -q "serving UDP" "$tmp/ns.out" \
    || { echo "FAIL: the name server did not start"; cat "$tmp/ns.err"; exit 1; }
  name_port=$(serving_port "$tmp/ns.out" TCP)
}

port_listens() { ss -H -lnt "sport = :$1" | grep -q .; }

# Starts mosquitto on a free 127.0.0.1 port; $mqtt_port. Exit 77 (skip)
# without mosquitto.
start_mosquitto() {
  local m t p
  m=$(command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null)
  [ -n "$m" ] || { echo "SKIP: mosquitto is not installed (scripts/install-deps.sh)"; exit 77; }
  for ((t = 0; t < 5; t++)); do
    p=$((20000 + RANDOM % 40000))
    ss -H -lnt "sport = :$p" | grep -q . && continue
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n' \
      "$p" >"$tmp/mosquitto.conf"
    bg "$m" -c "$tmp/mosquitto.conf" 2>"$tmp/mosquitto.log"
    if wait_for 10 port_listens "$p"; then mqtt_port=$p; return 0; fi
  done
  echo "FAIL: mosquitto did not start"; cat "$tmp/mosquitto.log"; exit 1
}

# listen_bg <out> <err> <args...>: `p2pd listen --address-file` in the
# background; waits (10 s) for its address, in $addr.
listen_bg() {
  local out=$1 err=$2; shift 2
  rm -f "$tmp/addr"
  bg "$P2PD" listen --interfaces lo --address-file "$tmp/addr" --timeout 30 "$@" >"$out" 2>"$err"
  listen_pid=$last_pid
  wait_for 10 test -s "$tmp/addr" || { bad "listen printed no address within 10 s"; cat "$err"; finish; }
  addr=$(cat "$tmp/addr")
}
