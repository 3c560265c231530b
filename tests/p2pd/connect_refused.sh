#!/usr/bin/env bash
# connect_refused.sh <p2pd> - CTest "p2pd_cli_connect_refused": connects
# that cannot succeed exit 3 with the reason on stderr and nothing on
# stdout: a tampered address (one character changed: the signature does not
# check), an address of a node that has ended (nobody listens: every
# attempt refused), text that is no address, and a name with no name
# server to ask.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"

expect3() { # expect3 <what> <pattern on stderr> <target>
  timeout 60 "$P2PD" connect --interfaces lo --data-dir "$tmp/b" --timeout 5 "$3" </dev/null \
    >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ "$rc" = 3 ] && grep -q "$2" "$tmp/err" && [ ! -s "$tmp/out" ]; then
    ok "$1 -> exit 3: $(grep '^p2pd: ' "$tmp/err" | cut -c1-160)"
  else
    bad "$1 -> exit $rc (want 3, '$2' on stderr)"; cat "$tmp/out" "$tmp/err"
  fi
}

listen_bg "$tmp/l.out" "$tmp/l.err" --data-dir "$tmp/a" -d
kill -TERM "$listen_pid"; wait "$listen_pid"; lrc=$?
check "listen stopped by SIGTERM exits 0 (got $lrc)" test "$lrc" = 0
mid=$(( ${#addr} / 2 ))
if [ "${addr:$mid:1}" = a ]; then c=b; else c=a; fi
expect3 "a tampered address" "signature does not check out" "${addr:0:$mid}$c${addr:$((mid + 1))}"
expect3 "the address of a node that ended" "p2pd: connect p2pd1_" "$addr"
expect3 "text that is no address" "does not\|not a\|malformed\|invalid" "p2pd1_garbage"
expect3 "a name without name servers" "no name server" "no-such-name"
finish
