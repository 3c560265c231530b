#!/usr/bin/env bash
# harness_programs.sh <p2pd_agent> <p2pd_harness> - CTest "harness_programs":
# the harness's two programs as a user runs them, on loopback. Two agents
# on free ports; p2pd_harness with a scenario file: exit 0, one "result"
# line per run (direct, same-host), the matrix's TCP table, the agents quit
# (--quit) and end. Then: a wrong token (exit 1, refused), an agent that is
# not there (exit 1, refused), bad arguments and a bad scenario (exit 2).
# Every program runs under `timeout`, every read is bounded.
set -uo pipefail
AGENT=${1:-} HARNESS=${2:-}
[ -x "$AGENT" ] && [ -x "$HARNESS" ] || { echo "FAIL: usage: $0 <p2pd_agent> <p2pd_harness>"; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() { local p; for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/token"
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/wrong"

# start_agent <name>: its port in PORT_<name>
start_agent() {
  local fd line pid
  exec {fd}< <(exec timeout 100 "$AGENT" --listen 127.0.0.1:0 --name "$1" --token-file "$tmp/token" \
    --data-dir "$tmp/$1" --interfaces lo 2> "$tmp/$1.err")
  pid=$!; pids+=("$pid")
  while IFS= read -r -t 10 -u "$fd" line; do
    if [[ $line =~ ^listening\ 127\.0\.0\.1:([0-9]+)\ name= ]]; then
      printf -v "PORT_$1" '%s' "${BASH_REMATCH[1]}"; printf -v "FD_$1" '%s' "$fd"; printf -v "PID_$1" '%s' "$pid"; return 0
    fi
  done
  bad "agent $1 said nothing about where it listens"; cat "$tmp/$1.err"; return 1
}
start_agent a1 || exit 1
start_agent a2 || exit 1

cat > "$tmp/scenario" <<END
# two agents on loopback, direct connects over TCP
agent a1 127.0.0.1:$PORT_a1 label left
agent a2 127.0.0.1:$PORT_a2 label right
pair a1 a2 transports tcp strategies direct runs 2
END

# A wrong token first (the agents must still be there afterwards).
timeout 60 "$HARNESS" --scenario "$tmp/scenario" --token-file "$tmp/wrong" > "$tmp/w.out" 2> "$tmp/w.err"; rc=$?
[ $rc = 1 ] || bad "wrong token: exit $rc (want 1)"
grep -q 'auth_refused' "$tmp/w.err" || { bad "wrong token: no auth_refused on stderr"; cat "$tmp/w.err"; }
grep -q '^result .* ok=0 ' "$tmp/w.out" || bad "wrong token: no failed result line"
grep -q 'refused a request with a wrong token' "$tmp/a1.err" || bad "agent a1 did not log the refusal"

timeout 60 "$HARNESS" --scenario "$tmp/scenario" --token-file "$tmp/token" --quit \
  --out "$tmp/matrix.md" > "$tmp/h.out" 2> "$tmp/h.err"; rc=$?
cat "$tmp/h.out"
[ $rc = 0 ] || { bad "p2pd_harness: exit $rc"; cat "$tmp/h.err"; }
[ "$(grep -c '^result pair=left~right transport=tcp run=[12] .* ok=1 strategy=direct .*path=same-host ' "$tmp/h.out")" = 2 ] \
  || bad "not two result lines of direct same-host connects"
grep -q '^result .* run=1 from=a1 to=a2 ' "$tmp/h.out" || bad "run 1 is not from a1"
grep -q '^result .* run=2 from=a2 to=a1 ' "$tmp/h.out" || bad "run 2 is not from a2"
grep -q '^| left - right | - | 2/2 | .* | direct |$' "$tmp/matrix.md" || bad "no TCP row in --out"
# --quit: both agents end by themselves, exit 0.
for a in a1 a2; do
  fd_var=FD_$a; pid_var=PID_$a
  cat <&"${!fd_var}" > "$tmp/$a.rest"; wait "${!pid_var}"; rc=$?
  [ $rc = 0 ] || bad "agent $a: exit $rc after quit"
  grep -q '^ended$' "$tmp/$a.rest" || bad "agent $a did not say it ended"
done

# Nobody listens there now: refused, exit 1, within the bound.
timeout 30 "$HARNESS" --agents "x=127.0.0.1:$PORT_a1,y=127.0.0.1:$PORT_a2" --pairs x:y \
  --token-file "$tmp/token" > "$tmp/n.out" 2> "$tmp/n.err"; rc=$?
[ $rc = 1 ] || bad "no agents: exit $rc (want 1)"
grep -q 'refused (no agent listens there)' "$tmp/n.err" || { bad "no agents: not said"; cat "$tmp/n.err"; }

# Bad arguments: exit 2 with the reason.
expect_usage() { # <what it must say> <program and args...>
  local says=$1; shift
  timeout 10 "$@" > "$tmp/u.out" 2> "$tmp/u.err"; local rc=$?
  [ $rc = 2 ] || bad "$*: exit $rc (want 2)"
  grep -q -- "$says" "$tmp/u.err" || { bad "$*: does not say '$says'"; cat "$tmp/u.err"; }
}
expect_usage "wildcard" "$AGENT" --listen 0.0.0.0:0 --token-file "$tmp/token" --data-dir "$tmp/x"
expect_usage "is needed" "$AGENT" --token-file "$tmp/token" --data-dir "$tmp/x"
echo short > "$tmp/short"
expect_usage "at least 16" "$AGENT" --listen 127.0.0.1:0 --token-file "$tmp/short" --data-dir "$tmp/x"
expect_usage "cert.pem" "$AGENT" --listen 127.0.0.1:0 --token-file "$tmp/token" --data-dir "$tmp/x" \
  --tls-dir "$tmp/nowhere"
expect_usage "cert.pem" "$HARNESS" --agents a=127.0.0.1:1,b=127.0.0.1:2 --pairs a:b \
  --token-file "$tmp/token" --tls-dir "$tmp/nowhere"
printf 'agent a1 127.0.0.1:1\nbogus line\n' > "$tmp/bad.scenario"
expect_usage "line 2" "$HARNESS" --scenario "$tmp/bad.scenario" --token-file "$tmp/token"
expect_usage "not first:second" "$HARNESS" --agents a=127.0.0.1:1,b=127.0.0.1:2 --pairs ab --token-file "$tmp/token"

[ $fails = 0 ] && echo PASS || { echo "FAIL: $fails check(s)"; exit 1; }
