#!/usr/bin/env bash
# ping.sh <p2pd> - CTest "p2pd_cli_ping": `p2pd node` on loopback answers
# `p2pd ping -c 3`: three rounds, each with its rtt, strategy and path, a
# summary, exit 0; the node says the peer came and went, and ends with exit
# 0 on SIGINT. A ping of `p2pd listen` is answered too.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"

bg "$P2PD" node --interfaces lo --data-dir "$tmp/a" --no-api >"$tmp/n.out" 2>"$tmp/n.err"
node_pid=$last_pid
wait_for 10 grep -q "^address=" "$tmp/n.out" || { bad "the node printed no address"; cat "$tmp/n.err"; finish; }
addr=$(sed -n 's/^address=//p' "$tmp/n.out" | head -1)
check "the node prints its id" grep -Eq "^ready id=[a-z2-7]{32} " "$tmp/n.out"

timeout 60 "$P2PD" ping -c 3 -i 0.1 --interfaces lo --data-dir "$tmp/b" "$addr" \
  >"$tmp/p.out" 2>"$tmp/p.err"; rc=$?
cat "$tmp/p.out"
check "ping exits 0 (got $rc)" test "$rc" = 0
check "three rounds" test "$(grep -Ec '^seq=[1-3] rtt_ms=[0-9.]+ strategy=direct path=same-host transport=tcp$' "$tmp/p.out")" = 3
check "the summary: 3 of 3" grep -q "^pings sent=3 answered=3 " "$tmp/p.out"
check "the node saw the peer come" wait_for 5 grep -q "^peer_up " "$tmp/n.out"
check "and go" wait_for 5 grep -q "^peer_end .*reason=none" "$tmp/n.out"
kill -INT "$node_pid"; wait "$node_pid"; nrc=$?
check "the node ends on SIGINT with exit 0 (got $nrc)" test "$nrc" = 0

listen_bg "$tmp/l.out" "$tmp/l.err" --data-dir "$tmp/a" -d
timeout 60 "$P2PD" ping -c 2 -i 0.1 --interfaces lo --data-dir "$tmp/b" "$addr" \
  >"$tmp/p2.out" 2>"$tmp/p2.err"; rc=$?
check "listen answers pings: exit $rc, $(grep -c '^seq=' "$tmp/p2.out") rounds" \
  test "$rc" = 0 -a "$(grep -c '^seq=.* rtt_ms=' "$tmp/p2.out")" = 2
wait "$listen_pid"; lrc=$?
check "listen ends when the pinger closed (got $lrc)" test "$lrc" = 0
check "and printed nothing of the pings" test ! -s "$tmp/l.out"
finish
