#!/usr/bin/env bash
# man.sh <p2pd> <p2pd.1> - CTest "p2pd_cli_man": the manual page the build
# wrote (target p2pd_man) is what `p2pd --man` writes now, renders with
# groff's man macros (or man -l) without warnings, and names every command
# (those `p2pd --help` lists, and name's register, lookup and delete) and
# the exit codes.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"
PAGE=${2:-}
[ -s "$PAGE" ] || { echo "FAIL: no manual page at '$PAGE'"; exit 1; }

"$P2PD" --man >"$tmp/p2pd.1"; rc=$?
check "p2pd --man exits 0 (got $rc)" test "$rc" = 0
check "the built page is p2pd --man's" cmp -s "$PAGE" "$tmp/p2pd.1"
check "the page starts with .TH" grep -q '^\.TH P2PD 1' "$PAGE"
for s in NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS"; do
  check "section $s" grep -q "^\.SH \"\?$s" "$PAGE"
done
if command -v groff >/dev/null; then
  groff -man -Tutf8 -ww -z "$PAGE" 2>"$tmp/warn"
  check "groff renders it without warnings" test ! -s "$tmp/warn"
  cat "$tmp/warn"
  groff -man -Tutf8 "$PAGE" 2>/dev/null | sed 's/.\x08//g' >"$tmp/text"
elif command -v man >/dev/null; then
  MANWIDTH=100 man -l "$PAGE" 2>"$tmp/warn" | col -b >"$tmp/text"
  check "man -l renders it without warnings" test ! -s "$tmp/warn"
else
  echo "SKIP: neither groff nor man to render it"; exit 77
fi
check "the rendered page has text" test -s "$tmp/text"
for c in $("$P2PD" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }') \
         "name register" "name lookup" "name delete"; do
  check "the page names p2pd $c" grep -q "p2pd $c" "$tmp/text"
done
check "the page lists exit code 3" grep -q "connect failed" "$tmp/text"
finish
