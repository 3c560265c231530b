#!/usr/bin/env bash
# snippets_selftest.sh <snippets.sh> <compile command file> <work dir> <fixture dir> -
# CTest "examples_doc_snippets_selftest": snippets.sh on fixtures/snippets.md
# finds its four cpp blocks and no other, passes the three that compile (one
# of each kind), fails the one that does not with the compiler's error at
# the Markdown line (33), and exits 1.
set -uo pipefail
[ $# = 4 ] || { echo "FAIL: usage: $0 <snippets.sh> <compile command file> <work dir> <fixture dir>"; exit 1; }
out=$(bash "$@" 2>&1); rc=$?
echo "$out"
fails=0
expect() {   # expect <regex>: a line of the output matches
  if grep -qE -- "$1" <<<"$out"; then echo "ok: $1"; else echo "FAIL: no line matches $1"; fails=$((fails + 1)); fi
}
[ "$rc" = 1 ] && echo "ok: exit 1" || { echo "FAIL: exit $rc, want 1"; fails=$((fails + 1)); }
expect '^ok: snippets\.md:6 \(statements\)$'
expect '^ok: snippets\.md:16 \(in int f\(const std::string& host\)\)$'
expect '^ok: snippets\.md:23 \(program\)$'
expect '^FAIL: snippets\.md:31 \(statements\) does not compile:$'
expect "snippets\.md:33:[0-9]+: error: .*no_such_name"
expect '^FAIL: 1 of 4 snippet\(s\)$'
[ "$fails" = 0 ] && echo "PASS" || { echo "FAIL: $fails check(s)"; exit 1; }
