#!/usr/bin/env bash
# connect_unconfirmed.sh <p2pd> <p2p_node> - CTest "p2pd_cli_connect_unconfirmed":
# a peer that is no p2pd program (tools/p2p_node, serving) never answers the
# pings that confirm what `p2pd connect` sent: with 1 MB on stdin the window
# fills, and connect ends within its --timeout with exit 4 and the reason on
# stderr, instead of waiting for ever.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"
NODE=${2:-}
[ -x "$NODE" ] || { echo "FAIL: usage: $0 <p2pd> <p2p_node>"; exit 1; }
head -c 1000000 /dev/urandom >"$tmp/big"

bg "$NODE" --interfaces lo --data-dir "$tmp/a" --timeout 30 --answer 1000000 \
  >"$tmp/n.out" 2>"$tmp/n.err"
wait_for 10 grep -q "^address=" "$tmp/n.out" || { bad "p2p_node printed no address"; cat "$tmp/n.err"; finish; }
addr=$(sed -n 's/^address=//p' "$tmp/n.out" | head -1)

start=$SECONDS
timeout 60 "$P2PD" connect --interfaces lo --data-dir "$tmp/b" --timeout 2 "$addr" \
  <"$tmp/big" >/dev/null 2>"$tmp/c.err"; rc=$?
took=$((SECONDS - start))
check "exit 4 (got $rc)" test "$rc" = 4
check "within 10 s (took $took s)" test "$took" -le 10
check "the reason on stderr: $(grep -v '^connected\|^attempt' "$tmp/c.err" | head -1)" \
  grep -q "confirmed none of our last .* bytes within 2 s" "$tmp/c.err"
finish
