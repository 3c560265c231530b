#!/usr/bin/env bash
# signal_chat_broker.sh <signal_chat> - CTest "examples_signal_chat_broker":
# signal_chat through a real MQTT broker, a mosquitto of its own on a free
# 127.0.0.1 port: alice's message reaches bob and bob's answer alice, each
# via that broker, exit 0. Skipped (77) when mosquitto is not installed.
set -uo pipefail
CHAT=${1:-}
[ -x "$CHAT" ] || { echo "FAIL: usage: $0 <path to signal_chat>"; exit 1; }
MOSQUITTO=$(command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null)
[ -n "$MOSQUITTO" ] || { echo "SKIP: mosquitto is not installed (scripts/install-deps.sh)"; exit 77; }

work=$(mktemp -d); export P2PD_DATA_DIR=$work/data
broker=
cleanup() {
  [ -n "$broker" ] && { kill -KILL "$broker"; wait "$broker"; } 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A loopback port with no TCP listener (bounded tries).
pick_port() {
  port=
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -H -lnt "sport = :$p" | grep -q .; then port=$p; return 0; fi
  done
  return 1
}

# Starts mosquitto on $port, listening on 127.0.0.1 only; waits (at most
# 10 s) until it accepts. Another test may take the port in between: then
# mosquitto exits and the caller tries another.
start_broker() {
  # mosquitto 2 listens on nothing and refuses anonymous clients unless told.
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n' \
    "$port" >"$work/mosquitto.conf"
  "$MOSQUITTO" -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
  broker=$!
  for ((i = 0; i < 100; i++)); do
    kill -0 "$broker" 2>/dev/null || { broker=; return 1; }
    ss -H -lnt "sport = :$port" | grep -q . && return 0
    sleep 0.1
  done
  return 1
}

started=1
for ((t = 0; t < 5; t++)); do
  pick_port || { echo "FAIL: no free loopback port found"; exit 1; }
  start_broker && { started=0; break; }
done
[ "$started" = 0 ] || { echo "FAIL: mosquitto did not start"; cat "$work/mosquitto.log"; exit 1; }

uri="tcp://127.0.0.1:$port"
timeout 60 "$CHAT" "$uri" >"$work/out" 2>"$work/err"; rc=$?
fails=0
check() {   # check <what> <condition result: 0 ok>
  if [ "$2" = 0 ]; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi
}
[ "$rc" = 0 ]; check "signal_chat $uri exits 0 (got $rc)" $?
want=("bob got \"hello bob, this is alice\" from alice via $uri"
      "alice got \"hello alice, bob here\" from bob via $uri")
mapfile -t got <"$work/out"
[ "${got[*]:-}" = "${want[*]}" ] && [ "${#got[@]}" = 2 ]; check "it prints, in order: ${want[0]} / ${want[1]}" $?
[ ! -s "$work/err" ]; check "nothing on stderr" $?

if [ "$fails" != 0 ]; then
  echo "--- stdout"; cat "$work/out"; echo "--- stderr"; cat "$work/err"
  echo "--- mosquitto"; cat "$work/mosquitto.log"
  echo "FAIL: $fails check(s)"; exit 1
fi
echo "PASS"
