#!/usr/bin/env bash
# netcheck.sh <p2pd> - CTest "p2pd_cli_netcheck": `p2pd netcheck --json`
# against the project's own STUN server on loopback (p2pd stun-server
# 127.0.0.1 127.0.0.2, free ports): one JSON document whose lo entry says
# UDP works, the NAT of loopback (open_internet, as seen through two
# addresses), the server's latency and the mapped address; the text form
# says the same; port mapping on lo: none found (no gateway), honestly.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"
start_stun
printf 'stun 127.0.0.1:%s\nnat 127.0.0.1:%s\n' "$stun_port" "$stun_port" >"$tmp/servers"

timeout 60 "$P2PD" netcheck --json --interfaces lo --servers "$tmp/servers" \
  >"$tmp/json" 2>"$tmp/err"; rc=$?
check "netcheck --json exits 0 (got $rc)" test "$rc" = 0
cat "$tmp/err"
python3 - "$tmp/json" "$stun_port" <<'PY' || bad "the JSON document (above)"
import json, sys
doc = json.load(open(sys.argv[1]))
port = sys.argv[2]
def need(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        print(json.dumps(doc, indent=1)); sys.exit(1)
need(doc["ok"] is True and doc["stun_servers"] == 2, "ok, 2 STUN endpoints")
lo = [i for i in doc["interfaces"] if i["name"] == "lo"]
need(len(lo) == 1, "one entry for lo")
lo = lo[0]
v4 = [f for f in lo["families"] if f["family"] == "v4"]
need(len(v4) == 1, "lo has an IPv4 entry")
v4 = v4[0]
need(v4["nic"] == "127.0.0.1", "nic 127.0.0.1")
need(v4["udp"] is True, "UDP works")
need(v4["nat"] == "open_internet", "NAT open_internet (got %s)" % v4["nat"])
need("delta" in v4 and "delta_value" in v4, "port allocation fields")
need(len(v4["stun"]) == 1, "the server asked once (a stun and a nat line)")
s = v4["stun"][0]
need(s["server"] == "127.0.0.1:" + port and s["rtt_ms"] >= 0, "latency to 127.0.0.1:" + port)
need(s["mapped"].startswith("127.0.0.1:"), "the mapped address")
need(lo["gateway"] is None and lo["port_mapping"] == [], "no gateway: no method asked")
need(lo["port_mapping_note"].startswith("none found"), "port mapping: none found")
PY

timeout 60 "$P2PD" netcheck --interfaces lo --servers "$tmp/servers" >"$tmp/text" 2>&1; rc=$?
check "netcheck (text) exits 0 (got $rc)" test "$rc" = 0
check "the text says UDP works" grep -q "UDP works" "$tmp/text"
check "the text gives the latency" grep -Eq "STUN 127.0.0.1:$stun_port: [0-9.]+ ms" "$tmp/text"
check "the text says no port mapping was found" grep -q "port mapping: none found" "$tmp/text"
finish
