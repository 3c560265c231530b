#!/usr/bin/env bash
# pipe_udp.sh <p2pd> - CTest "p2pd_cli_pipe_udp": `p2pd connect --udp` to
# `p2pd listen` on loopback: sealed datagrams after a UDP punch, signalled
# through a mosquitto of the test's own (both nodes told their NAT:
# open_internet, so no STUN server is needed). A 1 MB random file each way,
# compared with cmp (loopback loses nothing at this pace), and the report
# says strategy=punch transport=udp; and 240 kB of nothing but "\0p2pd:ping 1"
# (each 1200-byte datagram begins with one) passes unchanged. Skipped (77)
# without mosquitto.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"
start_mosquitto
echo "mqtt tcp://127.0.0.1:$mqtt_port" >"$tmp/servers"
common=(--servers "$tmp/servers" --nat4 open_internet)
head -c 1000000 /dev/urandom >"$tmp/big"

listen_bg "$tmp/got1" "$tmp/l1.err" --data-dir "$tmp/a" "${common[@]}" -d
timeout 60 "$P2PD" connect --udp --interfaces lo --data-dir "$tmp/b" "${common[@]}" "$addr" \
  <"$tmp/big" >/dev/null 2>"$tmp/c1.err"; rc=$?
wait "$listen_pid"; lrc=$?
check "connect --udp exits 0 (got $rc), listen 0 (got $lrc)" test "$rc" = 0 -a "$lrc" = 0
check "the report: punch over UDP" grep -q "^connected strategy=punch .* transport=udp" "$tmp/c1.err"
check "listen's stdout is the file (cmp)" cmp -s "$tmp/big" "$tmp/got1"
[ "$fails" = 0 ] || cat "$tmp/c1.err" "$tmp/l1.err"

listen_bg "$tmp/l2.out" "$tmp/l2.err" --data-dir "$tmp/a" "${common[@]}" <"$tmp/big"
timeout 60 "$P2PD" connect --udp -d --interfaces lo --data-dir "$tmp/b" "${common[@]}" "$addr" \
  >"$tmp/got2" 2>"$tmp/c2.err"; rc=$?
wait "$listen_pid"; lrc=$?
check "the other way: connect $rc, listen $lrc (want 0, 0)" test "$rc" = 0 -a "$lrc" = 0
check "connect's stdout is the file (cmp)" cmp -s "$tmp/big" "$tmp/got2"
[ "$fails" = 0 ] || cat "$tmp/c2.err" "$tmp/l2.err"

# Control look-alikes at the start of every datagram.
printf '\0p2pd:ping 1%.0s' $(seq 20000) >"$tmp/ctls"
listen_bg "$tmp/got3" "$tmp/l3.err" --data-dir "$tmp/a" "${common[@]}" -d
timeout 60 "$P2PD" connect --udp --interfaces lo --data-dir "$tmp/b" "${common[@]}" "$addr" \
  <"$tmp/ctls" >/dev/null 2>"$tmp/c3.err"; rc=$?
wait "$listen_pid"; lrc=$?
check "240 kB of look-alikes pass unchanged (connect $rc, listen $lrc)" \
  eval 'test "$rc" = 0 -a "$lrc" = 0 && cmp -s "$tmp/ctls" "$tmp/got3"'
[ "$fails" = 0 ] || cat "$tmp/c3.err" "$tmp/l3.err"
finish
