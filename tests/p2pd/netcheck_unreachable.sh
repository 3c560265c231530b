#!/usr/bin/env bash
# netcheck_unreachable.sh <p2pd> - CTest "p2pd_cli_netcheck_unreachable":
# a STUN server nobody runs (a loopback UDP port with no socket): netcheck
# says it did not answer and that UDP did not work, in text and JSON, and
# exits 4 (a wait ran out) within a few seconds.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"
# A UDP port nobody listens on (bounded tries).
for ((i = 0; i < 50; i++)); do
  p=$((20000 + RANDOM % 40000))
  ss -H -lnu "sport = :$p" | grep -q . || break
done
echo "stun 127.0.0.1:$p" >"$tmp/servers"

start=$SECONDS
timeout 60 "$P2PD" netcheck --interfaces lo --servers "$tmp/servers" >"$tmp/text" 2>"$tmp/err"
rc=$?
cat "$tmp/text" "$tmp/err"
check "exit 4 (got $rc)" test "$rc" = 4
check "within 15 s (took $((SECONDS - start)) s)" test $((SECONDS - start)) -le 15
check "the server is named with no answer" grep -q "STUN 127.0.0.1:$p: no answer" "$tmp/text"
check "UDP: no STUN server answered" grep -q "UDP no STUN server answered" "$tmp/text"
check "stderr says why" grep -q "none of the 1 STUN servers answered" "$tmp/err"

timeout 60 "$P2PD" netcheck --json --interfaces lo --servers "$tmp/servers" >"$tmp/json" 2>/dev/null
rc=$?
check "--json: exit 4 (got $rc)" test "$rc" = 4
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v4 = [f for i in d["interfaces"] for f in i["families"] if f["family"] == "v4"][0]
assert d["ok"] is False and v4["udp"] is False, d
assert "error" in v4["stun"][0] and "rtt_ms" not in v4["stun"][0], v4
' "$tmp/json"
check "--json: ok false, udp false, the error of the server" test $? = 0
finish
