#!/usr/bin/env bash
# smoke.sh - CTest "lab_smoke": bring the lab up, check every NAT mode with
# STUN clients that p2pd did not write (the classic RFC 3489 `stun` client from
# Debian's stun-client, and coturn's turnutils_stunclient), then take it down
# and check nothing is left. Exit 0 = pass, 1 = fail, 77 = skipped (not root).
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
LAB=$HERE/lab.sh
PFX=${P2PDLAB_PREFIX:-p2pdlab-}

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: lab_smoke needs root (network namespaces + nftables); run ctest as root to include it"
  exit 77
fi

WORK=$(mktemp -d /tmp/p2pdlab-smoke.XXXXXX)
RES=$WORK/results          # one line per check; also written by the per-site subshells
ok()  { echo ok >> "$RES"; printf '  ok    %s\n' "$1"; }
bad() { echo FAIL >> "$RES"; printf '  FAIL  %s -- %s\n' "$1" "${2:-}"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi; }
lab_ns_left() {
  ls /run/netns 2>/dev/null | while read -r n; do
    [ "${n#"$PFX"}" != "$n" ] && [[ ${n#"$PFX"} =~ ^(core|srv|r[0-9]+|h[0-9]+)$ ]] && echo "$n"
  done
}
cleanup() { "$LAB" down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

# classic RFC 3489 client: the "Primary:" verdict, and one test-I mapping from a fixed source port
stun_verdict() { timeout 20 "$LAB" exec "$1" stun "$2" 2>&1 | sed -n 's/^Primary: *//p' | sed 's/[[:space:]]*$//'; }
stun_map() {   # -> "ip:port" of MAPPED-ADDRESS from <srcport>; empty if no answer (test 1 waits forever, hence timeout 3)
  timeout 3 "$LAB" exec "$1" stun "$2" 1 -p "$3" -v 2>&1 | sed -n 's/.*MappedAddress = //p' | head -n1
}
# coturn's RFC 5389/5780 client. It waits forever for CHANGE-REQUEST replies a
# firewall drops, so it runs under a 3 s timeout and only its output counts.
turnutils() { timeout 3 "$LAB" exec "$1" turnutils_stunclient "${@:2}" 2>&1; }
reflexive() { sed -n 's/.*UDP reflexive addr: //p' | head -n1; }
# chronyd as a one-shot NTP client (-Q: measure, never set the clock, no
# server ports): "answers" if the lab's chronyd answered within 3 s
ntp_answer() {
  timeout 6 "$LAB" exec "$1" chronyd -Q -t 3 -f /dev/null "server $2 iburst maxsamples 1" 2>&1 \
    | grep -q 'System clock wrong by' && echo answers || echo silent
}
addr_of() { local a=${1%:*}; echo "${a#[}" | sed 's/]$//'; }
port_of() { echo "${1##*:}"; }

root_links_before=$(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')
t0=$(date +%s)
echo "== lab.sh up"
if ! timeout 60 "$LAB" up; then echo "FAIL: lab.sh up"; exit 1; fi
eval "$("$LAB" env)"
timeout 30 "$LAB" up 2>/dev/null && ok "second 'up' is a no-op on a healthy lab" || bad "second up"
"$LAB" status >/dev/null && ok "status: healthy" || bad "status" "$("$LAB" status)"
check "root namespace links unchanged (nothing bridged to the real NIC)" \
  "$(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')" "$root_links_before"
"$LAB" exec core ip route get 8.8.8.8 >/dev/null 2>&1 && bad "core router must have no default route" \
  || ok "core router has no route out of the lab (route lookup only)"

declare -A VERDICT=(
  [open]="Open" [udp-firewall]="Firewall"
  [full-cone]="Independent Mapping, Independent Filter, preserves ports, no hairpin"
  [restricted]="Independent Mapping, Address Dependent Filter, preserves ports, no hairpin"
  [port-restricted]="Independent Mapping, Port Dependent Filter, preserves ports, no hairpin"
  [symmetric]="Dependent Mapping, random port, no hairpin"
  [symmetric-sequential]="Dependent Mapping, random port, no hairpin"
  [udp-blocked]="Blocked or could not reach STUN server"
  [masquerade]="Independent Mapping, Port Dependent Filter, preserves ports, no hairpin")

site_checks() {   # site_checks <site> <mode>
  local i=$1 mode=$2 h="h$1" v w host wan host6 m1 m2 m3 lp out
  v=P2PDLAB_SITE${i}_WAN; wan=${!v}; v=P2PDLAB_SITE${i}_HOST; host=${!v}; v=P2PDLAB_SITE${i}_HOST6; host6=${!v}
  echo "== site $i: $mode (host $host, wan $wan)"
  check "site $i $mode: stun (RFC 3489) verdict" "$(stun_verdict "$h" "$P2PDLAB_STUN1")" "${VERDICT[$mode]}"

  # mapped address seen by the server (RFC 5389 client)
  out=$(turnutils "$h" "$P2PDLAB_STUN1"); m1=$(reflexive <<< "$out")
  case $mode in
    udp-blocked) check "site $i $mode: no STUN answer over UDP" "$m1" "" ;;
    open|udp-firewall) check "site $i $mode: mapped address = host's own address" "$(addr_of "$m1")" "$host" ;;
    *) check "site $i $mode: mapped address = router WAN" "$(addr_of "$m1")" "$wan" ;;
  esac

  # one local port, two destinations: mapping behaviour and port delta
  lp=$((45000 + 10 * i))
  m1=$(stun_map "$h" "$P2PDLAB_STUN1" $lp); m2=$(stun_map "$h" "$P2PDLAB_STUN2" $lp)
  case $mode in
    udp-blocked) check "site $i $mode: no mapping from port $lp" "$m1$m2" "" ;;
    symmetric)
      if [ -n "$m1" ] && [ -n "$m2" ] && [ "$(port_of "$m1")" != "$(port_of "$m2")" ]; then
        ok "site $i $mode: mapping changes per destination ($m1 vs $m2 from :$lp)"
      else bad "site $i $mode: mapping per destination" "$m1 / $m2"; fi ;;
    symmetric-sequential)
      m3=$(stun_map "$h" "$P2PDLAB_STUN1" $((lp + 1)))
      if [ -n "$m1" ] && [ -n "$m2" ] && [ -n "$m3" ] && [ "$(port_of "$m2")" = $(( $(port_of "$m1") + 1 )) ] \
         && [ "$(port_of "$m3")" = $(( $(port_of "$m1") + 2 )) ]; then
        ok "site $i $mode: each new mapping is the last +1 ($(port_of "$m1"), $(port_of "$m2"), $(port_of "$m3"))"
      else bad "site $i $mode: sequential ports" "$m1 / $m2 / $m3"; fi ;;
    *) check "site $i $mode: same mapping to both servers, source port kept" "$m1 $m2" "${m1%:*}:$lp ${m1%:*}:$lp" ;;
  esac

  # NTP (UDP): the lab's chronyd answers every site but the UDP-blocked one
  if [ -n "${P2PDLAB_NTP:-}" ]; then
    local want=answers; [ "$mode" = udp-blocked ] && want=silent
    check "site $i $mode: NTP over IPv4 $want" "$(ntp_answer "$h" "$P2PDLAB_NTP")" $want
    check "site $i $mode: NTP over IPv6 $want" "$(ntp_answer "$h" "$P2PDLAB_NTP6")" $want
  fi

  # IPv6: no NAT; open site unfiltered, others a stateful firewall, udp-blocked blocks UDP
  out=$(turnutils "$h" "$P2PDLAB_STUN1_6"); m1=$(reflexive <<< "$out")
  if [ "$mode" = udp-blocked ]; then check "site $i $mode: no STUN answer over IPv6 UDP" "$m1" ""
  else
    check "site $i $mode: IPv6 mapped address = host's address" "$(addr_of "$m1")" "$host6"
    if grep -q "RFC 5780 response 2" <<< "$out"; then w=unfiltered; else w=filtered; fi
    check "site $i $mode: IPv6 change-IP/port reply $( [ "$mode" = open ] && echo arrives || echo is dropped)" \
      "$w" "$( [ "$mode" = open ] && echo unfiltered || echo filtered)"
  fi
}

# the sites are independent, so they are checked side by side (each check is
# bounded by its own timeout); output is printed in site order afterwards
pids=()
for ((i = 1; i <= P2PDLAB_NSITES; i++)); do
  v=P2PDLAB_SITE${i}_MODE; site_checks "$i" "${!v}" > "$WORK/site$i.out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for ((i = 1; i <= P2PDLAB_NSITES; i++)); do cat "$WORK/site$i.out"; done

echo "== coturn RFC 5780 from the open site"
if [ -n "${P2PDLAB_SITE1_MODE:-}" ] && [ "$P2PDLAB_SITE1_MODE" = open ]; then
  out=$(turnutils h1 -f "$P2PDLAB_STUN1")
  grep -q "Response origin: : $P2PDLAB_STUN1:$P2PDLAB_STUN_PORT" <<< "$out" && ok "RESPONSE-ORIGIN = primary" || bad "RESPONSE-ORIGIN" "$out"
  grep -q "Other addr: : $P2PDLAB_STUN2:$P2PDLAB_STUN_ALT_PORT" <<< "$out" && ok "OTHER-ADDRESS = $P2PDLAB_STUN2:$P2PDLAB_STUN_ALT_PORT" || bad "OTHER-ADDRESS" "$out"
  grep -A1 "RFC 5780 response 2" <<< "$out" | grep -q "Response origin: : $P2PDLAB_STUN2:$P2PDLAB_STUN_ALT_PORT" \
    && ok "CHANGE-REQUEST (ip+port) answered from $P2PDLAB_STUN2:$P2PDLAB_STUN_ALT_PORT" || bad "CHANGE-REQUEST" "$out"
fi

echo "== lab.sh nat: switch site 5 at run time and back"
if [ "${P2PDLAB_NSITES}" -ge 5 ]; then
  orig=$P2PDLAB_SITE5_MODE
  for m in symmetric full-cone "$orig"; do
    "$LAB" nat 5 "$m" 2>/dev/null
    check "site 5 switched to $m: stun verdict" "$(stun_verdict h5 "$P2PDLAB_STUN1")" "${VERDICT[$m]}"
  done
fi

echo "== lab.sh down"
coturn_pid=$(cat "$P2PDLAB_DIR/run/coturn.pid" 2>/dev/null || true)
mosquitto_pid=$(cat "$P2PDLAB_DIR/run/mosquitto.pid" 2>/dev/null || true)
chronyd_pid=$(cat "$P2PDLAB_DIR/run/chronyd.pid" 2>/dev/null || true)
timeout 60 "$LAB" down || bad "lab.sh down" "exit $?"
left=$(lab_ns_left | tr '\n' ' ')
check "no ${PFX} namespace left" "$left" ""
if [ -n "$coturn_pid" ] && [ -d "/proc/$coturn_pid" ] && [ "$(awk '{print $3}' "/proc/$coturn_pid/stat" 2>/dev/null)" != Z ]; then
  bad "coturn (pid $coturn_pid) still running"; else ok "coturn (pid ${coturn_pid:-?}) stopped"; fi
if [ -n "$mosquitto_pid" ]; then
  if [ -d "/proc/$mosquitto_pid" ] && [ "$(awk '{print $3}' "/proc/$mosquitto_pid/stat" 2>/dev/null)" != Z ]; then
    bad "mosquitto (pid $mosquitto_pid) still running"; else ok "mosquitto (pid $mosquitto_pid) stopped"; fi
fi
if [ -n "$chronyd_pid" ]; then
  if [ -d "/proc/$chronyd_pid" ] && [ "$(awk '{print $3}' "/proc/$chronyd_pid/stat" 2>/dev/null)" != Z ]; then
    bad "chronyd (pid $chronyd_pid) still running"; else ok "chronyd (pid $chronyd_pid) stopped"; fi
fi
timeout 60 "$LAB" down >/dev/null 2>&1 && ok "second 'down' is a no-op" || bad "second down"
# a half-built lab (as after a crash) is removed too
ip netns add "${PFX}core"; ip netns add "${PFX}h12"
timeout 60 "$LAB" down >/dev/null 2>&1
check "'down' removes a partial lab" "$(lab_ns_left | tr '\n' ' ')" ""
PASS=$(grep -c '^ok$' "$RES"); FAILS=$(grep -c '^FAIL$' "$RES")
rm -rf "$WORK"; trap - EXIT
echo "summary: $PASS ok, $FAILS failed, $(( $(date +%s) - t0 )) s"
[ "$FAILS" = 0 ] && [ "$PASS" -gt 0 ]
