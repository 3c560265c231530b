#!/usr/bin/env bash
# api.sh <p2pd> - CTest "p2pd_cli_api": `p2pd node --api-port 0` serves the
# REST API on loopback: it says where and which file holds the token (0600),
# curl with that token gets /version, /addr (the address the node printed)
# and /metrics; without it, 401. A second node asking for the first's port
# fails with exit 1 and a message naming the port. SIGTERM ends the node
# with exit 0.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "FAIL: curl is missing (scripts/install-deps.sh)"; exit 1; }

bg "$P2PD" node --interfaces lo --data-dir "$tmp/a" --api-port 0 >"$tmp/n.out" 2>"$tmp/n.err"
node_pid=$last_pid
wait_for 10 grep -q "^api url=" "$tmp/n.out" || { bad "the node printed no api line"; cat "$tmp/n.out" "$tmp/n.err"; finish; }
url=$(sed -n 's/^api url=\([^ ]*\) .*/\1/p' "$tmp/n.out")
file=$(sed -n 's/^api .* token_file=//p' "$tmp/n.out")
addr=$(sed -n 's/^address=//p' "$tmp/n.out" | head -1)
check "the token file is $tmp/a/rest_token" test "$file" = "$tmp/a/rest_token"
check "the token file is 0600" test "$(stat -c %a "$file")" = 600
token=$(cat "$file")
call() { curl -sS --max-time 10 -o "$tmp/body" -w '%{http_code}' "$@"; }
check "GET /version with the token: 200" test "$(call -H "Authorization: Bearer $token" "${url}version")" = 200
check "GET /addr gives the printed address" \
  test "$(call -H "Authorization: Bearer $token" "${url}addr")" = 200 -a -n "$addr"
check "its body holds the address" grep -qF "$addr" "$tmp/body"
check "GET /metrics with the token: 200" test "$(call -H "Authorization: Bearer $token" "${url}metrics")" = 200
check "the metrics hold the open connections' gauge" grep -q "^# TYPE p2pd_connections gauge$" "$tmp/body"
check "GET /version without the token: 401" test "$(call "${url}version")" = 401

port=${url#http://127.0.0.1:}; port=${port%/}
timeout 30 "$P2PD" node --interfaces lo --data-dir "$tmp/b" --api-port "$port" >"$tmp/m.out" 2>"$tmp/m.err"; rc=$?
check "a second node on the same API port exits 1 (got $rc)" test "$rc" = 1
check "saying which port" grep -q "REST API on port $port" "$tmp/m.err"

kill -TERM "$node_pid"; wait "$node_pid"; nrc=$?
check "the node ends on SIGTERM with exit 0 (got $nrc)" test "$nrc" = 0
finish
