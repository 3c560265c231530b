#!/usr/bin/env bash
# node_lab.sh <p2p_node> - CTest "lab_node": P2P nodes (tools/p2p_node.cpp)
# across the lab's real NATs, with coturn as their STUN server and mosquitto as
# their signalling broker. For every site behind a NAT or firewall (all but
# the open one; P2PDLAB_NODE_MODES picks modes):
#   direct:  a node in that site connects to a node in the open site over
#            IPv4; the report must say strategy=direct path=external
#            family=v4, and the open node must see the connection come from
#            the site's public address (the router's WAN behind a NAT);
#   direct6: the same over IPv6 (no NAT there, the site's firewall only);
#   reverse: the open node connects to a node in that site with the default
#            strategies (direct, then reverse); direct cannot get in, so the
#            report must say strategy=reverse.
# Each time one message goes over the connection and is answered, both
# nodes end with exit 0, and the connect took less than its budgets. Every program runs under `timeout`; every read of
# their output is bounded (read -t). Exit 0 = pass, 1 = fail, 77 = skipped
# (not root, or no mosquitto in the lab).
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
LAB=$HERE/lab.sh
PROG=${1:-}
WAIT=${P2PDLAB_NODE_WAIT:-30}   # seconds: a node's start, a connect, an answer
# A connect must end within its strategies' budgets (node_spec: direct 2 s,
# reverse 4 s); the reverse one comes after direct failed.
DIRECT_MS=2000
REVERSE_MS=6000

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: lab_node needs root (network namespaces + nftables)"
  exit 77
fi
if [ -z "$PROG" ] || [ ! -x "$PROG" ]; then
  echo "FAIL: usage: $0 <path to tools/p2p_node>"
  exit 1
fi
PROG=$(readlink -f "$PROG")

tmp=$(mktemp -d)
cleanup() { "$LAB" down >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

# shellcheck source=expect.sh
. "$HERE/expect.sh"

echo "== lab.sh up"
if ! timeout 60 "$LAB" up; then echo "FAIL: lab.sh up"; exit 1; fi
eval "$("$LAB" env)"
if [ -z "${P2PDLAB_MQTT:-}" ]; then
  echo "SKIP: the lab has no MQTT broker (install mosquitto: scripts/install-deps.sh)"
  exit 77
fi
# The lab's server file: two STUN servers of each family (their answers must
# agree for an external address), the RFC 5780 server for the NAT type, the
# lab's broker and its NTP server.
cp "$P2PDLAB_SERVERS" "$tmp/servers.conf" || { echo "FAIL: no server file $P2PDLAB_SERVERS"; exit 1; }

site_var() { local v="P2PDLAB_SITE$1_$2"; echo "${!v:-}"; }
open_site=
i=1
while [ -n "$(site_var $i MODE)" ]; do
  [ "$(site_var $i MODE)" = open ] && [ -z "$open_site" ] && open_site=$i
  i=$((i + 1))
done
[ -n "$open_site" ] || { echo "FAIL: the lab has no open site (P2PDLAB_SITES)"; exit 1; }

fails=0
n_run=0
fail() { echo "  FAIL: $*"; fails=$((fails + 1)); }

# serve <site> <name>: starts a serving node in the site's host (background);
# reads its output up to its address (at most $WAIT s) into $tmp/<name>.out,
# then sets SERVE_PID, SERVE_FD and ADDR. Returns 1 if no address came.
serve() {
  local ns; ns=$(site_var "$1" NS_HOST)
  mkdir -p "$tmp/$2.d"
  exec {SERVE_FD}< <(exec timeout $((WAIT * 2)) ip netns exec "$ns" "$PROG" \
    --servers "$tmp/servers.conf" --data-dir "$tmp/$2.d" --timeout "$WAIT" 2>"$tmp/$2.err")
  SERVE_PID=$!
  ADDR=
  : > "$tmp/$2.out"
  local line
  while IFS= read -r -t "$WAIT" -u "$SERVE_FD" line; do
    echo "$line" >> "$tmp/$2.out"
    if [[ $line == address=* ]]; then ADDR=${line#address=}; return 0; fi
  done
  return 1
}

# finish_serve <name>: the rest of the serving node's output (it ends by
# itself: answered and the peer closed, or its --timeout); its exit code.
finish_serve() {
  cat <&"$SERVE_FD" >> "$tmp/$1.out"
  exec {SERVE_FD}<&-
  wait "$SERVE_PID"
}

# connect <site> <name> <address> [p2p_node options]: a connecting node in the
# site's host; output in $tmp/<name>.out, exit code returned.
connect() {
  local ns; ns=$(site_var "$1" NS_HOST)
  local name=$2 addr=$3; shift 3
  mkdir -p "$tmp/$name.d"
  timeout $((WAIT * 3)) ip netns exec "$ns" "$PROG" --servers "$tmp/servers.conf" \
    --data-dir "$tmp/$name.d" --timeout "$WAIT" --connect - --message "hello from $name" "$@" \
    <<< "$addr" > "$tmp/$name.out" 2> "$tmp/$name.err"
}

show() { # the logs of a failed case
  local f
  for f in "$@"; do
    echo "  --- $f.out"; sed 's/^/  | /' "$tmp/$f.out" 2>/dev/null
    echo "  --- $f.err"; sed 's/^/  | /' "$tmp/$f.err" 2>/dev/null
  done
}

# learnt <name> <site>: what is wrong with the address of the node <name>
# (in <site>): each family's NAT type and external address as the lab
# expects them (the interface actor learns them from coturn; this checks
# that they reach the node's signed address). Nothing when all is right.
learnt() {
  local out=$tmp/$1.out site=$2 mode fam line want_nat want_ext
  mode=$(site_var "$site" MODE)
  for fam in v4 v6; do
    if [ $fam = v4 ]; then
      want_nat=$(nat_name "$(site_var "$site" EXPECT_NAT)")
      case $mode in open|udp-firewall) want_ext=$(site_var "$site" HOST);;
        udp-blocked) want_ext=none;; *) want_ext=$(site_var "$site" WAN);; esac
    else
      want_nat=$(nat_name "$(site_var "$site" EXPECT_NAT6)")
      want_ext=$(site_var "$site" HOST6)
      [ "$mode" = udp-blocked ] && want_ext=none
    fi
    line=$(grep "^route .* fam=$fam " "$out" | head -n1)
    if [ -z "$line" ]; then echo "no $fam route in its address"; return; fi
    [ "$(field nat "$line")" = "$want_nat" ] \
      || { echo "$fam nat $(field nat "$line"), want $want_nat"; return; }
    [ "$(field ext "$line")" = "$want_ext" ] \
      || { echo "$fam ext $(field ext "$line"), want $want_ext"; return; }
  done
}

# case_run <case> <connecting site> <serving site> <want strategy> <want path>
#          <want family> <want remote ip at the server> <max ms> [options]
case_run() {
  local dir=$1 from=$2 to=$3 want_s=$4 want_p=$5 want_f=$6 want_src=$7 max_ms=$8; shift 8
  local srv=$dir-s$to cli=$dir-c$from rc src rest=ok
  n_run=$((n_run + 1))
  if ! serve "$to" "$srv"; then
    fail "$dir site $from -> $to: the serving node printed no address within $WAIT s"
    kill "$SERVE_PID" 2>/dev/null; finish_serve "$srv"; show "$srv"; return
  fi
  connect "$from" "$cli" "$ADDR" "$@"; rc=$?
  finish_serve "$srv"; local src_rc=$?
  local line; line=$(grep '^connected ' "$tmp/$cli.out")
  local s p f ms rtt bad start
  # the node in the site behind the NAT or firewall
  if [ "$from" = "$open_site" ]; then bad=$(learnt "$srv" "$to"); start=$(field start_ms "$(cat "$tmp/$srv.out")")
  else bad=$(learnt "$cli" "$from"); start=$(field start_ms "$(cat "$tmp/$cli.out")"); fi
  s=$(field strategy "$line"); p=$(field path "$line"); f=$(field family "$line")
  ms=$(field ms "$line"); rtt=$(field rtt_ms "$(grep '^reply ' "$tmp/$cli.out")")
  src=$(field remote "$(grep '^peer_up ' "$tmp/$srv.out")"); src=${src%:*}; src=${src#[}; src=${src%]}
  if [ -n "$bad" ]; then rest="address: $bad"
  elif [ $rc != 0 ]; then rest="connecting node exit $rc"
  elif [ "$s" != "$want_s" ]; then rest="strategy $s, want $want_s"
  elif [ -n "$want_p" ] && [ "$p" != "$want_p" ]; then rest="path $p, want $want_p"
  elif [ -n "$want_f" ] && [ "$f" != "$want_f" ]; then rest="family $f, want $want_f"
  elif [ "${ms:-$max_ms}" -ge "$max_ms" ]; then rest="took $ms ms, want under $max_ms"
  elif ! grep -q "^reply .*text=re: hello from $cli" "$tmp/$cli.out"; then rest="no answer"
  elif [ $src_rc != 0 ]; then rest="serving node exit $src_rc"
  elif [ -n "$want_src" ] && [ "$src" != "$want_src" ]; then rest="server saw $src, want $want_src"
  fi
  printf '%-8s %-4s %-21s %-21s %-8s %-11s %-4s %-6s %-6s %-6s %s\n' "$dir" "$from->$to" \
    "$(site_var "$from" MODE)" "$(site_var "$to" MODE)" "${s:--}" "${p:--}" "${f:--}" \
    "${ms:--}" "${rtt:--}" "${start:--}" "$rest"
  if [ "$rest" != ok ]; then
    fails=$((fails + 1)); show "$cli" "$srv"
  else
    grep '^attempt ' "$tmp/$cli.out" | sed 's/^/           /'
  fi
}

modes=${P2PDLAB_NODE_MODES:-}
echo "(ms: the connect; rtt: one message and its answer; start: the NAT site's node start, ms)"
printf '\n%-8s %-4s %-21s %-21s %-8s %-11s %-4s %-6s %-6s %-6s %s\n' case sites from to strategy path \
  fam ms rtt start result
i=1
while [ -n "$(site_var $i MODE)" ]; do
  mode=$(site_var $i MODE)
  if [ "$i" != "$open_site" ] && { [ -z "$modes" ] || [[ " $modes " == *" $mode "* ]]; }; then
    # Behind a NAT the open node sees the router's WAN address; a public
    # host (udp-firewall) is seen as itself.
    case $mode in udp-firewall) pub=$(site_var $i HOST);; *) pub=$(site_var $i WAN);; esac
    case_run direct "$i" "$open_site" direct external v4 "$pub" $DIRECT_MS --families 4
    # IPv6 has no NAT, only the site's firewall. A udp-blocked node learns
    # no external IPv6 address (STUN is UDP), and the lab's global addresses
    # are documentation ones, which p2pd does not take for public: no target.
    if [ "$mode" != udp-blocked ]; then
      case_run direct6 "$i" "$open_site" direct external v6 "$(site_var $i HOST6)" $DIRECT_MS \
        --families 6
    fi
    case_run reverse "$open_site" "$i" reverse signalling "" "" $REVERSE_MS
  fi
  i=$((i + 1))
done
echo
if [ $n_run = 0 ]; then echo "FAIL: no site to test (P2PDLAB_NODE_MODES='$modes')"; exit 1; fi
if [ $fails -gt 0 ]; then echo "FAIL: $fails of $n_run connects differ from what the lab expects"; exit 1; fi
echo "PASS: $n_run connects across the lab's NATs, each with the strategy expected"
