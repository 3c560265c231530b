#!/usr/bin/env bash
# relay_lab.sh <p2p_node> - CTest "lab_relay": a relayed connection across
# two symmetric NATs (which no punch connects: tests/lab/punch_expected.txt),
# through the lab's coturn, with the relay's traffic captured.
#   1. a node in each symmetric site; one connects to the other with
#      --strategies relay, once with --transport udp (UDP allocations) and
#      once with --transport tcp (TCP allocations, RFC 6062): the report
#      must say strategy=relay path=relayed, and a message must be answered;
#   2. tcpdump in the server namespace records every packet of that
#      transport to and from coturn meanwhile: the capture must hold the
#      TURN exchange (the lab's TURN username travels in clear in every
#      signed request, so the capture saw the relay's traffic) and relayed
#      traffic, and must not hold the message or its answer anywhere: the
#      relay sees ciphertext.
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

fail=0
no() { echo "FAIL: $*"; fail=1; }

# One relayed connect over $1 (udp: UDP allocations punched to each other;
# tcp: TCP allocations joined by the server, TLS inside), captured.
relay_once() {
  local tr=$1 marker="p2pd-relay-plaintext-$RANDOM$RANDOM$RANDOM" d="$tmp/$1" rc srv conn
  local proto; [ "$tr" = tcp ] && proto=tcp || proto=udp
  mkdir -p "$d/s" "$d/c"
  echo "== relayed $tr"
  # Everything coturn sends or receives, whole packets. --immediate-mode:
  # libpcap otherwise holds packets in its ring's block until it fills or
  # times out, and a short TCP exchange was lost at SIGINT ("0 packets
  # captured, 96 received by filter", 3 runs in 5).
  timeout $((WAIT * 3)) ip netns exec "$P2PDLAB_NS_SRV" tcpdump -i any -U --immediate-mode -s 0 -nn \
    -w "$d/relay.pcap" "$proto and host $P2PDLAB_TURN" 2> "$d/tcpdump.err" &
  dump_pid=$!
  for _ in $(seq 50); do grep -q 'listening on' "$d/tcpdump.err" && break; sleep 0.1; done

  timeout $((WAIT * 2)) ip netns exec "$P2PDLAB_SITE1_NS_HOST" "$PROG" --servers "$P2PDLAB_SERVERS" \
    --data-dir "$d/s" --timeout "$WAIT" --transport "$tr" > "$d/s.out" 2> "$d/s.err" &
  srv=$!
  for _ in $(seq 300); do grep -q '^address=' "$d/s.out" && break; sleep 0.1; done
  if ! grep -q '^address=' "$d/s.out"; then
    no "$tr: the serving node printed no address"; cat "$d/s.err"; return
  fi
  sed -n 's/^address=//p' "$d/s.out" | head -n1 > "$d/addr"
  timeout $((WAIT * 2)) ip netns exec "$P2PDLAB_SITE2_NS_HOST" "$PROG" --servers "$P2PDLAB_SERVERS" \
    --data-dir "$d/c" --timeout "$WAIT" --connect "$d/addr" --strategies relay --transport "$tr" \
    --families 4 --message "$marker" > "$d/c.out" 2> "$d/c.err"
  rc=$?
  wait "$srv"
  sleep 0.5 # the last packets reach the capture file (-U: written per packet)
  kill -INT "$dump_pid" 2>/dev/null; wait "$dump_pid" 2>/dev/null; dump_pid=

  local before=$fail
  conn=$(grep '^connected ' "$d/c.out" | head -n1)
  echo "connect: ${conn:-none}"
  [ "$rc" = 0 ] || no "$tr: the connecting node exited with $rc"
  grep -q ' strategy=relay ' <<< "$conn" || no "$tr: not connected through the relay: ${conn:-no connection}"
  grep -q ' path=relayed ' <<< "$conn" || no "$tr: the path is not relayed"
  grep -q " transport=$tr" <<< "$conn" || no "$tr: the connection is not over $tr"
  grep -q "^reply .*text=re: $marker" "$d/c.out" || no "$tr: the message was not answered through the relay"

  local packets relayed
  packets=$(tcpdump -nn -r "$d/relay.pcap" 2>/dev/null | wc -l)
  # Relayed traffic: to or from coturn's relayed ports (TCP: the
  # connection coturn makes between the two allocations).
  relayed=$(tcpdump -nn -r "$d/relay.pcap" "$proto and src host $P2PDLAB_TURN and portrange 49152-65535" 2>/dev/null | wc -l)
  echo "capture: $packets packets, $relayed from relayed ports"
  [ "$packets" -gt 0 ] || { no "$tr: the capture holds nothing"; sed "s/^/tcpdump: /" "$d/tcpdump.err"; }
  [ "$relayed" -gt 0 ] || no "$tr: the capture holds no relayed traffic"
  grep -q -a "$P2PDLAB_TURN_USER" "$d/relay.pcap" || no "$tr: the capture holds no TURN request (no USERNAME in clear): it did not see the relay's traffic"
  if grep -q -a "$marker" "$d/relay.pcap"; then
    no "$tr: the relay saw the message in clear"
  else
    echo "no plaintext: the message ($marker) is nowhere in the relay's traffic"
  fi
  if [ $fail != "$before" ]; then
    echo "== c.out"; cat "$d/c.out"; echo "== c.err"; cat "$d/c.err"; echo "== s.out"; cat "$d/s.out"; echo "== s.err"; cat "$d/s.err"
  fi
}

relay_once udp
relay_once tcp
[ $fail = 0 ] || exit 1
echo "PASS: lab_relay"
