#!/usr/bin/env bash
# lab.sh - p2pd's NAT lab: network namespaces with NAT routers, a STUN/TURN
# server (coturn, RFC 5780) and an MQTT broker (mosquitto, when installed), for
# tests that need real NAT behaviour.
#
#   lab.sh up                  build the lab (idempotent; resets sites to their configured mode)
#   lab.sh down                stop the servers, kill what runs in the lab, delete its namespaces
#                              (idempotent, also cleans up after a failed or partial up)
#   lab.sh status              namespaces, coturn, site modes; exit 0 iff the lab is healthy
#   lab.sh nat <site> <mode>   switch a site's NAT mode (flushes its conntrack table)
#   lab.sh exec <ns> cmd...    run cmd in a lab namespace (core, srv, r<i>, h<i> or full name)
#   lab.sh env                 print the lab's addresses as shell variables (KEY=value)
#   lab.sh mappings <site>     an upnp site's port mappings: "tcp 40123 10.0.1.2:40123" lines
#   lab.sh pinholes <site>     an upnp site's IPv6 pinholes: "tcp [2001:db8:1:1::2]:40123" lines
#
# Modes: open udp-firewall full-cone restricted port-restricted symmetric
#        symmetric-sequential udp-blocked masquerade upnp   (see tests/lab/README.md)
#        upnp: a port-restricted NAT whose router also runs miniupnpd (UPnP IGD,
#        NAT-PMP, PCP), with an external address that looks public (11.100.0.x),
#        and whose IPv6 firewall opens pinholes (UPnP WANIPv6FirewallControl)
#
# Servers (in the server namespace): coturn (STUN, RFC 5780, and TURN), and
# when installed mosquitto (MQTT) and chronyd (NTP). `up` writes a server file
# for p2pd's nodes ($P2PDLAB_DIR/servers.conf: stun, nat, turn, mqtt, ntp lines).
#
# Environment:
#   P2PDLAB_PREFIX  namespace name prefix   (default "p2pdlab-")
#   P2PDLAB_DIR     logs, configs, state    (default /tmp/<prefix without trailing -> )
#   P2PDLAB_SITES   NAT mode of each site, site 1 first (default: one site per mode but upnp;
#                   at most 24 sites, a mode may repeat: two separate NATs of one mode)
#   P2PDLAB_UPNP    1: the router of every site whose NAT passes UDP (full-cone, restricted,
#                   port-restricted, symmetric, symmetric-sequential, masquerade) also runs
#                   miniupnpd as an upnp site's does, its mappings on the site's 11.100.0.x
#                   address; the NAT itself stays as its mode says (default 0: upnp sites only)
#
# Network rule: every address lives in a namespace this script creates; no
# interface is added to the root namespace, nothing is bridged to a real NIC
# and the core router has no default route.
set -euo pipefail

PFX=${P2PDLAB_PREFIX:-p2pdlab-}
LAB_DIR=${P2PDLAB_DIR:-/tmp/${PFX%-}}
# The default sites: one per mode but upnp, which needs miniupnpd and is
# asked for by name (portmap_lab.sh).
DEFAULT_MODES="open udp-firewall full-cone restricted port-restricted symmetric symmetric-sequential udp-blocked masquerade"
MODES="$DEFAULT_MODES upnp"
SITES=${P2PDLAB_SITES:-$DEFAULT_MODES}
read -r -a SITE_MODES <<< "$SITES"
NSITES=${#SITE_MODES[@]}

LOG=$LAB_DIR/log; RUN=$LAB_DIR/run; CONF=$LAB_DIR/conf; STATE=$LAB_DIR/state
ENV_FILE=$LAB_DIR/lab.env
SERVERS_FILE=$LAB_DIR/servers.conf

# ------------------------------------------------------------------ addresses
# Documentation ranges only (RFC 5737 / RFC 3849) and 10/8. The machine's own
# network (192.0.2.0/24 here) is not used.
CORE_ISP4=198.51.100.1;  CORE_ISP6=2001:db8:100::1      # core side of the ISP bridge
CORE_SRV4=203.0.113.1;   CORE_SRV6=2001:db8:113::1      # core side of the server link
STUN1_4=203.0.113.10;    STUN1_6=2001:db8:113::10       # coturn primary address
STUN2_4=203.0.113.11;    STUN2_6=2001:db8:113::11       # coturn alternate address (RFC 5780)
STUN_PORT=3478;          STUN_ALT_PORT=3479
TURN_USER=p2pd; TURN_PASS=p2pdpass; TURN_REALM=p2pdlab.test
TURN_MIN_PORT=49152;     TURN_MAX_PORT=49999
SEQ_BASE=40000; SEQ_N=2048          # symmetric-sequential: ports 40000, 40001, ... (wraps)
MQTT_4=203.0.113.30;     MQTT_6=2001:db8:113::30        # mosquitto (signalling), as in shared/netlab
MQTT_PORT=1883
NTP_4=203.0.113.40;      NTP_6=2001:db8:113::40         # chronyd (the lab's time), as in shared/netlab
NTP_PORT=123
# upnp sites: miniupnpd refuses an external address in a reserved range (the
# documentation ranges are), so such a site's NAT maps to 11.100.0.<10+i>,
# routed by the core to the site's WAN. No route leaves the lab: harmless.
UPNP_EXT_BASE=11.100.0
UPNP_ALL=${P2PDLAB_UPNP:-0}
UPNP_MIN_LIFETIME=2                 # leases as short as tests ask (kill tests)
MAX_SITES=24
SRV_PLEN4=26                        # the server link: 203.0.113.0/26 (sites 17-24 own .64-.127)

NS_CORE=${PFX}core; NS_SRV=${PFX}srv
ns_r() { echo "${PFX}r$1"; }
ns_h() { echo "${PFX}h$1"; }
wan4() { echo "198.51.100.$((10 + $1))"; }
wan6() { echo "2001:db8:100::$((10 + $1))"; }
upnp_ext4() { echo "$UPNP_EXT_BASE.$((10 + $1))"; }
# runs_upnp <mode>: whether a site of that mode runs miniupnpd. With
# P2PDLAB_UPNP=1 every NAT that passes UDP does (open and udp-firewall have
# no NAT to map through; a network that blocks UDP would not map it).
runs_upnp() {
  [ "$1" = upnp ] && return 0
  [ "$UPNP_ALL" = 1 ] || return 1
  case $1 in full-cone|restricted|port-restricted|symmetric|symmetric-sequential|masquerade) return 0;; esac
  return 1
}
# the site's address on the Internet: the WAN, or an upnp site's NAT address
pub4() { if [ "$2" = upnp ]; then upnp_ext4 "$1"; else wan4 "$1"; fi; }
priv_net4() { echo "10.0.$1.0/24"; }
priv_gw4() { echo "10.0.$1.1"; }
priv_host4() { echo "10.0.$1.2"; }
# site i owns 203.0.113.<base>/29: sites 1-16 in .128-.255, sites 17-24 in .64-.127
pub_base() { if [ "$1" -le 16 ]; then echo $((128 + 8 * ($1 - 1))); else echo $((64 + 8 * ($1 - 17))); fi; }
pub_net4() { echo "203.0.113.$(pub_base "$1")/29"; }
pub_gw4() { echo "203.0.113.$(( $(pub_base "$1") + 1 ))"; }
pub_host4() { echo "203.0.113.$(( $(pub_base "$1") + 2 ))"; }
lan6_net() { echo "2001:db8:1:$1::/64"; }
lan6_gw() { echo "2001:db8:1:$1::1"; }
lan6_host() { echo "2001:db8:1:$1::2"; }
is_public() { [ "$1" = open ] || [ "$1" = udp-firewall ]; }  # host has a public address
host4() { if is_public "$2"; then pub_host4 "$1"; else priv_host4 "$1"; fi; }
gw4() { if is_public "$2"; then pub_gw4 "$1"; else priv_gw4 "$1"; fi; }
plen4() { if is_public "$2"; then echo 29; else echo 24; fi; }
# site_addrs <i> [mode]: the same as variables, without a subshell (a fork
# costs tens of ms on a loaded machine, and loops over 24 sites add up):
# S_R S_H S_WAN4 S_WAN6 S_PRIV_GW4 S_PUB_GW4 S_PUB_NET4 S_LAN6_NET S_LAN6_GW
# S_LAN6_HOST, and given a mode S_HOST4 S_GW4 S_PLEN4.
site_addrs() {
  local i=$1 b
  if [ "$i" -le 16 ]; then b=$((128 + 8 * (i - 1))); else b=$((64 + 8 * (i - 17))); fi
  S_R=${PFX}r$i; S_H=${PFX}h$i
  S_WAN4=198.51.100.$((10 + i)); S_WAN6=2001:db8:100::$((10 + i))
  S_PRIV_GW4=10.0.$i.1; S_PUB_GW4=203.0.113.$((b + 1)); S_PUB_NET4=203.0.113.$b/29
  S_LAN6_NET=2001:db8:1:$i::/64; S_LAN6_GW=2001:db8:1:$i::1; S_LAN6_HOST=2001:db8:1:$i::2
  if [ -n "${2:-}" ]; then
    if is_public "$2"; then S_HOST4=203.0.113.$((b + 2)); S_GW4=$S_PUB_GW4; S_PLEN4=29
    else S_HOST4=10.0.$i.2; S_GW4=$S_PRIV_GW4; S_PLEN4=24; fi
  fi
}

# expectations <mode>: what a correct classifier reports for the mode (P2PD's
# constant names), as E_NAT, E_DELTA, E_DELTA_VALUE and E_NAT6 (IPv6 has no
# NAT: the open site is open, the others a stateful firewall).
expectations() {
  E_DELTA_VALUE=0
  case $1 in
    open) E_NAT=OPEN_INTERNET; E_DELTA=NA_DELTA;;
    udp-firewall) E_NAT=SYMMETRIC_UDP_FIREWALL; E_DELTA=NA_DELTA;;
    full-cone) E_NAT=FULL_CONE; E_DELTA=EQUAL_DELTA;;
    restricted) E_NAT=RESTRICT_NAT; E_DELTA=EQUAL_DELTA;;
    port-restricted|masquerade|upnp) E_NAT=RESTRICT_PORT_NAT; E_DELTA=EQUAL_DELTA;;
    symmetric) E_NAT=SYMMETRIC_NAT; E_DELTA=RANDOM_DELTA;;
    symmetric-sequential) E_NAT=SYMMETRIC_NAT; E_DELTA=INDEPENDENT_DELTA; E_DELTA_VALUE=1;;
    udp-blocked) E_NAT=BLOCKED_NAT; E_DELTA=NA_DELTA;;
  esac
  case $1 in open) E_NAT6=OPEN_INTERNET;; udp-blocked) E_NAT6=BLOCKED_NAT;; *) E_NAT6=SYMMETRIC_UDP_FIREWALL;; esac
}

log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }
ns_exists() { [ -e "/run/netns/$1" ]; }
all_ns() { local i; echo "$NS_CORE $NS_SRV"; for ((i = 1; i <= NSITES; i++)); do echo "${PFX}r$i ${PFX}h$i"; done; }
# every namespace of *this* prefix, also ones from an earlier run with more sites;
# names of other prefixes (even "p2pdlab-ci-...") never match
lab_ns_present() {
  local f n
  for f in /run/netns/"$PFX"*; do
    [ -e "$f" ] || continue
    n=${f#/run/netns/}
    [[ ${n#"$PFX"} =~ ^(core|srv|r[0-9]+|h[0-9]+)$ ]] && echo "$n"
  done
  return 0
}
site_mode() { cat "$STATE/site$1.mode" 2>/dev/null || echo "${SITE_MODES[$(( $1 - 1 ))]}"; }
# get_site_mode <i>: the same into SITE_MODE_NOW, without a subshell
get_site_mode() { read -r SITE_MODE_NOW < "$STATE/site$1.mode" 2>/dev/null || SITE_MODE_NOW=${SITE_MODES[$(( $1 - 1 ))]}; }
need() { command -v "$1" >/dev/null 2>&1 || die "missing '$1' (Debian package $2; see scripts/install-deps.sh)"; }
valid_mode() { case " $MODES " in *" $1 "*) return 0;; esac; return 1; }

# ------------------------------------------------------------------ topology
# Every `ip netns exec` costs tens of milliseconds (more on a loaded machine),
# so the build sends each namespace's commands as one `ip -n <ns> -batch`: a
# lab of 18 sites takes some 130 processes instead of 500.
NS_SYSCTLS=(   # before any link exists, so "default" covers the veths: no DAD delay, no RAs
  net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
  net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0)
# Routers: the router's own ephemeral ports stay clear of the hosts'
# (32768-60999), so a router socket can never take a tuple a host mapping
# wants to keep.
ROUTER_SYSCTLS=(net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  "net.ipv4.ip_local_port_range=61000 65000")
batch() { local n=$1; ip -n "$n" -batch - || die "ip -batch in $n failed"; }

build() {
  local i n a
  for n in $(all_ns); do echo "netns add $n"; done | ip -batch - || die "ip netns add failed"
  for n in $(all_ns); do
    case ${n#"$PFX"} in
      core|r*) nsx "$n" sysctl -qw "${NS_SYSCTLS[@]}" "${ROUTER_SYSCTLS[@]}" ;;
      *) nsx "$n" sysctl -qw "${NS_SYSCTLS[@]}" ;;
    esac
  done
  # every veth is created with both ends inside the namespaces
  {
    echo "link add srv netns $NS_CORE type veth peer name eth0 netns $NS_SRV"
    for ((i = 1; i <= NSITES; i++)); do
      site_addrs $i
      echo "link add r$i netns $NS_CORE type veth peer name wan0 netns $S_R"
      echo "link add lan0 netns $S_R type veth peer name eth0 netns $S_H"
    done
  } | ip -batch - || die "creating the veths failed"

  # core router: ISP bridge (all site WANs) + routed link to the servers
  {
    echo "link set lo up"
    echo "link add br0 type bridge stp_state 0 forward_delay 0"
    echo "addr add $CORE_ISP4/24 dev br0"
    echo "addr add $CORE_ISP6/64 dev br0 nodad"
    echo "link set br0 up"
    echo "addr add $CORE_SRV4/$SRV_PLEN4 dev srv"
    echo "addr add $CORE_SRV6/64 dev srv nodad"
    echo "link set srv up"
    for ((i = 1; i <= NSITES; i++)); do
      site_addrs $i
      echo "link set r$i master br0 up"
      echo "route add $S_PUB_NET4 via $S_WAN4"
      echo "route add $S_LAN6_NET via $S_WAN6"
    done
  } | batch "$NS_CORE"
  nsx "$NS_CORE" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
      net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null || true

  # servers: two IPv4 + two IPv6 addresses for coturn, one of each for
  # mosquitto and for chronyd
  {
    echo "link set lo up"
    for a in "$STUN1_4" "$STUN2_4" "$MQTT_4" "$NTP_4"; do echo "addr add $a/$SRV_PLEN4 dev eth0"; done
    for a in "$STUN1_6" "$STUN2_6" "$MQTT_6" "$NTP_6"; do echo "addr add $a/64 dev eth0 nodad"; done
    echo "link set eth0 up"
    echo "route add default via $CORE_SRV4"
    echo "route add default via $CORE_SRV6"
  } | batch "$NS_SRV"

  for ((i = 1; i <= NSITES; i++)); do
    site_addrs $i
    # the LAN carries both the private /24 and the site's public /29
    {
      echo "link set lo up"
      # /32 and a route to the core only: traffic between two sites goes
      # through the core, one hop more, as between two homes on the
      # Internet (a punch's low-TTL first packet must die between the NATs)
      echo "addr add $S_WAN4/32 dev wan0"
      echo "addr add $S_WAN6/64 dev wan0 nodad"
      echo "link set wan0 up"
      echo "route add $CORE_ISP4/32 dev wan0"
      echo "route add default via $CORE_ISP4"
      echo "route add default via $CORE_ISP6"
      echo "addr add $S_PRIV_GW4/24 dev lan0"
      echo "addr add $S_PUB_GW4/29 dev lan0"
      echo "addr add $S_LAN6_GW/64 dev lan0 nodad"
      echo "link set lan0 up"
    } | batch "$S_R"
    # the host's IPv4 address depends on the mode (set_mode)
    {
      echo "link set lo up"
      echo "link set eth0 up"
      echo "addr add $S_LAN6_HOST/64 dev eth0 nodad"
      echo "route add default via $S_LAN6_GW"
    } | batch "$S_H"
  done
}

# ------------------------------------------------------------------ NAT modes
# One nft table "inet p2pdlab" per router, rebuilt on every mode change.
router_nft() {
  local i=$1 mode=$2 p
  local WAN=198.51.100.$((10 + i)) PRIV=10.0.$i.0/24
  echo "table inet p2pdlab"
  echo "delete table inet p2pdlab"
  echo "table inet p2pdlab {"
  case $mode in
    full-cone) for p in udp tcp; do   # external port -> internal address . port
      echo "  map cone_$p { type inet_service : ipv4_addr . inet_service; flags dynamic,timeout; timeout 300s; }"; done ;;
    restricted) for p in udp tcp; do  # remote address . external port -> internal address . port
      echo "  map cone_$p { type ipv4_addr . inet_service : ipv4_addr . inet_service; flags dynamic,timeout; timeout 300s; }"; done ;;
    symmetric-sequential)
      # numgen yields a host-endian number, so it is mapped to ports explicitly
      printf '  map seq { typeof numgen inc mod %d : udp dport; elements = { %s } }\n' "$SEQ_N" \
        "$(awk -v b=$SEQ_BASE -v n=$SEQ_N 'BEGIN { for (k = 0; k < n; k++) printf "%s%d : %d", (k ? ", " : ""), k, b + k }')" ;;
  esac
  # The router's own input: every mode but masquerade drops what comes in
  # unsolicited on the WAN. masquerade accepts it, as most home and cloud
  # routers do: an unanswered packet to the router then leaves a conntrack
  # entry that a later mapping to the same remote address and port collides
  # with (masquerade then picks another port).
  echo "  chain input {"
  echo "    type filter hook input priority filter; policy accept;"
  if [ "$mode" != masquerade ]; then
    cat <<EOF
    iif "lo" accept
    ct state established,related accept
    iifname "lan0" accept
    meta l4proto { icmp, ipv6-icmp } accept
    iifname "wan0" drop
EOF
  fi
  echo "  }"
  cat <<EOF
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
EOF
  [ "$mode" = udp-blocked ] && echo '    iifname "lan0" oifname "wan0" meta l4proto udp drop'
  echo '    iifname "lan0" oifname "wan0" accept'
  echo '    ct status dnat accept'
  # open: no NAT and no filter (v4 and v6); every other mode: stateful IPv6
  # firewall, upnp's in miniupnpd's table (upnp_nft) where its pinholes go
  [ "$mode" = open ] && echo '    iifname "wan0" accept'
  [ "$mode" = upnp ] && echo '    iifname "wan0" meta nfproto ipv6 accept'
  echo "  }"
  echo "  chain nat_pre {"
  echo "    type nat hook prerouting priority dstnat; policy accept;"
  for p in udp tcp; do
    case $mode in
      full-cone)  echo "    iifname \"wan0\" ip daddr $WAN $p dport @cone_$p dnat ip to $p dport map @cone_$p" ;;
      restricted) echo "    iifname \"wan0\" ip daddr $WAN ip saddr . $p dport @cone_$p dnat ip to ip saddr . $p dport map @cone_$p" ;;
    esac
  done
  echo "  }"
  echo "  chain nat_post {"
  echo "    type nat hook postrouting priority srcnat; policy accept;"
  case $mode in
    open|udp-firewall) ;;
    symmetric) echo "    oifname \"wan0\" ip saddr $PRIV snat ip to $WAN fully-random" ;;
    symmetric-sequential)
      echo "    oifname \"wan0\" ip saddr $PRIV meta l4proto { tcp, udp } snat ip to $WAN : numgen inc mod $SEQ_N map @seq"
      echo "    oifname \"wan0\" ip saddr $PRIV snat ip to $WAN" ;;
    masquerade) echo "    oifname \"wan0\" ip saddr $PRIV masquerade" ;;
    upnp) echo "    oifname \"wan0\" ip saddr $PRIV snat ip to $(upnp_ext4 "$i")" ;;
    *) # Linux keeps the source port when it can: endpoint-independent mapping
      echo "    oifname \"wan0\" ip saddr $PRIV snat ip to $WAN" ;;
  esac
  echo "  }"
  # cone modes learn each mapping after SNAT (srcnat + 10 sees the external port)
  echo "  chain learn {"
  echo "    type filter hook postrouting priority srcnat + 10; policy accept;"
  for p in udp tcp; do
    case $mode in
      full-cone)  echo "    oifname \"wan0\" ct direction original ct status snat meta l4proto $p update @cone_$p { $p sport : ct original ip saddr . ct original proto-src }" ;;
      restricted) echo "    oifname \"wan0\" ct direction original ct status snat meta l4proto $p update @cone_$p { ip daddr . $p sport : ct original ip saddr . ct original proto-src }" ;;
    esac
  done
  echo "  }"
  echo "}"
}

# set_mode <site> <mode> [fresh]: fresh = a site just built (no IPv4
# address on the host, no conntrack entries yet)
set_mode() {
  local i=$1 mode=$2 fresh=${3:-} h; h=$(ns_h "$i")
  valid_mode "$mode" || die "unknown mode '$mode' (one of: $MODES)"
  [ -n "$fresh" ] || upnp_off "$i"
  router_nft "$i" "$mode" > "$CONF/r$i.nft"
  nsx "$(ns_r "$i")" nft -f "$CONF/r$i.nft"
  ! runs_upnp "$mode" || upnp_on "$i"
  # public modes give the host an address from the site's /29, NAT modes a 10/8 one
  if [ -n "$fresh" ]; then
    site_addrs "$i" "$mode"
    printf 'addr add %s/%s dev eth0\nroute add default via %s dev eth0\n' \
      "$S_HOST4" "$S_PLEN4" "$S_GW4" | batch "$h"
    echo "$mode" > "$STATE/site$i.mode"
    return
  fi
  local want; want=$(host4 "$i" "$mode")
  if ! nsx "$h" ip -4 -o addr show dev eth0 | grep -q " $want/"; then
    nsx "$h" ip -4 addr flush dev eth0
    nsx "$h" ip addr add "$want/$(plen4 "$i" "$mode")" dev eth0
  fi
  nsx "$h" ip route replace default via "$(gw4 "$i" "$mode")" dev eth0
  # old mappings must not survive a mode change
  nsx "$(ns_r "$i")" conntrack -F >/dev/null 2>&1 || true
  nsx "$h" conntrack -F >/dev/null 2>&1 || true
  echo "$mode" > "$STATE/site$i.mode"
}

# ------------------------------------------------------------------ miniupnpd
# An upnp site's router runs Debian's miniupnpd (nftables backend): UPnP IGD
# on the LAN (SSDP, HTTP), NAT-PMP and PCP on port 5351. miniupnpd adds its
# rules to chains it expects to exist (table inet filter: miniupnpd,
# prerouting_miniupnpd, postrouting_miniupnpd; the package's nft_init.sh
# needs a helper Debian does not ship): made here. The lab's own table keeps
# the IPv4 filtering (its forward chain accepts what was DNATed); this one
# hooks miniupnpd's chains in, its postrouting before the lab's SNAT, and is
# the site's stateful IPv6 firewall: an accept in one table does not pass a
# drop in another, so the lab's table lets IPv6 from the WAN through and
# this one drops what no pinhole (miniupnpd's chain) accepts.
upnp_nft() {
  cat <<'NFT'
table inet filter
delete table inet filter
table inet filter {
  chain forward {
    type filter hook forward priority 0; policy accept;
    jump miniupnpd
    iifname "wan0" meta nfproto ipv6 ct state established,related accept
    iifname "wan0" meta nfproto ipv6 drop
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -101; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 99; policy accept;
    jump postrouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
NFT
}
miniupnpd_pid() {  # miniupnpd_pid <site>: its pid if it is ours and alive
  local pid; pid=$(cat "$RUN/miniupnpd-r$1.pid" 2>/dev/null) || return 1
  proc_alive "$pid" || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q '^miniupnpd ' || return 1
  echo "$pid"
}
# upnp_on <site>: the NAT address, its route in the core, miniupnpd's chains
# and miniupnpd itself (waits for it to listen, 5 s at most).
upnp_on() {
  local i=$1 r ext log t from; r=$(ns_r "$i"); ext=$(upnp_ext4 "$i"); log=$LOG/miniupnpd-r$i.log
  need miniupnpd miniupnpd-nftables
  nsx "$r" ip addr replace "$ext/32" dev wan0
  nsx "$NS_CORE" ip route replace "$ext/32" via "$(wan4 "$i")"
  upnp_nft > "$CONF/r$i-upnp.nft"
  nsx "$r" nft -f "$CONF/r$i-upnp.nft"
  cat > "$CONF/miniupnpd-r$i.conf" <<CONF
# generated by lab.sh: site $i's router
ext_ifname=wan0
ext_ifname6=wan0
ext_ip=$ext
listening_ip=lan0
http_port=0
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
system_uptime=no
min_lifetime=$UPNP_MIN_LIFETIME
max_lifetime=86400
lease_file=$RUN/miniupnpd-r$i.leases
uuid=3d3cec3a-8cf0-11e0-98ee-0000000000$(printf '%02d' "$i")
allow 1024-65535 10.0.$i.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
  rm -f "$RUN/miniupnpd-r$i.pid" "$RUN/miniupnpd-r$i.leases"
  : >> "$log"
  from=$(wc -c < "$log")
  setsid bash -c 'echo $$ > "$0"; exec ip netns exec "$1" "${@:2}"' "$RUN/miniupnpd-r$i.pid" "$r" \
    miniupnpd -f "$CONF/miniupnpd-r$i.conf" -d -P "$RUN/miniupnpd-r$i.ownpid" \
    </dev/null >>"$log" 2>&1 &
  for ((t = 0; t < 100; t++)); do
    tail -c +"$((from + 1))" "$log" | grep -q "Listening for NAT-PMP/PCP traffic" \
      && [ -n "$(miniupnpd_pid "$i")" ] && return 0
    sleep 0.05
  done
  tail -n 20 "$log" >&2 || true
  die "miniupnpd of site $i did not listen within 5 s (log: $log)"
}
# upnp_off <site>: undoes upnp_on (nothing to undo when the site is not upnp).
upnp_off() {
  local i=$1 r pid; r=$(ns_r "$i")
  if pid=$(miniupnpd_pid "$i"); then
    stop_pid "$pid"
  fi
  rm -f "$RUN/miniupnpd-r$i.pid"
  nsx "$r" nft delete table inet filter 2>/dev/null || true
  nsx "$r" ip addr del "$(upnp_ext4 "$i")/32" dev wan0 2>/dev/null || true
  nsx "$NS_CORE" ip route del "$(upnp_ext4 "$i")/32" 2>/dev/null || true
}
# upnp_mappings <site>: the router's port mappings, one "proto ext_port
# internal_ip:port" line each (miniupnpd's DNAT rules).
upnp_mappings() {
  nsx "$(ns_r "$1")" nft list chain inet filter prerouting_miniupnpd 2>/dev/null \
    | sed -n 's/.*@nh,72,8 \(0x[0-9a-f]*\) th dport \([0-9]*\) dnat ip to \([0-9.:]*\).*/\1 \2 \3/p' \
    | sed -e 's/^0x6 /tcp /' -e 's/^0x11 /udp /'
}

# upnp_pinholes <site>: the router's IPv6 pinholes, one "proto [ip]:port"
# line each (miniupnpd's accept rules on the IPv6 destination).
upnp_pinholes() {
  local proto port hex ip
  nsx "$(ns_r "$1")" nft list chain inet filter miniupnpd 2>/dev/null \
    | sed -n 's/.*th dport \([0-9]*\) @nh,192,128 0x\([0-9a-f]\{32\}\) @nh,48,8 \(0x[0-9a-f]*\).*/\3 \1 \2/p' \
    | while read -r proto port hex; do
        case $proto in 0x6) proto=tcp;; 0x11) proto=udp;; esac
        # 8 groups without leading zeros, the first run of zero groups as ::
        # (the lab's addresses: 2001:db8:1:1::2)
        ip=$(echo "$hex" | sed -e 's/..../&:/g' -e 's/:$//' -e 's/\(^\|:\)0\{1,3\}/\1/g' \
          -e 's/\(^\|:\)0\(:0\)\{1,\}\(:\|$\)/::/')
        echo "$proto [$ip]:$port"
      done
}

# ------------------------------------------------------------------ coturn
proc_alive() {   # running and not a zombie (PID 1 may reap slowly)
  local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
stop_pid() {     # stop_pid <pid>: TERM, then KILL after 5 s; returns once it is gone
  # (a loaded machine has seen coturn take more than 3 s over TERM, and a
  # KILLed process still running a moment after the signal)
  local t
  kill -TERM "$1" 2>/dev/null || true
  for ((t = 0; t < 100; t++)); do proc_alive "$1" || return 0; sleep 0.05; done
  kill -KILL "$1" 2>/dev/null || true
  for ((t = 0; t < 40; t++)); do proc_alive "$1" || return 0; sleep 0.05; done
}
coturn_pid() {   # prints coturn's pid if it is ours and alive
  local pid; pid=$(cat "$RUN/coturn.pid" 2>/dev/null) || return 1
  proc_alive "$pid" || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q '^turnserver ' || return 1
  echo "$pid"
}
listening() {    # listening <proto u|t> <addr> <port>
  local pat="^\\[?${2//./\\.}\\]?:$3\$"
  nsx "$NS_SRV" ss -H -ln"$1" 2>/dev/null | awk '{print $4}' | grep -qE "$pat"
}
start_coturn() {
  rm -f "$RUN/coturn.pid"
  # the subshell writes its own pid, then becomes turnserver (exec keeps the pid)
  setsid bash -c 'echo $$ > "$0"; exec ip netns exec "$1" "${@:2}"' "$RUN/coturn.pid" "$NS_SRV" \
    turnserver -n \
    --listening-ip="$STUN1_4" --listening-ip="$STUN2_4" \
    --listening-ip="$STUN1_6" --listening-ip="$STUN2_6" \
    --listening-port=$STUN_PORT --alt-listening-port=$STUN_ALT_PORT \
    --relay-ip="$STUN1_4" --relay-ip="$STUN1_6" \
    --min-port=$TURN_MIN_PORT --max-port=$TURN_MAX_PORT \
    --lt-cred-mech --user="$TURN_USER:$TURN_PASS" --realm="$TURN_REALM" --fingerprint \
    --no-tls --no-dtls --no-cli --userdb="$RUN/turndb" --pidfile="$RUN/coturn.ownpid" \
    --log-file=stdout --simple-log </dev/null >>"$LOG/coturn.log" 2>&1 &
  local t a p ok
  for ((t = 0; t < 200; t++)); do            # 10 s at most
    ok=1
    for a in "$STUN1_4" "$STUN2_4" "$STUN1_6" "$STUN2_6"; do
      for p in $STUN_PORT $STUN_ALT_PORT; do listening u "$a" "$p" || { ok=0; break 2; }; done
    done
    [ $ok = 1 ] && [ -n "$(coturn_pid)" ] && return 0
    sleep 0.05
  done
  tail -n 20 "$LOG/coturn.log" >&2 || true
  die "coturn did not listen on all 8 UDP endpoints within 10 s (log: $LOG/coturn.log)"
}
stop_coturn() {
  local pid
  pid=$(coturn_pid) || { rm -f "$RUN/coturn.pid"; return 0; }
  stop_pid "$pid"
  rm -f "$RUN/coturn.pid"
}

# ------------------------------------------------------------------ mosquitto
# The signalling broker of nodes in the lab. Optional: without the package the
# lab comes up without it (and without P2PDLAB_MQTT in the env); tests that
# need it skip. Started like coturn: our own config, our own pid file.
have_mosquitto() { command -v mosquitto >/dev/null 2>&1; }
mosquitto_pid() {
  local pid; pid=$(cat "$RUN/mosquitto.pid" 2>/dev/null) || return 1
  proc_alive "$pid" || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q '^mosquitto ' || return 1
  echo "$pid"
}
start_mosquitto() {
  # user root: else it drops to the user "mosquitto", which may not read $CONF
  cat > "$CONF/mosquitto.conf" <<EOF
# generated by lab.sh
user root
persistence false
log_dest stdout
log_type error
log_type warning
log_type notice
# Nagle off: with it, a PUBLISH queued behind an unacknowledged PUBACK waited
# for the subscriber's delayed ACK (40 ms), in every punch exchange.
set_tcp_nodelay true
listener $MQTT_PORT $MQTT_4
allow_anonymous true
listener $MQTT_PORT $MQTT_6
allow_anonymous true
EOF
  rm -f "$RUN/mosquitto.pid"
  setsid bash -c 'echo $$ > "$0"; exec ip netns exec "$1" "${@:2}"' "$RUN/mosquitto.pid" "$NS_SRV" \
    mosquitto -c "$CONF/mosquitto.conf" </dev/null >>"$LOG/mosquitto.log" 2>&1 &
  local t
  for ((t = 0; t < 200; t++)); do            # 10 s at most
    listening t "$MQTT_4" $MQTT_PORT && listening t "$MQTT_6" $MQTT_PORT \
      && [ -n "$(mosquitto_pid)" ] && return 0
    sleep 0.05
  done
  tail -n 20 "$LOG/mosquitto.log" >&2 || true
  die "mosquitto did not listen on $MQTT_4 and $MQTT_6 port $MQTT_PORT within 10 s (log: $LOG/mosquitto.log)"
}
stop_mosquitto() {
  local pid
  pid=$(mosquitto_pid) || { rm -f "$RUN/mosquitto.pid"; return 0; }
  stop_pid "$pid"
  rm -f "$RUN/mosquitto.pid"
}

# ------------------------------------------------------------------ chronyd
# The nodes' NTP server. Optional like mosquitto (Debian package chrony). It
# serves the machine's clock (local stratum 8, no upstream) and is started with
# -x: it never sets the clock, which every namespace shares. No command socket
# (cmdport 0, bindcmdaddress /), pid and drift files in the lab's run dir: the
# host's own chronyd, if any, is not touched.
have_chronyd() { command -v chronyd >/dev/null 2>&1; }
chronyd_pid() {
  local pid; pid=$(cat "$RUN/chronyd.pid" 2>/dev/null) || return 1
  proc_alive "$pid" || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q '^chronyd ' || return 1
  echo "$pid"
}
start_chronyd() {
  cat > "$CONF/chrony.conf" <<EOF
# generated by lab.sh: an NTP server with no upstream, serving its own clock
local stratum 8
allow all
bindaddress $NTP_4
bindaddress $NTP_6
port $NTP_PORT
cmdport 0
bindcmdaddress /
pidfile $RUN/chronyd.ownpid
driftfile $RUN/chrony.drift
EOF
  rm -f "$RUN/chronyd.pid"
  # -u root: as root chronyd would drop to _chrony, who may not read $CONF
  setsid bash -c 'echo $$ > "$0"; exec ip netns exec "$1" "${@:2}"' "$RUN/chronyd.pid" "$NS_SRV" \
    chronyd -d -x -u root -f "$CONF/chrony.conf" </dev/null >>"$LOG/chronyd.log" 2>&1 &
  local t
  for ((t = 0; t < 200; t++)); do            # 10 s at most
    listening u "$NTP_4" $NTP_PORT && listening u "$NTP_6" $NTP_PORT \
      && [ -n "$(chronyd_pid)" ] && return 0
    sleep 0.05
  done
  tail -n 20 "$LOG/chronyd.log" >&2 || true
  die "chronyd did not listen on $NTP_4 and $NTP_6 port $NTP_PORT within 10 s (log: $LOG/chronyd.log)"
}
stop_chronyd() {
  local pid
  pid=$(chronyd_pid) || { rm -f "$RUN/chronyd.pid"; return 0; }
  stop_pid "$pid"
  rm -f "$RUN/chronyd.pid"
}

# ------------------------------------------------------------------ env
print_env() {
  local i mode
  echo "P2PDLAB_PREFIX=$PFX"
  echo "P2PDLAB_DIR=$LAB_DIR"
  echo "P2PDLAB_NSITES=$NSITES"
  echo "P2PDLAB_NS_CORE=$NS_CORE"
  echo "P2PDLAB_NS_SRV=$NS_SRV"
  echo "P2PDLAB_STUN1=$STUN1_4"; echo "P2PDLAB_STUN2=$STUN2_4"
  echo "P2PDLAB_STUN1_6=$STUN1_6"; echo "P2PDLAB_STUN2_6=$STUN2_6"
  echo "P2PDLAB_STUN_PORT=$STUN_PORT"; echo "P2PDLAB_STUN_ALT_PORT=$STUN_ALT_PORT"
  echo "P2PDLAB_TURN=$STUN1_4"; echo "P2PDLAB_TURN6=$STUN1_6"; echo "P2PDLAB_TURN_PORT=$STUN_PORT"
  echo "P2PDLAB_TURN_USER=$TURN_USER"; echo "P2PDLAB_TURN_PASS=$TURN_PASS"; echo "P2PDLAB_TURN_REALM=$TURN_REALM"
  echo "P2PDLAB_SEQ_BASE=$SEQ_BASE"
  if [ -e "$STATE/mosquitto" ]; then
    echo "P2PDLAB_MQTT=$MQTT_4"; echo "P2PDLAB_MQTT6=$MQTT_6"; echo "P2PDLAB_MQTT_PORT=$MQTT_PORT"
  fi
  if [ -e "$STATE/chronyd" ]; then
    echo "P2PDLAB_NTP=$NTP_4"; echo "P2PDLAB_NTP6=$NTP_6"; echo "P2PDLAB_NTP_PORT=$NTP_PORT"
  fi
  echo "P2PDLAB_SERVERS=$SERVERS_FILE"
  for ((i = 1; i <= NSITES; i++)); do
    get_site_mode "$i"; mode=$SITE_MODE_NOW
    site_addrs "$i" "$mode"; expectations "$mode"
    echo "P2PDLAB_SITE${i}_MODE=$mode"
    echo "P2PDLAB_SITE${i}_NS_ROUTER=$S_R"
    echo "P2PDLAB_SITE${i}_NS_HOST=$S_H"
    echo "P2PDLAB_SITE${i}_WAN=$(pub4 "$i" "$mode")"
    echo "P2PDLAB_SITE${i}_WAN_IF=$S_WAN4"
    echo "P2PDLAB_SITE${i}_WAN6=$S_WAN6"
    echo "P2PDLAB_SITE${i}_HOST=$S_HOST4"
    echo "P2PDLAB_SITE${i}_HOST6=$S_LAN6_HOST"
    echo "P2PDLAB_SITE${i}_GW=$S_GW4"
    echo "P2PDLAB_SITE${i}_GW6=$S_LAN6_GW"
    echo "P2PDLAB_SITE${i}_EXPECT_NAT=$E_NAT"
    echo "P2PDLAB_SITE${i}_EXPECT_DELTA=$E_DELTA"
    echo "P2PDLAB_SITE${i}_EXPECT_DELTA_VALUE=$E_DELTA_VALUE"
    echo "P2PDLAB_SITE${i}_EXPECT_NAT6=$E_NAT6"
  done
}
# The server file for p2pd's nodes (net/util/server_list.hpp's format): two
# STUN servers of each family (their answers must agree for an external
# address), the RFC 5780 server of each family for the NAT type, coturn as
# the relay of each family with the lab's credentials, the broker and the
# NTP server, each as far as the lab has it.
print_servers() {
  echo "# generated by lab.sh: the lab's servers for p2pd nodes"
  echo "stun $STUN1_4:$STUN_PORT"; echo "stun $STUN2_4:$STUN_PORT"
  echo "stun [$STUN1_6]:$STUN_PORT"; echo "stun [$STUN2_6]:$STUN_PORT"
  echo "nat $STUN1_4:$STUN_PORT"; echo "nat [$STUN1_6]:$STUN_PORT"
  echo "turn $STUN1_4:$STUN_PORT $TURN_USER $TURN_PASS"
  echo "turn [$STUN1_6]:$STUN_PORT $TURN_USER $TURN_PASS"
  [ -e "$STATE/mosquitto" ] && echo "mqtt tcp://$MQTT_4:$MQTT_PORT"
  if [ -e "$STATE/chronyd" ]; then echo "ntp $NTP_4:$NTP_PORT"; echo "ntp [$NTP_6]:$NTP_PORT"; fi
  return 0
}
write_env() {
  print_env > "$ENV_FILE.tmp" && mv "$ENV_FILE.tmp" "$ENV_FILE"
  print_servers > "$SERVERS_FILE.tmp" && mv "$SERVERS_FILE.tmp" "$SERVERS_FILE"
}

# ------------------------------------------------------------------ commands
config_sig() { echo "$PFX|$SITES|ntp|upnp=$UPNP_ALL"; }   # the suffix: a lab of an older lab.sh (no NTP) is rebuilt
healthy() {
  local n
  [ "$(cat "$STATE/up" 2>/dev/null)" = "$(config_sig)" ] || return 1
  for n in $(all_ns); do ns_exists "$n" || return 1; done
  [ "$(lab_ns_present | wc -l)" -eq $((2 + 2 * NSITES)) ] || return 1
  if [ -e "$STATE/mosquitto" ]; then mosquitto_pid >/dev/null || return 1; fi
  if [ -e "$STATE/chronyd" ]; then chronyd_pid >/dev/null || return 1; fi
  for ((n = 1; n <= NSITES; n++)); do
    ! runs_upnp "$(site_mode "$n")" || miniupnpd_pid "$n" >/dev/null || return 1
  done
  coturn_pid >/dev/null
}
check_config() {
  local m
  [[ $PFX =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$ ]] || die "P2PDLAB_PREFIX must match [A-Za-z0-9][A-Za-z0-9_.-]{0,30}"
  [ "$NSITES" -ge 1 ] && [ "$NSITES" -le $MAX_SITES ] || die "P2PDLAB_SITES must name 1..$MAX_SITES modes"
  for m in "${SITE_MODES[@]}"; do valid_mode "$m" || die "unknown mode '$m' in P2PDLAB_SITES (one of: $MODES)"; done
}
need_root() { [ "$(id -u)" = 0 ] || die "the lab needs root (network namespaces, nftables)"; }

cmd_up() {
  need_root; check_config
  need ip iproute2; need nft nftables; need conntrack conntrack; need turnserver coturn
  local i t0; t0=$(date +%s%N)
  if healthy; then
    for ((i = 1; i <= NSITES; i++)); do
      [ "$(site_mode "$i")" = "${SITE_MODES[$((i - 1))]}" ] || set_mode "$i" "${SITE_MODES[$((i - 1))]}"
    done
    write_env; log "already up; sites reset to their configured modes"; return 0
  fi
  cmd_down quiet
  mkdir -p "$LOG" "$RUN" "$CONF" "$STATE"
  : > "$LOG/coturn.log"; : > "$LOG/mosquitto.log"; : > "$LOG/chronyd.log"
  # a failed up leaves nothing behind
  # shellcheck disable=SC2154  # rc is set inside the trap
  trap 'rc=$?; if [ $rc != 0 ]; then log "up failed (rc $rc); cleaning up"; cmd_down quiet; fi' EXIT
  build
  for ((i = 1; i <= NSITES; i++)); do set_mode "$i" "${SITE_MODES[$((i - 1))]}" fresh; done
  start_coturn
  if have_mosquitto; then start_mosquitto; touch "$STATE/mosquitto"
  else log "mosquitto is not installed: no MQTT broker in the lab (Debian package mosquitto)"; fi
  if have_chronyd; then start_chronyd; touch "$STATE/chronyd"
  else log "chronyd is not installed: no NTP server in the lab (Debian package chrony)"; fi
  config_sig > "$STATE/up"
  write_env
  trap - EXIT
  log "up in $(( ($(date +%s%N) - t0) / 1000000 )) ms: $NSITES sites ($SITES); env: $ENV_FILE"
}

cmd_down() {
  local quiet=${1:-} n p
  [ "$(id -u)" = 0 ] || die "the lab needs root"
  stop_coturn
  stop_mosquitto
  stop_chronyd
  # whatever else still runs inside a lab namespace (a test that hung, ...)
  for n in $(lab_ns_present); do
    for p in $(ip netns pids "$n" 2>/dev/null); do
      proc_alive "$p" || continue
      log "killing pid $p left in $n: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | cut -c1-80)"
      kill -KILL "$p" 2>/dev/null || true
    done
  done
  for n in $(lab_ns_present); do ip netns del "$n" 2>/dev/null || log "could not delete namespace $n"; done
  rm -rf "$STATE" "$RUN" "$ENV_FILE" "$SERVERS_FILE"
  [ -z "$(lab_ns_present)" ] || die "namespaces left: $(lab_ns_present | tr '\n' ' ')"
  [ -n "$quiet" ] || log "down"
}

cmd_status() {
  local i n pid mode
  if healthy; then echo "lab: up ($LAB_DIR)"; else echo "lab: NOT healthy/up ($LAB_DIR)"; fi
  for n in $(all_ns); do
    if ns_exists "$n"; then printf '  ns %-20s present\n' "$n"; else printf '  ns %-20s missing\n' "$n"; fi
  done
  if pid=$(coturn_pid); then echo "  coturn: pid $pid, $STUN1_4/$STUN2_4 and $STUN1_6/$STUN2_6 ports $STUN_PORT/$STUN_ALT_PORT"
  else echo "  coturn: not running"; fi
  if pid=$(mosquitto_pid); then echo "  mosquitto: pid $pid, $MQTT_4 and $MQTT_6 port $MQTT_PORT"
  else echo "  mosquitto: not running"; fi
  if pid=$(chronyd_pid); then echo "  chronyd: pid $pid, $NTP_4 and $NTP_6 port $NTP_PORT"
  else echo "  chronyd: not running"; fi
  for ((i = 1; i <= NSITES; i++)); do
    mode=$(site_mode "$i")
    printf '  site %-2d %-21s wan %-15s host %-15s %s\n' "$i" "$mode" "$(pub4 "$i" "$mode")" "$(host4 "$i" "$mode")" "$(lan6_host "$i")"
    if runs_upnp "$mode"; then
      if pid=$(miniupnpd_pid "$i"); then echo "    miniupnpd: pid $pid (log: $LOG/miniupnpd-r$i.log)"
      else echo "    miniupnpd: not running"; fi
    fi
  done
  healthy
}

# ns_arg <name>: short (core, srv, r1, h1) or full name of a lab namespace
# into NS_ARG. No subshell: `exec` runs often, in parallel, on loaded machines.
ns_arg() {
  local n=$1
  case $n in core|srv|r[0-9]*|h[0-9]*) n=$PFX$n;; esac
  local short=${n#"$PFX"}
  if [ "$short" = "$n" ] || ! [[ $short =~ ^(core|srv|[rh]([1-9][0-9]*))$ ]] \
     || { [ -n "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[2]}" -gt "$NSITES" ]; }; then
    die "'$1' is not a lab namespace ($(all_ns | tr '\n' ' '))"
  fi
  ns_exists "$n" || die "namespace $n does not exist (run: $0 up)"
  NS_ARG=$n
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  nat)
    need_root
    [[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le "$NSITES" ] || die "usage: nat <site 1..$NSITES> <mode>"
    [ -n "${3:-}" ] || die "usage: nat <site> <mode> (one of: $MODES)"
    ns_exists "$(ns_r "$2")" || die "lab is not up"
    set_mode "$2" "$3"; write_env; log "site $2 -> $3" ;;
  exec)
    [ -n "${2:-}" ] && [ -n "${3:-}" ] || die "usage: exec <ns> cmd..."
    ns_arg "$2"; shift 2; exec ip netns exec "$NS_ARG" "$@" ;;
  env) print_env ;;
  mappings)
    [[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le "$NSITES" ] || die "usage: mappings <site 1..$NSITES>"
    runs_upnp "$(site_mode "$2")" || die "site $2 runs no miniupnpd (an upnp site, or P2PDLAB_UPNP=1)"
    upnp_mappings "$2" ;;
  pinholes)
    [[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le "$NSITES" ] || die "usage: pinholes <site 1..$NSITES>"
    [ "$(site_mode "$2")" = upnp ] || die "site $2 is not an upnp site"
    upnp_pinholes "$2" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2 ;;
esac
