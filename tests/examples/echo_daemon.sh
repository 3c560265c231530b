#!/usr/bin/env bash
# echo_daemon.sh <echo_daemon> - CTest "examples_echo_daemon": the echo
# daemon serves until stopped. On a free loopback port it echoes over TCP and
# UDP, a second daemon on the same port fails with a message naming the port
# (exit 1) while the first goes on serving, SIGTERM ends it with exit 0, and
# the port is free again for a third that SIGINT ends. Loopback only; a data
# directory of its own for the port locks.
set -uo pipefail
DAEMON=${1:-}
[ -x "$DAEMON" ] || { echo "FAIL: usage: $0 <path to echo_daemon>"; exit 1; }

work=$(mktemp -d); export P2PD_DATA_DIR=$work/data
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
fails=0
check() {   # check <what> <condition result: 0 ok>
  if [ "$2" = 0 ]; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi
}

# A loopback port with no TCP or UDP listener (bounded tries).
pick_port() {
  port=
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -H -lnu "sport = :$p" | grep -q . && ! ss -H -lnt "sport = :$p" | grep -q .; then port=$p; return 0; fi
  done
  return 1
}

# start <name>: runs the daemon in the background; waits (at most 10 s) for "ready".
start() {
  "$DAEMON" --port "$port" >"$work/$1.out" 2>"$work/$1.err" &
  pids+=($!); last=$!
  for ((i = 0; i < 100; i++)); do
    grep -q '^ready$' "$work/$1.out" && return 0
    kill -0 "$last" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# echo_over <tcp|udp> <message>: the daemon's answer, within 5 s.
echo_over() {
  local reply
  if [ "$1" = tcp ]; then
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf '%s' "$2" >&3
    reply=$(timeout 5 head -c "${#2}" <&3)
    exec 3<&-
  else
    exec 3<>"/dev/udp/127.0.0.1/$port" || return 1
    printf '%s' "$2" >&3
    reply=$(timeout 5 head -c "${#2}" <&3) # head reads a whole datagram at once
    exec 3<&-
  fi
  [ "$reply" = "$2" ]
}

# Other tests running beside this one may take the port between the check and
# the bind: then the daemon exits at once and another port is tried.
started=1
for ((t = 0; t < 5; t++)); do
  pick_port || { echo "FAIL: no free loopback port found"; exit 1; }
  start first && { started=0; break; }
done
check "first daemon serves on port $port" $started
a=$last
grep -q "^listening: TCP 127.0.0.1:$port$" "$work/first.out"; check "listens on TCP 127.0.0.1:$port" $?
grep -q "^listening: UDP 127.0.0.1:$port$" "$work/first.out"; check "listens on UDP 127.0.0.1:$port" $?
echo_over tcp "hello over tcp"; check "TCP echo" $?
echo_over udp "hello over udp"; check "UDP echo" $?

# A second daemon on the same port (same data directory, so the same locks).
timeout 20 "$DAEMON" --port "$port" >"$work/second.out" 2>"$work/second.err"; rc=$?
[ "$rc" = 1 ]; check "second daemon on port $port exits 1 (got $rc)" $?
grep -q "port $port" "$work/second.err"; check "second daemon says why: $(head -1 "$work/second.err")" $?
echo_over tcp "still here"; check "first daemon still serves" $?

kill -TERM "$a"; wait "$a"; rc=$?
[ "$rc" = 0 ]; check "SIGTERM ends it with exit 0 (got $rc)" $?
grep -q "stopped by SIGTERM" "$work/first.out"; check "it says it was stopped" $?

start third; check "the port is free again" $?
c=$last
echo_over udp "again"; check "third daemon echoes" $?
kill -INT "$c"; wait "$c"; rc=$?
[ "$rc" = 0 ]; check "SIGINT ends it with exit 0 (got $rc)" $?

[ "$fails" = 0 ] && echo "PASS" || { echo "FAIL: $fails check(s)"; exit 1; }
