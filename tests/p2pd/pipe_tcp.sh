#!/usr/bin/env bash
# pipe_tcp.sh <p2pd> - CTest "p2pd_cli_pipe_tcp": `p2pd listen` and `p2pd
# connect` on loopback, offline (a direct TLS connection), like netcat:
#   1. a 1 MB random file from connect's stdin to listen's stdout, compared
#      with cmp; both exit 0 once stdin ended (connect) and the peer closed
#      (listen), and connect's report says strategy=direct path=same-host;
#   2. the other way: listen's stdin to connect's stdout (connect -d);
#   3. a line each way in one session (listen's stdin held open until it
#      got connect's line, then answered);
#   4. bytes that look like the program's control messages ("\0p2pd:bye",
#      "\0p2pd:ping 1") pass through unchanged (tools/p2pd/control.hpp);
#   5. a stream of nothing but "\0p2pd:ping 1" (240 kB): stdin's 16 KiB
#      chunks begin at a look-alike, inside one, or across two, and each
#      chunk is one message (node links are length-prefixed), so it passes
#      unchanged;
#   6. stdin that cannot be read (a directory: EISDIR) ends the session as
#      its end would, but connect exits 1, saying why;
#   7. a peer that ends the session before it confirmed our last bytes
#      (its stdout is /dev/full: it ends at the first write) is exit 4.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"
head -c 1000000 /dev/urandom >"$tmp/big"

# 1. connect -> listen
listen_bg "$tmp/got1" "$tmp/l1.err" --data-dir "$tmp/a" -d
timeout 60 "$P2PD" connect --interfaces lo --data-dir "$tmp/b" "$addr" <"$tmp/big" \
  >"$tmp/c1.out" 2>"$tmp/c1.err"; rc=$?
check "connect exits 0 after sending 1 MB (got $rc)" test "$rc" = 0
wait "$listen_pid"; lrc=$?
check "listen exits 0 when the peer closed (got $lrc)" test "$lrc" = 0
check "listen's stdout is the file (cmp)" cmp -s "$tmp/big" "$tmp/got1"
check "connect's report on stderr: direct, same-host" \
  grep -q "^connected strategy=direct path=same-host .* transport=tcp" "$tmp/c1.err"
check "connect's stdout stays empty" test ! -s "$tmp/c1.out"
check "listen says its address on stderr" grep -q "^address=p2pd1_" "$tmp/l1.err"
[ "$fails" = 0 ] || cat "$tmp/c1.err" "$tmp/l1.err"

# 2. listen -> connect
listen_bg "$tmp/l2.out" "$tmp/l2.err" --data-dir "$tmp/a" <"$tmp/big"
timeout 60 "$P2PD" connect -d --interfaces lo --data-dir "$tmp/b" "$addr" \
  >"$tmp/got2" 2>"$tmp/c2.err"; rc=$?
wait "$listen_pid"; lrc=$?
check "connect -d exits 0 when the peer closed (got $rc), listen 0 (got $lrc)" \
  test "$rc" = 0 -a "$lrc" = 0
check "connect's stdout is the file (cmp)" cmp -s "$tmp/big" "$tmp/got2"

# 3. a line each way: listen answers once it got the question.
mkfifo "$tmp/answer"
exec {hold}<>"$tmp/answer"
listen_bg "$tmp/l3.out" "$tmp/l3.err" --data-dir "$tmp/a" <"$tmp/answer"
mkfifo "$tmp/question"
exec {ask}<>"$tmp/question"
# Not inherited by connect: its stdin must end when the test closes {ask}.
timeout 60 "$P2PD" connect --interfaces lo --data-dir "$tmp/b" "$addr" <"$tmp/question" \
  >"$tmp/c3.out" 2>"$tmp/c3.err" {ask}>&- {hold}>&- &
cpid=$!; pids+=("$cpid")
echo "question from connect" >&"$ask"
check "listen got the question" wait_for 10 grep -q "^question from connect$" "$tmp/l3.out"
echo "answer from listen" >&"$hold"
check "connect got the answer" wait_for 10 grep -q "^answer from listen$" "$tmp/c3.out"
exec {ask}>&-   # connect's stdin ends: it closes, and listen ends too
wait "$cpid"; rc=$?
wait "$listen_pid"; lrc=$?
exec {hold}>&-
check "both exit 0 (connect $rc, listen $lrc)" test "$rc" = 0 -a "$lrc" = 0

# 4. control look-alikes: each file is one read, one chunk, one message.
for text in '\0p2pd:bye' '\0p2pd:ping 1' '\0p2pd:pong 7\n'; do
  printf "$text" >"$tmp/ctl"
  listen_bg "$tmp/got4" "$tmp/l4.err" --data-dir "$tmp/a" -d
  timeout 60 "$P2PD" connect --interfaces lo --data-dir "$tmp/b" "$addr" <"$tmp/ctl" \
    >/dev/null 2>"$tmp/c4.err"; rc=$?
  wait "$listen_pid"; lrc=$?
  check "'$text' passes unchanged (connect $rc, listen $lrc)" \
    eval 'test "$rc" = 0 -a "$lrc" = 0 && cmp -s "$tmp/ctl" "$tmp/got4"'
done

# 5. look-alikes at every cut of the stream.
printf '\0p2pd:ping 1%.0s' $(seq 20000) >"$tmp/ctls"
listen_bg "$tmp/got5" "$tmp/l5.err" --data-dir "$tmp/a" -d
timeout 60 "$P2PD" connect --interfaces lo --data-dir "$tmp/b" "$addr" <"$tmp/ctls" \
  >/dev/null 2>"$tmp/c5.err"; rc=$?
wait "$listen_pid"; lrc=$?
check "240 kB of look-alikes pass unchanged (connect $rc, listen $lrc)" \
  eval 'test "$rc" = 0 -a "$lrc" = 0 && cmp -s "$tmp/ctls" "$tmp/got5"'
[ "$fails" = 0 ] || cat "$tmp/c5.err" "$tmp/l5.err"

# 6. a stdin read that fails.
listen_bg "$tmp/got6" "$tmp/l6.err" --data-dir "$tmp/a" -d
timeout 60 "$P2PD" connect --interfaces lo --data-dir "$tmp/b" "$addr" <"$tmp" \
  >/dev/null 2>"$tmp/c6.err"; rc=$?
wait "$listen_pid"; lrc=$?
check "connect exits 1 when stdin cannot be read (got $rc), listen 0 (got $lrc)" \
  test "$rc" = 1 -a "$lrc" = 0
check "connect says why" grep -q "^p2pd: read stdin: Is a directory" "$tmp/c6.err"
[ "$fails" = 0 ] || cat "$tmp/c6.err" "$tmp/l6.err"

# 7. the peer ends before it confirmed: listen's first write fails.
listen_bg /dev/full "$tmp/l7.err" --data-dir "$tmp/a" -d
echo "never written" | timeout 60 "$P2PD" connect --interfaces lo --data-dir "$tmp/b" "$addr" \
  >/dev/null 2>"$tmp/c7.err"; rc=$?
wait "$listen_pid"; lrc=$?
check "connect exits 4 when the peer ended before confirming (got $rc), listen 0 (got $lrc)" \
  test "$rc" = 4 -a "$lrc" = 0
check "connect says so" grep -q "ended the session before confirming our last 14 bytes" "$tmp/c7.err"
[ "$fails" = 0 ] || cat "$tmp/c7.err" "$tmp/l7.err"
finish
