#!/usr/bin/env bash
# harness_lab.sh <p2pd_agent> <p2pd_harness> [--doc FILE] - CTest
# "lab_harness": the lab's kernel matrix produced by the distributed harness.
# A p2pd_agent in each site's host namespace, the controller (p2pd_harness)
# in a management namespace of its own, driving them over CAF's middleman;
# every run starts fresh nodes (the lab's servers, the site's NIC only),
# connects one to the other with punch,relay over UDP and TCP (IPv4), and
# sends a message there and back. The matrix must agree with
# tests/lab/punch_expected.txt as lab_punch_matrix checks it (docs/punch-matrix.md):
# with the relay as fallback every run connects, by the relay where the punch
# is refused, by the punch where it connects.
#
# The middleman's traffic stays off the lab's network: the management
# namespace reaches each host through a veth of its own (10.254.0.4i+1/30 ->
# 10.254.0.4i+2/30, no forwarding in the management namespace, so hosts
# cannot reach each other through it), the agents listen only there (checked
# with ss), and the nodes use only the site's NIC (eth0). The middleman's
# connections are TLS (a CA made for the run; the agents and the controller
# each trust only it) and carry the token inside.
#
# Without --all, a subset of the pairs for a quick check: six sites (open,
# full-cone, restricted, port-restricted, symmetric, udp-blocked) and the
# pairs open - full-cone, full-cone - restricted, restricted - symmetric,
# port-restricted - symmetric, open - udp-blocked, port-restricted -
# udp-blocked (punch simultaneous, punch spray or relay, relay for a refused
# punch), one run each (from the first to the second), both transports, 3
# pairs at a time.
# --all (CTest runs it so, with --runs 2: about 70 s): the whole matrix, as
# lab_punch_matrix runs it: two sites of every mode (a pair "X - X" is two
# separate NATs), all 45 pairs, 4 at a time (--jobs N), --runs N each
# (default 1; directions alternate). docs/harness-matrix.md is
# `harness_lab.sh ... --all --runs 3 --doc docs/harness-matrix.md`.
# --doc FILE: the matrix goes there too.
# Exit 0 = pass, 1 = fail, 77 = skipped (not root, no mosquitto in the lab).
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
LAB=$HERE/lab.sh
AGENT=${1:-} HARNESS=${2:-}; shift 2 2>/dev/null
DOC= ALL=0 RUNS=1 JOBS=
while [ $# -gt 0 ]; do
  case $1 in
    --doc) DOC=$2; shift 2;; --all) ALL=1; shift;; --runs) RUNS=$2; shift 2;;
    --jobs) JOBS=$2; shift 2;;
    *) echo "FAIL: unknown argument $1"; exit 2;;
  esac
done
[[ $RUNS =~ ^[1-9]$ ]] || { echo "FAIL: --runs must be 1..9"; exit 2; }
[[ -z $JOBS || $JOBS =~ ^[1-9]$ ]] || { echo "FAIL: --jobs must be 1..9"; exit 2; }
if [ "$(id -u)" != 0 ]; then echo "SKIP: lab_harness needs root (network namespaces)"; exit 77; fi
[ -x "$AGENT" ] && [ -x "$HARNESS" ] || { echo "FAIL: usage: $0 <p2pd_agent> <p2pd_harness> [--doc FILE]"; exit 1; }
AGENT=$(readlink -f "$AGENT"); HARNESS=$(readlink -f "$HARNESS")
PORT=4100          # each agent's middleman port, on its management address
BUDGET=150         # s: the controller's bound (the subset's runs take about 10)

if [ $ALL = 1 ]; then
  MODES=(open udp-firewall full-cone restricted port-restricted symmetric symmetric-sequential udp-blocked masquerade)
  export P2PDLAB_SITES="${MODES[*]} ${MODES[*]}"
  PAIRS=()   # mode x's first site, mode y's second: distinct sites even for x = y
  for ((x = 1; x <= ${#MODES[@]}; x++)); do
    for ((y = x; y <= ${#MODES[@]}; y++)); do PAIRS+=("$x $((y + ${#MODES[@]}))"); done
  done
  JOBS=${JOBS:-4} BUDGET=400
else
  export P2PDLAB_SITES="open full-cone restricted port-restricted symmetric udp-blocked"
  PAIRS=("1 2" "2 3" "3 5" "4 5" "1 6" "4 6")
  JOBS=${JOBS:-3}
fi
tmp=$(mktemp -d /tmp/p2pdlab-harness.XXXXXX)
MGMT=${P2PDLAB_PREFIX:-p2pdlab-}mgmt
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$MGMT" 2>/dev/null
  "$LAB" down >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
t0=$EPOCHSECONDS

echo "== lab.sh up: $P2PDLAB_SITES"
if ! timeout 120 "$LAB" up; then echo "FAIL: lab.sh up"; exit 1; fi
eval "$("$LAB" env)"
if [ -z "${P2PDLAB_MQTT:-}" ]; then echo "SKIP: the lab has no MQTT broker (mosquitto)"; exit 77; fi
grep -q '^turn ' "$P2PDLAB_SERVERS" || { echo "FAIL: the lab's server file names no relay"; exit 1; }

# ------------------------------------------------------------------ management network
mgmt_ip() { echo "10.254.0.$((4 * $1 + $2))"; }   # <site> <1: management side, 2: host side>
ip netns del "$MGMT" 2>/dev/null   # left by a run that was killed
ip netns add "$MGMT" || { echo "FAIL: cannot make namespace $MGMT"; exit 1; }
ip -n "$MGMT" link set lo up
for ((i = 1; i <= P2PDLAB_NSITES; i++)); do
  h=P2PDLAB_SITE${i}_NS_HOST
  ip link add "hx$i" netns "$MGMT" type veth peer name mgmt0 netns "${!h}" \
    && ip -n "$MGMT" addr add "$(mgmt_ip $i 1)/30" dev "hx$i" && ip -n "$MGMT" link set "hx$i" up \
    && ip -n "${!h}" addr add "$(mgmt_ip $i 2)/30" dev mgmt0 && ip -n "${!h}" link set mgmt0 up \
    || { echo "FAIL: management link to site $i"; exit 1; }
done
[ "$(ip netns exec "$MGMT" sysctl -n net.ipv4.ip_forward)" = 0 ] \
  || { echo "FAIL: the management namespace forwards"; exit 1; }

# ------------------------------------------------------------------ agents
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/token"
# TLS for the middleman: a CA of this run's own, a certificate for the
# agents and one for the controller, each side trusting the CA only.
pki=$tmp/pki
mkdir -p "$pki/agent" "$pki/controller"
ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
ec -x509 -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 -subj "/CN=p2pd lab harness CA" \
  || { echo "FAIL: openssl cannot make the CA"; exit 1; }
for who in agent controller; do
  ec -keyout "$pki/$who/key.pem" -out "$pki/$who.csr" -subj "/CN=p2pd lab $who" \
    && openssl x509 -req -in "$pki/$who.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
         -CAcreateserial -out "$pki/$who/cert.pem" -days 2 2>/dev/null \
    && cp "$pki/ca.pem" "$pki/$who/ca.pem" || { echo "FAIL: openssl cannot make the $who's certificate"; exit 1; }
done
scenario=$tmp/scenario
echo "# the lab's sites, one agent each (label: the site's NAT mode)" > "$scenario"
for ((i = 1; i <= P2PDLAB_NSITES; i++)); do
  h=P2PDLAB_SITE${i}_NS_HOST; m=P2PDLAB_SITE${i}_MODE
  timeout $((BUDGET + 30)) ip netns exec "${!h}" "$AGENT" --listen "$(mgmt_ip $i 2):$PORT" \
    --name "site$i" --token-file "$tmp/token" --data-dir "$tmp/site$i" \
    --servers "$P2PDLAB_SERVERS" --interfaces eth0 --tls-dir "$pki/agent" \
    > "$tmp/site$i.out" 2> "$tmp/site$i.err" &
  pids+=($!)
  echo "agent site$i $(mgmt_ip $i 2):$PORT label ${!m}" >> "$scenario"
done
for ((i = 1; i <= P2PDLAB_NSITES; i++)); do
  for _ in $(seq 100); do grep -q '^listening ' "$tmp/site$i.out" && break; sleep 0.1; done
  grep -q "^listening $(mgmt_ip $i 2):$PORT name=site$i tls$" "$tmp/site$i.out" \
    || { echo "FAIL: agent site$i did not come up"; cat "$tmp/site$i.err"; exit 1; }
  # The middleman listens on the management address only.
  h=P2PDLAB_SITE${i}_NS_HOST
  listen=$(ip netns exec "${!h}" ss -Htln "sport = :$PORT" | awk '{print $4}' | sort -u | tr '\n' ' ')
  [ "$listen" = "$(mgmt_ip $i 2):$PORT " ] \
    || { echo "FAIL: agent site$i listens on '$listen', not only $(mgmt_ip $i 2):$PORT"; exit 1; }
done
for p in "${PAIRS[@]}"; do
  read -r a b <<< "$p"
  echo "pair site$a site$b transports udp,tcp strategies punch,relay families 4 runs $RUNS" >> "$scenario"
done
echo "== scenario"; cat "$scenario"

# ------------------------------------------------------------------ the controller
echo "== p2pd_harness (in $MGMT)"
timeout $BUDGET ip netns exec "$MGMT" "$HARNESS" --scenario "$scenario" --token-file "$tmp/token" \
  --expected "$HERE/punch_expected.txt" --out "$tmp/matrix.md" --quit --jobs $JOBS \
  --tls-dir "$pki/controller" \
  > "$tmp/harness.out" 2> "$tmp/harness.err"
rc=$?
grep -v '^  site' "$tmp/harness.err"   # progress, without the nodes' facts
cat "$tmp/harness.out"
fail=0
[ $rc = 0 ] || { echo "FAIL: p2pd_harness exit $rc"; fail=1; }
want=$(( ${#PAIRS[@]} * 2 * RUNS ))
got=$(grep -c '^result ' "$tmp/harness.out")
[ "$got" = "$want" ] || { echo "FAIL: $got result lines, want $want"; fail=1; }
# Each agent quit when asked (--quit).
for ((i = 0; i < ${#pids[@]}; i++)); do
  wait "${pids[$i]}"; arc=$?
  [ $arc = 0 ] || { echo "FAIL: agent site$((i + 1)) exit $arc"; tail -5 "$tmp/site$((i + 1)).err"; fail=1; }
done
pids=()
if [ -n "$DOC" ]; then
  {
    echo "# The lab's matrix by the distributed harness"
    echo
    echo "Written by \`tests/lab/harness_lab.sh\` (CTest \`lab_harness\`) on $(date -u '+%Y-%m-%d %H:%M UTC'),"
    echo "commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo unknown): p2pd_agent in each site's host"
    echo "namespace, p2pd_harness in a management namespace (--jobs $JOBS, the middleman over TLS), runs per pair: $RUNS"
    echo "(directions alternate: odd runs from the first mode's site), $(( EPOCHSECONDS - t0 )) s in all."
    echo
    cat "$tmp/matrix.md"
  } > "$DOC" && echo "(written to $DOC)"
fi
[ $fail = 0 ] || { echo "== agents' stderr"; for f in "$tmp"/site*.err; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
echo "PASS: lab_harness ($(( EPOCHSECONDS - t0 )) s)"
