#!/usr/bin/env bash
# turn_server_tool.sh <turn_server> - CTest "tools_turn_server": the TURN
# server program serves until stopped. A missing or bad --users-file, or no
# users, is refused (exit 2). With the users from a file, on a free loopback port (port 0) it
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

# Bad input: a users file that is missing, or with a line not user:password.
"$PROG" 127.0.0.1 --users-file "$work/none" --port 0 >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "cannot be read" "$work/err" || { echo "FAIL: missing users file:"; cat "$work/err"; exit 1; }
printf '# users\nalice\n' >"$work/bad"
"$PROG" 127.0.0.1 --users-file "$work/bad" --port 0 >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "line 2 is not user:password" "$work/err" || { echo "FAIL: bad users file:"; cat "$work/err"; exit 1; }
"$PROG" 127.0.0.1 --port 0 >/dev/null 2>"$work/err"
[ $? = 2 ] && grep -q "no users" "$work/err" || { echo "FAIL: no users:"; cat "$work/err"; exit 1; }
echo "ok: bad users files and no users refused (exit 2)"

# The password from a file, not the command line.
printf '# users\n\nalice:wonderland\n' >"$work/users"
# The default relay range, not free ports (0-0): turnutils_uclient asks for
# EVEN-PORT, which free ports cannot honour (508).
"$PROG" 127.0.0.1 --users-file "$work/users" --port 0 --allow-loopback-peers >"$work/out" 2>"$work/err" &
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
