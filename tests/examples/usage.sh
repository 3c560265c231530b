#!/usr/bin/env bash
# usage.sh <program> <name> [<good args...>] - CTest "examples_usage_<name>":
# an example program refuses bad arguments (an unknown option, a port that is
# not a number or out of 1..65535, a stray argument) with a usage message on
# stderr and exit code 2, before doing anything; --help prints the usage on
# stdout and exits 0. Nothing is served or sent.
set -uo pipefail
PROG=${1:-}
NAME=${2:-}
[ -x "$PROG" ] && [ -n "$NAME" ] || { echo "FAIL: usage: $0 <program> <name>"; exit 1; }

fails=0
out=$(mktemp); err=$(mktemp); trap 'rm -f "$out" "$err"' EXIT
expect() {   # expect <want exit> <stream: out|err> <args...>
  local want=$1 stream=$2 rc; shift 2
  timeout 20 "$PROG" "$@" >"$out" 2>"$err"; rc=$?
  local where=$out; [ "$stream" = err ] && where=$err
  if [ "$rc" != "$want" ] || ! grep -q "^usage: " "$where"; then
    echo "FAIL: $NAME $* -> exit $rc (want $want, usage on std$stream); stdout:"
    cat "$out"; echo "stderr:"; cat "$err"
    fails=$((fails + 1))
  else
    echo "ok: $NAME $* -> exit $rc: $(head -1 "$err")"
  fi
}

expect 0 out --help
expect 2 err --bogus
expect 2 err --bogus=1
case "$NAME" in
  stun_server)
    for p in abc 70000 -1 65536 "" 12x; do expect 2 err 127.0.0.1 --port "$p"; done
    expect 2 err 127.0.0.1 127.0.0.2 --alt-port 99999
    expect 2 err 127.0.0.1 --port
    expect 2 err                     # no IP
    expect 2 err not-an-ip
    expect 2 err 127.0.0.1 127.0.0.2 127.0.0.3
    ;;
  turn_server)
    for p in abc 70000 -1 ""; do expect 2 err 127.0.0.1 a:b --port "$p"; done
    expect 2 err 127.0.0.1                 # no user
    expect 2 err 127.0.0.1 alice           # not user:password
    expect 2 err 127.0.0.1 :pw
    expect 2 err not-an-ip a:b
    expect 2 err 0.0.0.0 a:b               # relays need an address peers reach
    for r in 5- -5 abc 2000-1000 0-5 1-70000; do expect 2 err 127.0.0.1 a:b --relay-ports "$r"; done
    expect 2 err 127.0.0.1 a:b --realm
    ;;
  echo_daemon)
    for p in abc 70000 0 -1 ""; do expect 2 err --port "$p"; done
    expect 2 err --port
    expect 2 err stray
    ;;
  interface)
    expect 2 err --servers
    expect 2 err --dns-timeout abc
    expect 2 err --dns-timeout 0
    expect 2 err lo extra
    expect 2 err --nat4 cone lo
    expect 2 err --nat6 symmetric/sideways lo
    expect 2 err --nat4 full_cone/equal:3 lo   # a step only for (in)dependent
    # A given NAT is reported as given, offline (no servers, nothing sent).
    timeout 20 "$PROG" --nat4 symmetric/independent:2 lo >"$out" 2>"$err"; rc=$?
    if [ "$rc" != 0 ] || ! grep -q "^v4 nat=symmetric delta=independent delta_value=2 " "$out"; then
      echo "FAIL: $NAME --nat4 symmetric/independent:2 lo -> exit $rc; stdout:"
      cat "$out"; echo "stderr:"; cat "$err"
      fails=$((fails + 1))
    else
      echo "ok: $NAME --nat4 symmetric/independent:2 lo -> $(head -1 "$out")"
    fi
    ;;
  p2p_node)
    for p in abc 70000 -1; do expect 2 err --port "$p"; done
    expect 2 err --timeout 0
    expect 2 err --timeout abc
    expect 2 err --answer 0
    expect 2 err --strategies teleport
    expect 2 err --transport sctp
    expect 2 err --strategies ,
    expect 2 err --families 5
    expect 2 err --connect
    expect 2 err stray
    ;;
  nat_probe)
    expect 2 err 127.0.0.1:70000
    expect 2 err 127.0.0.1:abc
    expect 2 err
    ;;
  node_chat)
    expect 2 err --reverse=yes
    expect 2 err stray
    ;;
  signal_chat)
    expect 2 err not-a-uri
    expect 2 err tcp://127.0.0.1:1883 extra
    ;;
  *)  # programs without arguments
    expect 2 err stray
    expect 2 err --port 1
    ;;
esac

[ "$fails" = 0 ] && echo "PASS" || { echo "FAIL: $fails case(s)"; exit 1; }
