#!/usr/bin/env bash
# help.sh <p2pd> - CTest "p2pd_cli_help": --help of the program and of every
# command (listed from `p2pd --help`) exits 0 with the usage on stdout; an
# unknown option, a bad value, a missing argument and no command exit 2
# with the reason on stderr.
P2PD=${1:-}; source "$(dirname "$0")/lib.sh"

expect() { # expect <want rc> <args...>
  local want=$1 rc; shift
  timeout 20 "$P2PD" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ "$rc" = "$want" ]; then ok "p2pd $* -> $rc $(head -1 "$tmp/err")"
  else bad "p2pd $* -> $rc (want $want)"; cat "$tmp/out" "$tmp/err"; fi
}

expect 0 --help
grep -q "^Usage: p2pd" "$tmp/out" || bad "p2pd --help prints no usage"
cmds=$("$P2PD" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ "$(echo "$cmds" | wc -w)" -ge 8 ] || bad "p2pd --help lists $(echo $cmds | wc -w) commands: $cmds"
for c in $cmds; do
  expect 0 "$c" --help
  grep -q "^Usage: p2pd $c" "$tmp/out" || bad "p2pd $c --help prints no usage"
done
for c in register lookup delete; do expect 0 name "$c" --help; done

expect 2
expect 2 --bogus
expect 2 netcheck --bogus
expect 2 nosuchcommand
expect 2 node --port 0
expect 2 node --port 70000
expect 2 node --nat4 not_a_nat
expect 2 netcheck --servers /nonexistent/servers.conf
expect 2 connect
expect 2 connect p2pd1_x --strategies direct,teleport
expect 2 ping p2pd1_x -c 0
expect 2 stun-server
expect 2 stun-server not_an_ip
expect 2 name
expect 2 name lookup
finish
