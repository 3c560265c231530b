#!/usr/bin/env bash
# nat_classification.sh <nat_probe> - CTest "lab_nat_classification": bring the
# lab up, run p2pd's nat_probe (tools/nat_probe.cpp) twice in every site's
# host namespace against coturn, and compare its NAT type and port delta with
# the lab's expectations (`lab.sh env`). Exit 0 = pass, 1 = fail, 77 = skipped
# (not root).
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
LAB=$HERE/lab.sh
PROBE=${1:-}
RUNS=${P2PDLAB_PROBE_RUNS:-2}

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: lab_nat_classification needs root (network namespaces + nftables)"
  exit 77
fi
if [ -z "$PROBE" ] || [ ! -x "$PROBE" ]; then
  echo "FAIL: usage: $0 <path to nat_probe>"
  exit 1
fi

cleanup() { "$LAB" down >/dev/null 2>&1 || true; }
trap cleanup EXIT

# shellcheck source=expect.sh
. "$HERE/expect.sh"

echo "== lab.sh up"
if ! timeout 60 "$LAB" up; then echo "FAIL: lab.sh up"; exit 1; fi
eval "$("$LAB" env)"
server="$P2PDLAB_STUN1:$P2PDLAB_STUN_PORT"

fails=0
notes=()
printf '\n%-4s %-21s %-4s %-16s %-16s %-22s %-22s %-21s %s\n' site mode run "want nat" "got nat" \
  "want delta" "got delta" mapped result
i=1
while v=P2PDLAB_SITE${i}_MODE; [ -n "${!v:-}" ]; do
  mode=${!v}
  v=P2PDLAB_SITE${i}_NS_HOST; ns=${!v}
  v=P2PDLAB_SITE${i}_EXPECT_NAT; want_nat=$(nat_name "${!v}")
  v=P2PDLAB_SITE${i}_EXPECT_DELTA; want_delta=$(delta_name "${!v}")
  v=P2PDLAB_SITE${i}_EXPECT_DELTA_VALUE; want_value=${!v}
  for ((run = 1; run <= RUNS; run++)); do
    out=$(timeout 60 ip netns exec "$ns" "$PROBE" "$server" 2>&1); rc=$?
    got_nat=$(field nat "$out"); got_delta=$(field delta "$out")
    got_value=$(field delta_value "$out"); mapped=$(field mapped "$out")
    result=ok
    if [ $rc != 0 ]; then
      result="FAIL (exit $rc)"
    elif [ "$got_nat" != "$want_nat" ]; then
      result="FAIL (nat)"
    elif [ "$got_delta" != "$want_delta" ] || [ "$got_value" != "$want_value" ]; then
      result="FAIL (delta)"
    fi
    [ "${result%% *}" = ok ] || fails=$((fails + 1))
    printf '%-4s %-21s %-4s %-16s %-16s %-22s %-22s %-21s %s\n' "$i" "$mode" "$run" "$want_nat" \
      "${got_nat:--}" "$want_delta/$want_value" "${got_delta:--}/${got_value:--}" "${mapped:--}" "$result"
    if [ "${result%% *}" != ok ]; then sed 's/^/       | /' <<< "$out"; fi
  done
  i=$((i + 1))
done
for n in "${notes[@]}"; do echo "$n"; done
echo
if [ "$fails" -gt 0 ]; then echo "FAIL: $fails run(s) misclassified"; exit 1; fi
echo "PASS: every site classified as the lab expects, $RUNS runs each"
