#!/usr/bin/env bash
# nat_probe_args.sh <nat_probe> - CTest "tools_nat_probe_args": bad
# arguments give a usage message on stderr and exit 2, --help the usage on
# stdout and exit 0, and a server that answers nothing (a loopback port
# nobody listens on, UDP or TCP) "server unreachable" and exit 1. Only
# loopback is ever sent to.
set -uo pipefail
PROBE=${1:-}
[ -x "$PROBE" ] || { echo "FAIL: usage: $0 <path to nat_probe>"; exit 1; }

fails=0
err=$(mktemp); trap 'rm -f "$err"' EXIT
expect() {   # expect <want exit> <stream pattern> <args...>
  local want=$1 pat=$2 out rc; shift 2
  out=$(timeout 60 "$PROBE" "$@" 2>"$err"); rc=$?
  if [ "$rc" != "$want" ] || ! grep -q -- "$pat" <<< "$out$(cat "$err")"; then
    echo "FAIL: nat_probe $* -> exit $rc (want $want), output:"; echo "$out"; cat "$err"
    fails=$((fails + 1))
  else
    echo "ok: nat_probe $* -> exit $rc"
  fi
}
for bad in "" "abc" "127.0.0.1" "127.0.0.1:0" "127.0.0.1:70000" "127.0.0.1:abc" "--bogus" \
           "[::1]" "999.1.1.1:3478"; do
  if [ -z "$bad" ]; then expect 2 "^usage: " ; else expect 2 "^usage: " "$bad"; fi
done
expect 2 "^usage: " 127.0.0.1:3478 nonsense   # one bad among good ones
expect 0 "^usage: " --help

# A loopback port with no UDP or TCP listener, looked up just before use
# (bounded tries; a port taken in between would still not answer STUN).
port=
for ((i = 0; i < 50; i++)); do
  p=$((20000 + RANDOM % 40000))
  if ! ss -H -lnu "sport = :$p" | grep -q . && ! ss -H -lnt "sport = :$p" | grep -q .; then port=$p; break; fi
done
if [ -z "$port" ]; then echo "FAIL: no free loopback port found"; exit 1; fi
expect 1 "server unreachable" "127.0.0.1:$port"

[ "$fails" = 0 ] && echo "PASS" || { echo "FAIL: $fails case(s)"; exit 1; }
