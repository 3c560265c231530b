#!/usr/bin/env bash
# interface_lab.sh <interface> - CTest "lab_interface": bring the lab up and
# start p2pd's interface actor (tools/interface.cpp) twice in every site's
# host namespace, with a server file naming the lab's coturn (two IPv4 and two
# IPv6 addresses). For each family it checks the NAT type and delta against
# the lab's expectations and the external address: the router's WAN address
# behind a NAT, the host's own address without one, none when UDP is blocked.
# It prints each start's time. Exit 0 = pass, 1 = fail, 77 = skipped (not root).
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
LAB=$HERE/lab.sh
PROG=${1:-}
RUNS=${P2PDLAB_PROBE_RUNS:-2}

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: lab_interface needs root (network namespaces + nftables)"
  exit 77
fi
if [ -z "$PROG" ] || [ ! -x "$PROG" ]; then
  echo "FAIL: usage: $0 <path to the interface example>"
  exit 1
fi

tmp=$(mktemp -d)
cleanup() { "$LAB" down >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

# shellcheck source=expect.sh
. "$HERE/expect.sh"

echo "== lab.sh up"
if ! timeout 60 "$LAB" up; then echo "FAIL: lab.sh up"; exit 1; fi
eval "$("$LAB" env)"
P=$P2PDLAB_STUN_PORT
cat > "$tmp/servers.conf" <<CONF
stun $P2PDLAB_STUN1:$P
stun $P2PDLAB_STUN2:$P
stun [$P2PDLAB_STUN1_6]:$P
stun [$P2PDLAB_STUN2_6]:$P
nat $P2PDLAB_STUN1:$P
nat [$P2PDLAB_STUN1_6]:$P
CONF

fails=0
printf '\n%-4s %-21s %-3s %-4s %-15s %-15s %-22s %-22s %-26s %-26s %-6s %s\n' site mode run fam \
  "want nat" "got nat" "want delta" "got delta" "want ext" "got ext" ms result
i=1
while v=P2PDLAB_SITE${i}_MODE; [ -n "${!v:-}" ]; do
  mode=${!v}
  v=P2PDLAB_SITE${i}_NS_HOST; ns=${!v}
  v=P2PDLAB_SITE${i}_WAN; wan=${!v}
  v=P2PDLAB_SITE${i}_HOST; host=${!v}
  v=P2PDLAB_SITE${i}_HOST6; host6=${!v%/*}
  v=P2PDLAB_SITE${i}_EXPECT_NAT; want4=$(nat_name "${!v}")
  v=P2PDLAB_SITE${i}_EXPECT_NAT6; want6=$(nat_name "${!v}")
  v=P2PDLAB_SITE${i}_EXPECT_DELTA; wantd4=$(delta_name "${!v}")
  v=P2PDLAB_SITE${i}_EXPECT_DELTA_VALUE; wantv4=${!v}
  case $mode in
    open|udp-firewall) ext4=$host;; udp-blocked) ext4=none;; *) ext4=$wan;;
  esac
  if [ "$mode" = udp-blocked ]; then ext6=none; else ext6=$host6; fi
  # Blocked UDP has no port allocation to measure, like no NAT at all.
  [ "$want4" = blocked ] && wantd4=not_applicable && wantv4=0
  for ((run = 1; run <= RUNS; run++)); do
    out=$(timeout 60 ip netns exec "$ns" "$PROG" --servers "$tmp/servers.conf" 2>&1); rc=$?
    ms=$(field start_ms "$out")
    for fam in v4 v6; do
      line=$(grep "^$fam " <<< "$out")
      if [ $fam = v4 ]; then wn=$want4 wd=$wantd4/$wantv4 we=$ext4
      else wn=$want6 wd=not_applicable/0 we=$ext6; fi
      gn=$(field nat "$line"); gd=$(field delta "$line")/$(field delta_value "$line")
      ge=$(field ext "$line")
      result=ok
      if [ $rc != 0 ] || [ -z "$line" ]; then result="FAIL (exit $rc)"
      elif [ "$gn" != "$wn" ]; then result="FAIL (nat)"
      elif [ "$gd" != "$wd" ]; then result="FAIL (delta)"
      elif [ "$ge" != "$we" ]; then result="FAIL (ext)"
      fi
      [ "${result%% *}" = ok ] || fails=$((fails + 1))
      printf '%-4s %-21s %-3s %-4s %-15s %-15s %-22s %-22s %-26s %-26s %-6s %s\n' "$i" "$mode" \
        "$run" "$fam" "$wn" "${gn:--}" "$wd" "$gd" "$we" "${ge:--}" "${ms:--}" "$result"
      if [ "${result%% *}" != ok ]; then sed 's/^/       | /' <<< "$out"; fi
    done
  done
  i=$((i + 1))
done
echo
if [ "$fails" -gt 0 ]; then echo "FAIL: $fails check(s) differ from the lab's expectations"; exit 1; fi
echo "PASS: every site's interface (IPv4 and IPv6) as the lab expects, $RUNS runs each"
