#!/usr/bin/env bash
# portmap_lab.sh <p2p_node> - CTest "lab_portmap": a node behind an upnp
# site (a port-restricted NAT whose router runs miniupnpd) with port mapping
# on, reached by direct connect from a symmetric site, for each method:
#   control: without port mapping, direct from the symmetric site fails (the
#            pair needs a punch or the relay);
#   pcp, natpmp, upnp (--port-mapping <method>, lease $LEASE s):
#     - the serving node's address carries the mapping (a "portmap" line
#       names the method), and the router lists TCP and UDP for the node port;
#     - it renews the mapping before the lease runs out ("refreshed");
#     - the router reboots (lab.sh nat 1 upnp: miniupnpd restarted with no
#       rules and no leases): the node tells "restored" and the router has
#       the mapping again within the lease;
#     - the symmetric site connects with --strategies direct: path=mapped;
#     - once the node closed, the router lists no mapping of it;
#   kill (each method): the node is killed (SIGKILL) with a mapping of
#     $KILL_LEASE s: its mappings stay, then are gone once the lease ran out;
#   IPv6 (--families 6; the upnp site's router is a stateful IPv6 firewall
#   whose miniupnpd opens pinholes):
#     - control: without port mapping, direct from the symmetric site fails;
#     - pcp and upnp (the same run as above, answering twice; NAT-PMP has no
#       IPv6): the node tells TCP and UDP pinholes of its port by that
#       method, the router lists them, and again
#       after its reboot ("restored"); the symmetric site connects directly
#       to the node's own IPv6 address (path=external: no translation), and
#       (upnp) once the node closed the router lists no pinhole of it.
# Every program runs under `timeout`, every read is bounded. Exit 0 = pass,
# 1 = fail, 77 = skipped (not root, no miniupnpd, no mosquitto in the lab).
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
LAB=$HERE/lab.sh
PROG=${1:-}
WAIT=${P2PDLAB_NODE_WAIT:-30}
LEASE=6        # the mapper renews at half of it
KILL_LEASE=4
METHODS=${P2PDLAB_PORTMAP_METHODS:-pcp natpmp upnp}

if [ "$(id -u)" != 0 ]; then echo "SKIP: lab_portmap needs root"; exit 77; fi
if ! command -v miniupnpd >/dev/null 2>&1; then
  echo "SKIP: miniupnpd is not installed (Debian package miniupnpd-nftables)"; exit 77
fi
if [ -z "$PROG" ] || [ ! -x "$PROG" ]; then echo "FAIL: usage: $0 <path to tools/p2p_node>"; exit 1; fi
PROG=$(readlink -f "$PROG")

export P2PDLAB_SITES="upnp symmetric"
tmp=$(mktemp -d)
cleanup() { "$LAB" down >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
# shellcheck source=expect.sh
. "$HERE/expect.sh"

echo "== lab.sh up (site 1 upnp, site 2 symmetric)"
if ! timeout 60 "$LAB" up; then echo "FAIL: lab.sh up"; exit 1; fi
eval "$("$LAB" env)"
if [ -z "${P2PDLAB_MQTT:-}" ]; then echo "SKIP: the lab has no MQTT broker (mosquitto)"; exit 77; fi
cp "$P2PDLAB_SERVERS" "$tmp/servers.conf"
EXT=$P2PDLAB_SITE1_WAN
HOST=$P2PDLAB_SITE1_HOST
HOST6=$P2PDLAB_SITE1_HOST6

fails=0
fail() { echo "  FAIL: $*"; fails=$((fails + 1)); }
show() {
  local f
  for f in "$@"; do
    echo "  --- $f.out"; sed 's/^/  | /' "$tmp/$f.out" 2>/dev/null
    echo "  --- $f.err"; sed 's/^/  | /' "$tmp/$f.err" 2>/dev/null | tail -n 40
  done
}
mappings() { "$LAB" mappings 1; }
# has_mapping <proto> <port>: the router forwards proto <port> to the node
has_mapping() { mappings | grep -q "^$1 [0-9]* $HOST:$2\$"; }
pinholes() { "$LAB" pinholes 1; }
# has_pinhole <proto> <port>: the router's IPv6 firewall lets proto <port> in
# (grep reads it all: with pipefail, a grep -q that quits early fails the pipe)
has_pinhole() { pinholes | grep -F "$1 [$HOST6]:$2" >/dev/null; }

# serve <name> [options]: a serving node in site 1; reads its output up to
# its last address (with --port-mapping: the one printed after the mapping
# came). Sets SERVE_PID, SERVE_FD, ADDR, PORT.
serve() {
  local name=$1; shift
  mkdir -p "$tmp/$name.d"
  exec {SERVE_FD}< <(exec timeout $((WAIT * 2)) ip netns exec "$P2PDLAB_SITE1_NS_HOST" "$PROG" \
    --servers "$tmp/servers.conf" --data-dir "$tmp/$name.d" --timeout "$WAIT" "$@" \
    2>"$tmp/$name.err")
  SERVE_PID=$!
  ADDR=; PORT=
  : > "$tmp/$name.out"
  local line want=1
  [[ " $* " == *" --port-mapping "* ]] && want=2
  while IFS= read -r -t "$WAIT" -u "$SERVE_FD" line; do
    echo "$line" >> "$tmp/$name.out"
    [[ $line == ready* ]] && PORT=$(field port "$line")
    if [[ $line == address=* ]]; then
      ADDR=${line#address=}; want=$((want - 1))
      [ $want = 0 ] && return 0
    fi
  done
  return 1
}
# drain <name> <seconds>: copies the serving node's output for a while
drain() {
  local line rc end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    IFS= read -r -t 1 -u "$SERVE_FD" line; rc=$?
    if [ $rc = 0 ]; then echo "$line" >> "$tmp/$1.out"
    elif [ $rc -le 128 ]; then break; fi   # > 128: a second without a line
  done
  return 0
}
finish_serve() { cat <&"$SERVE_FD" >> "$tmp/$1.out"; exec {SERVE_FD}<&-; wait "$SERVE_PID"; }
connect() {
  local name=$1 addr=$2; shift 2
  mkdir -p "$tmp/$name.d"
  timeout $((WAIT * 3)) ip netns exec "$P2PDLAB_SITE2_NS_HOST" "$PROG" --servers "$tmp/servers.conf" \
    --data-dir "$tmp/$name.d" --timeout "$WAIT" --connect - --message "hello from $name" \
    --strategies direct --families "${FAMILIES:-4}" "$@" <<< "$addr" > "$tmp/$name.out" \
    2> "$tmp/$name.err"
}
# gone_within <seconds> <port> [has_pinhole]: no mapping (or pinhole) of the
# node port left in time
gone_within() {
  local end=$((SECONDS + $1)) has=${3:-has_mapping}
  while [ $SECONDS -le $end ]; do
    $has tcp "$2" || $has udp "$2" || return 0
    sleep 0.5
  done
  return 1
}

echo "== control: no port mapping, direct from the symmetric site (IPv4, then IPv6)"
if serve ctl-s; then
  connect ctl-c "$ADDR"; rc=$?
  FAMILIES=6 connect ctl6-c "$ADDR"; rc6=$?
  kill "$SERVE_PID" 2>/dev/null; finish_serve ctl-s
  if [ $rc = 3 ]; then echo "  ok: direct failed (exit 3) as expected"
  else fail "control: direct connect exit $rc, want 3 (connect failed)"; show ctl-c; fi
  if [ $rc6 = 3 ]; then echo "  ok: direct over IPv6 failed (exit 3): the router's firewall dropped it"
  else fail "control: direct connect over IPv6 exit $rc6, want 3 (connect failed)"; show ctl6-c; fi
else
  fail "control: no address"; kill "$SERVE_PID" 2>/dev/null; finish_serve ctl-s; show ctl-s
fi

for m in $METHODS; do
  case $m in pcp) name=PCP;; natpmp) name=NAT-PMP;; upnp) name=UPnP;; esac
  echo "== $m: serve with --port-mapping $m, lease $LEASE s"
  s=$m-s
  # pcp, upnp: the node asks for IPv6 pinholes too, and answers an IPv6 peer first
  six=; [ "$m" != natpmp ] && six=1
  if ! serve "$s" --port-mapping "$m" --portmap-lease $LEASE ${six:+--answer 2}; then
    fail "$m: the serving node printed no address after its mapping"
    kill "$SERVE_PID" 2>/dev/null; finish_serve "$s"; show "$s"; continue
  fi
  if ! grep -q "^portmap port mapping: TCP .* -> $EXT:[0-9]* by $name" "$tmp/$s.out"; then
    fail "$m: no TCP mapping by $name to $EXT"; kill "$SERVE_PID" 2>/dev/null; finish_serve "$s"
    show "$s"; continue
  fi
  has_mapping tcp "$PORT" && has_mapping udp "$PORT" \
    || fail "$m: the router lists no TCP and UDP mapping of $HOST:$PORT: $(mappings | tr '\n' ';')"
  if [ -n "$six" ]; then
    # The pinhole lines come on their own (they change nothing in the address).
    for ((t = 0; t < 10; t++)); do
      [ "$(grep -c "^portmap port mapping: \(TCP\|UDP\) \[$HOST6\]:$PORT -> \[$HOST6\]:$PORT by $name pinhole" \
        "$tmp/$s.out")" = 2 ] && break
      drain "$s" 1
    done
    grep -q "^portmap port mapping: TCP \[$HOST6\]:$PORT -> \[$HOST6\]:$PORT by $name pinhole" \
      "$tmp/$s.out" || fail "IPv6: the node told no TCP pinhole of [$HOST6]:$PORT"
    has_pinhole tcp "$PORT" && has_pinhole udp "$PORT" \
      || fail "IPv6: the router lists no TCP and UDP pinhole of [$HOST6]:$PORT: $(pinholes | tr '\n' ';')"
  fi
  # The renewal: due at half the lease, and it must come before the lease
  # runs out. Waited for a line at a time, so a loaded machine that runs the
  # timer late does not fail a renewal that still came in time.
  refreshed=0 until=$((SECONDS + LEASE))
  while [ $SECONDS -le $until ]; do
    if grep -q "^portmap port mapping refreshed: TCP $HOST:" "$tmp/$s.out"; then
      refreshed=1; break
    fi
    drain "$s" 1
  done
  [ $refreshed = 1 ] || { fail "$m: no refresh of the TCP mapping within the lease of $LEASE s"
    show "$s"; }
  has_mapping tcp "$PORT" || fail "$m: the mapping is gone after the refresh"
  # A router reboot: miniupnpd stopped, its chains and lease file gone, a new
  # epoch. The node's next renewal (at most half the lease) maps again.
  "$LAB" nat 1 upnp 2>/dev/null
  back=0
  for ((t = 0; t < LEASE * 2 + 4; t++)); do
    drain "$s" 0
    if has_mapping tcp "$PORT" && has_mapping udp "$PORT" \
      && { [ -z "$six" ] || { has_pinhole tcp "$PORT" && has_pinhole udp "$PORT"; }; }; then
      back=1; break
    fi
    sleep 0.5
  done
  [ $back = 1 ] || fail "$m: no mapping${six:+ and pinhole} at the router within $((LEASE + 2)) s of its reboot"
  if [ -n "$six" ]; then
    # Over IPv6 the peer dials the node's own address: the pinhole lets it in.
    FAMILIES=6 connect "$m-c6" "$ADDR"; rc=$?
    line=$(grep '^connected ' "$tmp/$m-c6.out")
    if [ $rc != 0 ]; then fail "IPv6: connect exit $rc"; show "$m-c6" "$s"
    elif [ "$(field strategy "$line")" != direct ] || [[ $(field remote "$line") != "[$HOST6]:"* ]]; then
      fail "IPv6: $line (want strategy=direct to [$HOST6])"
    else echo "  ok: $line"; fi
  fi
  connect "$m-c" "$ADDR"; rc=$?
  finish_serve "$s"; src=$?
  line=$(grep '^connected ' "$tmp/$m-c.out")
  if [ $rc != 0 ]; then fail "$m: connect exit $rc"; show "$m-c" "$s"
  elif [ "$(field strategy "$line")" != direct ] || [ "$(field path "$line")" != mapped ]; then
    fail "$m: $line (want strategy=direct path=mapped)"
  elif [ $src != 0 ]; then fail "$m: serving node exit $src"; show "$s"
  else echo "  ok: $line"; fi
  echo "  reboot: the node told $(grep -a '^portmap port mapping \(restored\|lost\|moved\)' \
    "$tmp/$s.out" | sed 's/^portmap port mapping \([a-z]*\): \([A-Z]*\).*/\1 \2/' | sort | uniq -c \
    | tr -s ' ' | tr '\n' ';')"
  # The node noticed the reboot (PCP/NAT-PMP: the epoch; UPnP: the entry
  # gone at a renewal) and said so.
  grep -aq "^portmap port mapping restored: TCP $HOST:" "$tmp/$s.out" \
    || fail "$m: the node did not tell the TCP mapping restored after the reboot"
  if [ -n "$six" ]; then
    grep -aq "^portmap port mapping restored: TCP \[$HOST6\]" "$tmp/$s.out" \
      || fail "IPv6: the node did not tell the TCP pinhole restored after the reboot"
  fi
  gone_within 3 "$PORT" || fail "$m: mappings left after close: $(mappings | tr '\n' ';')"
  # (UPnP only: miniupnpd 2.3.1 refuses to delete a PCP pinhole it has
  # renewed, which then stays until its lease runs out)
  if [ "$m" = upnp ] && ! gone_within 3 "$PORT" has_pinhole; then
    fail "IPv6: pinholes left after close: $(pinholes | tr '\n' ';')"
  fi

  echo "== $m: kill -9 with a lease of $KILL_LEASE s"
  k=$m-k
  if ! serve "$k" --port-mapping "$m" --portmap-lease $KILL_LEASE; then
    fail "$m kill: no address after the mapping"; kill "$SERVE_PID" 2>/dev/null; finish_serve "$k"
    show "$k"; continue
  fi
  kport=$PORT
  node=$(pgrep -P "$SERVE_PID" | head -n1)
  [ -n "$node" ] && kill -KILL "$node"
  finish_serve "$k" >/dev/null 2>&1
  has_mapping tcp "$kport" || fail "$m kill: no mapping right after the kill (deleted by a dead node?)"
  if gone_within $((KILL_LEASE + 4)) "$kport"; then echo "  ok: gone after the lease"
  else fail "$m kill: mappings left $((KILL_LEASE + 4)) s after the kill: $(mappings | tr '\n' ';')"; fi
done

echo
if [ $fails -gt 0 ]; then echo "FAIL: $fails checks failed"; exit 1; fi
echo "PASS: port mapping by $METHODS: direct connects from a symmetric site, refresh, delete on close, lease after kill; IPv6 pinholes: direct connect, delete on close"
