#!/usr/bin/env bash
# id.sh <p2pd> - CTest "p2pd_cli_id": `p2pd id` creates the identity in a
# fresh data directory (key file 0600, directory 0700), prints the same
# 32-character id on every run, another id for another directory, and
# refuses a key file others may read (exit 1, the reason on stderr).
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"

first=$(timeout 20 "$P2PD" id --data-dir "$tmp/d")
check "p2pd id prints a node id ($first)" grep -Eq '^[a-z2-7]{32}$' <<<"$first"
check "the key file is 0600" test "$(stat -c %a "$tmp/d/identity.key")" = 600
check "the directory is 0700" test "$(stat -c %a "$tmp/d")" = 700
second=$(timeout 20 "$P2PD" id --data-dir "$tmp/d")
check "the id is stable across runs" test "$first" = "$second"
third=$(P2PD_DATA_DIR="$tmp/d" timeout 20 "$P2PD" id)
check "P2PD_DATA_DIR names the same directory" test "$first" = "$third"
other=$(timeout 20 "$P2PD" id --data-dir "$tmp/e")
check "another directory, another id" test -n "$other" -a "$other" != "$first"
chmod 644 "$tmp/d/identity.key"
timeout 20 "$P2PD" id --data-dir "$tmp/d" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a key file others may read is refused: exit $rc, $(cat "$tmp/err")" \
  test "$rc" = 1 -a ! -s "$tmp/out"
check "the reason names the mode" grep -q "0644" "$tmp/err"
finish
