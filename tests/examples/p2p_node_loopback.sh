#!/usr/bin/env bash
# p2p_node_loopback.sh <p2p_node> - CTest "tools_p2p_node_loopback": the
# node tool on loopback, offline (no server file: a private hub, direct
# connects only). A serving node prints its address; a second node reads it
# on stdin, connects (report: strategy=direct path=same-host), sends one
# message and gets its answer; both exit 0. Then the exit codes: 3 for an
# address that does not verify, 4 for a serving node nobody talks to and
# for a connecting one that gets no address, within --timeout. Every run is under `timeout`, every read bounded (read -t).
set -uo pipefail
PROG=${1:-}
[ -x "$PROG" ] || { echo "FAIL: usage: $0 <path to tools/p2p_node>"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The serving node, its output read line by line up to its address.
exec {fd}< <(exec timeout 30 "$PROG" --interfaces lo --data-dir "$tmp/a" --timeout 10 \
  2>"$tmp/a.err")
pid=$!
addr=
while IFS= read -r -t 10 -u "$fd" line; do
  echo "a: $line"
  if [[ $line == address=* ]]; then addr=${line#address=}; break; fi
done
if [ -z "$addr" ]; then
  bad "the serving node printed no address within 10 s"; cat "$tmp/a.err"
else
  timeout 30 "$PROG" --interfaces lo --data-dir "$tmp/b" --timeout 10 --connect - \
    --message ping <<< "$addr" > "$tmp/b.out" 2> "$tmp/b.err"; rc=$?
  sed 's/^/b: /' "$tmp/b.out"
  [ $rc = 0 ] || { bad "the connecting node: exit $rc"; cat "$tmp/b.err"; }
  grep -q '^connected strategy=direct path=same-host ' "$tmp/b.out" \
    || bad "no 'connected strategy=direct path=same-host' line"
  grep -q '^attempt ms=[0-9]* | direct .* | won$' "$tmp/b.out" || bad "no winning attempt line"
  grep -q '^reply from=.* text=re: ping$' "$tmp/b.out" || bad "no answer"
fi
rest=$(cat <&"$fd"); exec {fd}<&-
echo "$rest" | sed 's/^/a: /'
wait "$pid"; rc=$?
[ $rc = 0 ] || { bad "the serving node: exit $rc"; cat "$tmp/a.err"; }
grep -q '^message from=.* text=ping$' <<< "$rest" || bad "the serving node got no message"
grep -q '^served answered=1$' <<< "$rest" || bad "the serving node did not say it served"

# A tampered address (one character changed): refused, exit 3, the reason
# on stderr.
mid=$(( ${#addr} / 2 ))
if [ "${addr:$mid:1}" = a ]; then c=b; else c=a; fi
timeout 30 "$PROG" --interfaces lo --data-dir "$tmp/b" --timeout 10 --connect - \
  <<< "${addr:0:$mid}$c${addr:$((mid + 1))}" > "$tmp/c.out" 2> "$tmp/c.err"; rc=$?
if [ $rc = 3 ] && grep -q '^connect_failed' "$tmp/c.out"; then
  echo "ok: a tampered address -> exit 3: $(grep '^p2p_node: ' "$tmp/c.err")"
else
  bad "a tampered address -> exit $rc (want 3)"; cat "$tmp/c.out" "$tmp/c.err"
fi

# Nobody comes: the serving node ends after --timeout with exit 4.
timeout 30 "$PROG" --interfaces lo --data-dir "$tmp/a" --timeout 1 > "$tmp/d.out" 2> "$tmp/d.err"
rc=$?
if [ $rc = 4 ]; then echo "ok: nobody comes -> exit 4: $(tail -1 "$tmp/d.err")"
else bad "nobody comes -> exit $rc (want 4)"; cat "$tmp/d.err"; fi

# No address comes on stdin (a pipe held open, empty): exit 4 after --timeout.
mkfifo "$tmp/stdin"
exec {hold}<>"$tmp/stdin"
timeout 30 "$PROG" --interfaces lo --data-dir "$tmp/b" --timeout 1 --connect - \
  < "$tmp/stdin" > "$tmp/e.out" 2> "$tmp/e.err"; rc=$?
exec {hold}>&-
if [ $rc = 4 ]; then echo "ok: no address on stdin -> exit 4: $(tail -1 "$tmp/e.err")"
else bad "no address on stdin -> exit $rc (want 4)"; cat "$tmp/e.err"; fi

[ $fails = 0 ] && echo PASS || { echo "FAIL: $fails check(s)"; exit 1; }
