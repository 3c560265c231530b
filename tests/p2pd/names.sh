#!/usr/bin/env bash
# names.sh <p2pd> <name_server> - CTest "p2pd_cli_names": with tools/
# name_server on loopback (SQLite in the test's directory): `p2pd name
# register` stores a listening node's address under a name, `lookup` prints
# it, `p2pd connect NAME` reaches the node through it, another key cannot
# take the name (exit 1, "taken"), `delete` frees it and lookup then finds
# nothing (exit 1) and says the owner deleted it (the server's tombstone).
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"
NS=${2:-}
[ -x "$NS" ] || { echo "FAIL: usage: $0 <p2pd> <name_server>"; exit 1; }
start_name_server "$NS"
echo "name 127.0.0.1:$name_port" >"$tmp/servers"
name=alice.p2pd.test

listen_bg "$tmp/got" "$tmp/l.err" --data-dir "$tmp/a" -d
timeout 30 "$P2PD" name register "$name" "$addr" --servers "$tmp/servers" --data-dir "$tmp/a" \
  >"$tmp/r.out" 2>"$tmp/r.err"; rc=$?
check "register exits 0 (got $rc): $(cat "$tmp/r.out")" test "$rc" = 0
check "the server stored it" grep -q "^stored 127.0.0.1:$name_port" "$tmp/r.err"
found=$(timeout 30 "$P2PD" name lookup "$name" --servers "$tmp/servers")
check "lookup prints the address" test "$found" = "$addr"

echo "hello by name" | timeout 60 "$P2PD" connect "$name" --servers "$tmp/servers" \
  --interfaces lo --data-dir "$tmp/b" >/dev/null 2>"$tmp/c.err"; rc=$?
check "connect by name exits 0 (got $rc)" test "$rc" = 0
wait "$listen_pid"
check "the node got the bytes" grep -q "^hello by name$" "$tmp/got"
[ "$fails" = 0 ] || cat "$tmp/c.err" "$tmp/l.err"

timeout 30 "$P2PD" name register "$name" "$addr" --servers "$tmp/servers" --data-dir "$tmp/b" \
  >/dev/null 2>"$tmp/t.err"; rc=$?
check "another key cannot take it: exit $rc, $(grep refused "$tmp/t.err")" \
  test "$rc" = 1 -a -n "$(grep -l taken "$tmp/t.err")"
timeout 30 "$P2PD" name delete "$name" --servers "$tmp/servers" --data-dir "$tmp/a" >/dev/null 2>&1
check "delete exits 0" test $? = 0
timeout 30 "$P2PD" name lookup "$name" --servers "$tmp/servers" >"$tmp/l2.out" 2>"$tmp/l2.err"; rc=$?
check "after delete, lookup finds nothing: exit $rc, $(cat "$tmp/l2.err")" \
  test "$rc" = 1 -a ! -s "$tmp/l2.out"
check "and says who deleted it" grep -q "deleted by the holder of key" "$tmp/l2.err"
finish
