#!/usr/bin/env bash
# relay_lab.sh <p2p_node> - CTest "lab_relay": a relayed connection across
# two symmetric NATs (which no punch connects: tests/lab/punch_expected.txt),
# through the lab's coturn, with the relay's traffic captured.
#   1. a node in each symmetric site; one connects to the other with
#      --strategies relay --transport udp: the report must say
#      strategy=relay path=relayed, and a message must be answered;
#   2. tcpdump in the server namespace records every datagram to and from
#      coturn meanwhile: the capture must hold the TURN exchange (the lab's
#      TURN username travels in clear in every signed request, so the
#      capture saw the relay's traffic) and relayed datagrams, and must not
#      hold the message or its answer anywhere: the relay sees ciphertext.
# Every program runs under `timeout`. Exit 0 = pass, 1 = fail, 77 = skipped
# (not root, no tcpdump, or no mosquitto in the lab).
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
LAB=$HERE/lab.sh
PROG=${1:-}
WAIT=${P2PDLAB_NODE_WAIT:-30}

if [ "$(id -u)" != 0 ]; then echo "SKIP: lab_relay needs root (network namespaces)"; exit 77; fi
if ! command -v tcpdump >/dev/null 2>&1; then echo "SKIP: lab_relay needs tcpdump"; exit 77; fi
if [ -z "$PROG" ] || [ ! -x "$PROG" ]; then echo "FAIL: usage: $0 <path to tools/p2p_node>"; exit 1; fi
PROG=$(readlink -f "$PROG")

tmp=$(mktemp -d)
dump_pid=
cleanup() {
  [ -n "$dump_pid" ] && kill "$dump_pid" 2>/dev/null
  P2PDLAB_SITES="symmetric symmetric" "$LAB" down >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== lab.sh up (two symmetric sites)"
export P2PDLAB_SITES="symmetric symmetric"
if ! timeout 60 "$LAB" up; then echo "FAIL: lab.sh up"; exit 1; fi
eval "$("$LAB" env)"
if [ -z "${P2PDLAB_MQTT:-}" ]; then echo "SKIP: the lab has no MQTT broker"; exit 77; fi
grep -q '^turn ' "$P2PDLAB_SERVERS" || { echo "FAIL: the lab's server file names no relay"; exit 1; }

marker="p2pd-relay-plaintext-$RANDOM$RANDOM$RANDOM"

# Everything coturn sends or receives, whole packets.
timeout $((WAIT * 3)) ip netns exec "$P2PDLAB_NS_SRV" tcpdump -i any -U -s 0 -nn \
  -w "$tmp/relay.pcap" "udp and host $P2PDLAB_TURN" 2> "$tmp/tcpdump.err" &
dump_pid=$!
for _ in $(seq 50); do grep -q 'listening on' "$tmp/tcpdump.err" && break; sleep 0.1; done

mkdir -p "$tmp/s" "$tmp/c"
timeout $((WAIT * 2)) ip netns exec "$P2PDLAB_SITE1_NS_HOST" "$PROG" --servers "$P2PDLAB_SERVERS" \
  --data-dir "$tmp/s" --timeout "$WAIT" --transport udp > "$tmp/s.out" 2> "$tmp/s.err" &
srv=$!
for _ in $(seq 300); do grep -q '^address=' "$tmp/s.out" && break; sleep 0.1; done
if ! grep -q '^address=' "$tmp/s.out"; then
  echo "FAIL: the serving node printed no address"; cat "$tmp/s.err"; exit 1
fi
sed -n 's/^address=//p' "$tmp/s.out" | head -n1 > "$tmp/addr"
timeout $((WAIT * 2)) ip netns exec "$P2PDLAB_SITE2_NS_HOST" "$PROG" --servers "$P2PDLAB_SERVERS" \
  --data-dir "$tmp/c" --timeout "$WAIT" --connect "$tmp/addr" --strategies relay --transport udp \
  --families 4 --message "$marker" > "$tmp/c.out" 2> "$tmp/c.err"
rc=$?
wait "$srv"
sleep 0.5 # the last datagrams reach the capture file (-U: written per packet)
kill -INT "$dump_pid" 2>/dev/null; wait "$dump_pid" 2>/dev/null; dump_pid=

fail=0
no() { echo "FAIL: $*"; fail=1; }
conn=$(grep '^connected ' "$tmp/c.out" | head -n1)
echo "connect: ${conn:-none}"
[ "$rc" = 0 ] || no "the connecting node exited with $rc"
grep -q ' strategy=relay ' <<< "$conn" || no "not connected through the relay: ${conn:-no connection}"
grep -q ' path=relayed ' <<< "$conn" || no "the path is not relayed"
grep -q "^reply .*text=re: $marker" "$tmp/c.out" || no "the message was not answered through the relay"

packets=$(tcpdump -nn -r "$tmp/relay.pcap" 2>/dev/null | wc -l)
relayed=$(tcpdump -nn -r "$tmp/relay.pcap" "udp and src host $P2PDLAB_TURN and portrange 49152-65535" 2>/dev/null | wc -l)
echo "capture: $packets packets, $relayed from relayed ports"
[ "$packets" -gt 0 ] || no "the capture holds nothing"
[ "$relayed" -gt 0 ] || no "the capture holds no relayed datagram"
grep -q -a "$P2PDLAB_TURN_USER" "$tmp/relay.pcap" || no "the capture holds no TURN request (no USERNAME in clear): it did not see the relay's traffic"
if grep -q -a "$marker" "$tmp/relay.pcap"; then
  no "the relay saw the message in clear"
else
  echo "no plaintext: the message ($marker) is nowhere in the relay's traffic"
fi
if [ $fail != 0 ]; then
  echo "== c.out"; cat "$tmp/c.out"; echo "== c.err"; cat "$tmp/c.err"; echo "== s.err"; cat "$tmp/s.err"
  exit 1
fi
echo "PASS: lab_relay"
