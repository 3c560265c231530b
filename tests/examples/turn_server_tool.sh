#!/usr/bin/env bash
# turn_server_tool.sh <turn_server> - CTest "tools_turn_server": the TURN
# server program serves until stopped. On a free loopback port (port 0) it
# prints "serving udp IP:PORT"; coturn's turnutils_uclient relays 2
# client-to-client sessions of 10 messages each way through it without
# loss (skipped, exit 77, without turnutils_uclient), and SIGTERM ends it
# with exit 0. Loopback only.
set -uo pipefail
PROG=${1:-}
[ -x "$PROG" ] || { echo "FAIL: usage: $0 <path to turn_server>"; exit 1; }
command -v turnutils_uclient >/dev/null || { echo "SKIP: turnutils_uclient (coturn) is not installed"; exit 77; }

work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$PROG" 127.0.0.1 alice:wonderland --port 0 --relay-ports 0-0 --allow-loopback-peers >"$work/out" 2>"$work/err" &
pid=$!
port=
for ((i = 0; i < 100; i++)); do   # at most 10 s
  port=$(sed -n 's/^serving udp 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/out")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: no 'serving udp' line; stderr:"; cat "$work/err"; exit 1; }
echo "ok: serving on port $port"

timeout 30 turnutils_uclient -y -c -u alice -w wonderland -p "$port" -n 10 -m 2 \
  -L 127.0.0.1 127.0.0.1 >"$work/uclient" 2>&1
rc=$?
if [ "$rc" != 0 ] || ! grep -q "tot_send_msgs=20, tot_recv_msgs=20$" "$work/uclient" \
   || ! grep -q "Total lost packets 0 " "$work/uclient"; then
  echo "FAIL: turnutils_uclient exit $rc:"; tail -20 "$work/uclient"; exit 1
fi
echo "ok: uclient relayed 20 messages each way, none lost"

kill -TERM "$pid"
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"; rc=$?
pid=
[ "$rc" = 0 ] || { echo "FAIL: exit $rc after SIGTERM; stderr:"; cat "$work/err"; exit 1; }
echo "ok: SIGTERM -> exit 0"
echo "PASS"
