#!/usr/bin/env bash
# punch_matrix.sh - CTest "lab_punch_matrix": hole punching on every pair of
# the lab's NAT modes, p2pd's nodes and libnice's ICE side by side.
#
#   punch_matrix.sh [--node P2P_NODE] [--ice BENCH_ICE] [--doc FILE]
#                   [--runs N] [--jobs N] [--modes "m1 m2 ..."] [--port-mapping]
#
# The lab gets two sites of every mode (two separate NATs: a pair "X - X" is
# a node behind each of two routers of mode X, as on the Internet). For every
# unordered pair of modes, --runs times (directions alternate: run 1 and 3
# from the first mode's site, run 2 from the second's):
#   libnice:  bench_ice in both sites (controlling in the initiating one);
#   p2pd UDP: a serving p2p_node in one site, a connecting one in the other
#             with --strategies punch,relay --transport udp --families 4:
#             every pair connects, by punch where one works, else through
#             the lab's coturn (the relay);
#   p2pd TCP: the same with --transport tcp: a TLS stream by TCP punch, else
#             through the relay (TCP allocations, RFC 6062).
# p2pd runs only if p2p_node knows --transport (its --help); otherwise its
# columns say why. Pairs run side by side on distinct sites (--jobs at a
# time); every program runs under `timeout`, and no new pair starts after
# $P2PDLAB_MATRIX_BUDGET seconds (default 360; a pair not run is a failure).
#
# --port-mapping: every NAT router that passes UDP also runs miniupnpd
# (lab.sh's P2PDLAB_UPNP=1) and both nodes ask it for their port
# (p2p_node --port-mapping on); p2pd UDP only (libnice has no port mapping).
# A pair whose UDP punch is expected to be refused (it needed the relay)
# must then connect directly every run, by the punch through the serving
# node's UDP mapping (path=mapped); every other pair must connect. Its table
# is a section of the doc between <!-- port-mapping --> markers: --doc FILE
# replaces that section only, and a run without the option keeps it.
#
# Expected outcomes: punch_expected.txt. The markdown table goes to
# $WORK/punch-matrix.md, is printed, and is copied to --doc FILE.
# Exit: 1 if a pair expected to connect failed a run, a pair expected to be
# refused was not refused at once with a reason, a search failed without a
# reason, or libnice differs from its expectation (then the lab is not what
# the reference says); 77 if not root, or if everything checked matches but
# p2pd could not be run (p2p_node has no --transport yet); else 0.
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
LAB=$HERE/lab.sh
EXPECTED=$HERE/punch_expected.txt
NODE=none ICE=none DOC= RUNS=3 JOBS=${P2PDLAB_MATRIX_JOBS:-6} PORTMAP=0
MODES=${P2PDLAB_MATRIX_MODES:-open udp-firewall full-cone restricted port-restricted symmetric symmetric-sequential udp-blocked masquerade}
BUDGET=${P2PDLAB_MATRIX_BUDGET:-360}   # seconds after which no new pair starts
ICE_TIMEOUT=10      # s: a libnice session (a failing one ends in about 8 s)
NODE_WAIT=20        # s: each wait of a node (start, connect, answer)
REFUSE_MS=1500      # ms: a refusal must come within this from the connect

while [ $# -gt 0 ]; do
  case $1 in
    --node) NODE=$2; shift 2;; --ice) ICE=$2; shift 2;; --doc) DOC=$2; shift 2;;
    --runs) RUNS=$2; shift 2;; --jobs) JOBS=$2; shift 2;; --modes) MODES=$2; shift 2;;
    --port-mapping) PORTMAP=1; shift;;
    *) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2;;
  esac
done
[[ $RUNS =~ ^[1-9]$ ]] || { echo "FAIL: --runs must be 1..9"; exit 2; }
[[ $JOBS =~ ^[1-9]$ ]] || { echo "FAIL: --jobs must be 1..9"; exit 2; }
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: lab_punch_matrix needs root (network namespaces + nftables)"
  exit 77
fi
for p in NODE ICE; do
  if [ "${!p}" != none ]; then
    [ -x "${!p}" ] || { echo "FAIL: ${!p} is not an executable"; exit 1; }
    printf -v "$p" '%s' "$(readlink -f "${!p}")"
  fi
done

# ------------------------------------------------------------------ what runs
# p2pd's column runs only with a p2p_node that can be asked for a transport.
NODE_WHY=
if [ "$NODE" = none ]; then NODE_WHY="not run: no p2p_node given"
elif ! "$NODE" --help 2>&1 | grep -q -- '--transport'; then NODE_WHY="not run: p2p_node has no --transport"
fi
ICE_WHY=
[ "$ICE" = none ] && ICE_WHY="not run: bench_ice not built (libnice-dev missing)"
if [ $PORTMAP = 1 ]; then
  ICE_WHY="not run: libnice has no port mapping"
  [ -n "$NODE_WHY" ] || command -v miniupnpd >/dev/null || NODE_WHY="not run: miniupnpd not installed"
fi
# the modes whose router maps ports with --port-mapping (lab.sh runs_upnp)
maps_udp() { case $1 in full-cone|restricted|port-restricted|symmetric|symmetric-sequential|masquerade) return 0;; esac; return 1; }
PM_ARGS=(); [ $PORTMAP = 1 ] && PM_ARGS=(--port-mapping on)

# ------------------------------------------------------------------ expectations
declare -A EXP_UDP EXP_TCP EXP_ICE EXP_WHY
pair_key() { echo "$1~$2"; }
while IFS='|' read -r a b u t i why; do
  a=$(echo $a); b=$(echo $b)
  [ -z "$a" ] || [[ $a == \#* ]] && continue
  k=$(pair_key "$a" "$b")
  EXP_UDP[$k]=$(echo $u); EXP_TCP[$k]=$(echo $t); EXP_ICE[$k]=$(echo $i); EXP_WHY[$k]=$(echo "$why" | sed 's/^ *//')
done < "$EXPECTED"

read -r -a MODE_LIST <<< "$MODES"
PAIRS=()       # "a b" in the expected file's order of modes
for ((x = 0; x < ${#MODE_LIST[@]}; x++)); do
  for ((y = x; y < ${#MODE_LIST[@]}; y++)); do
    a=${MODE_LIST[$x]}; b=${MODE_LIST[$y]}
    k=$(pair_key "$a" "$b")
    if [ -z "${EXP_UDP[$k]:-}" ]; then k2=$(pair_key "$b" "$a")
      [ -n "${EXP_UDP[$k2]:-}" ] || { echo "FAIL: no expectation for $a - $b in $EXPECTED"; exit 1; }
      tmp_=$a; a=$b; b=$tmp_
    fi
    PAIRS+=("$a $b")
  done
done

# ------------------------------------------------------------------ the lab
WORK=$(mktemp -d /tmp/p2pdlab-matrix.XXXXXX)
cleanup() {
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  "$LAB" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

SITES="$MODES $MODES"           # two separate NATs of every mode
read -r -a SITE_MODE <<< "$SITES"
echo "== lab.sh up: ${#SITE_MODE[@]} sites (two of each mode)${PM_ARGS:+, miniupnpd on the NAT routers}"
export P2PDLAB_UPNP=$PORTMAP
if ! P2PDLAB_SITES=$SITES timeout 180 "$LAB" up; then echo "FAIL: lab.sh up"; exit 1; fi
export P2PDLAB_SITES=$SITES      # lab.sh exec/env must see the same layout
eval "$("$LAB" env)"
if [ -z "$NODE_WHY" ] && [ -z "${P2PDLAB_MQTT:-}" ]; then
  NODE_WHY="not run: the lab has no MQTT broker (mosquitto)"
fi
site_ns() { local v="P2PDLAB_SITE$1_NS_HOST"; echo "${!v}"; }
declare -A SITES_OF=()  # mode -> its sites
for ((i_ = 1; i_ <= ${#SITE_MODE[@]}; i_++)); do SITES_OF[${SITE_MODE[$((i_ - 1))]}]+="$i_ "; done
# Without sed: a fork costs milliseconds on a virtual machine, and the
# verdicts call this thousands of times.
field() { [[ " $2" =~ [[:space:]]$1=([^[:space:]]*) ]] && echo "${BASH_REMATCH[1]}"; return 0; }
now_ms() { echo $(( ${EPOCHREALTIME//[.,]/} / 1000 )); }

# ------------------------------------------------------------------ one libnice run
# ice_run <out> <run> <initiating site> <other site>: one result line into out.
ice_run() {
  local out=$1 run=$2 sa=$3 sb=$4 d la lb
  d=$WORK/ice/$(basename "$out").$run; mkdir -p "$d"; mkfifo "$d/a2b" "$d/b2a"
  timeout $((ICE_TIMEOUT + 5)) ip netns exec "$(site_ns "$sa")" "$ICE" --role controlling \
    --stun "$P2PDLAB_STUN1:$P2PDLAB_STUN_PORT" --send "$d/a2b" --receive "$d/b2a" \
    --timeout $ICE_TIMEOUT > "$d/a.out" 2> "$d/a.err" &
  local pa=$!
  timeout $((ICE_TIMEOUT + 5)) ip netns exec "$(site_ns "$sb")" "$ICE" --role controlled \
    --stun "$P2PDLAB_STUN1:$P2PDLAB_STUN_PORT" --send "$d/b2a" --receive "$d/a2b" \
    --timeout $ICE_TIMEOUT > "$d/b.out" 2> "$d/b.err" &
  local pb=$!
  wait $pa; wait $pb
  la=$(grep '^ice ' "$d/a.out"); lb=$(grep '^ice ' "$d/b.out")
  local ok=0 reason
  if [ "$(field ok "$la")" = 1 ] && [ "$(field ok "$lb")" = 1 ]; then ok=1; reason=-
  else reason="$(field reason "$la")/$(field reason "$lb")"; [ "$reason" = / ] && reason=no_output; fi
  echo "ice run=$run from=$sa to=$sb ok=$ok ms=$(field ms "$la") local=$(field local "$la") remote=$(field remote "$la") peer_ms=$(field ms "$lb") reason=$reason" >> "$out"
}

# ------------------------------------------------------------------ one p2pd run
# Datagrams and streams both fall back to the relay.
strategies_of() { echo punch,relay; }

# node_run <out> <run> <transport> <connecting site> <serving site>
node_run() {
  local out=$1 run=$2 tp=$3 sa=$4 sb=$5 d fd pid line addr= rc src_rc t0 t1 naddr=0
  d=$WORK/node/$(basename "$out").$run.$tp; mkdir -p "$d/s" "$d/c"
  exec {fd}< <(exec timeout $((NODE_WAIT * 3)) ip netns exec "$(site_ns "$sb")" "$NODE" \
    --servers "$P2PDLAB_SERVERS" --data-dir "$d/s" --timeout $NODE_WAIT --transport "$tp" "${PM_ARGS[@]}" 2> "$d/s.err")
  pid=$!
  : > "$d/s.out"
  while IFS= read -r -t $NODE_WAIT -u "$fd" line; do
    echo "$line" >> "$d/s.out"
    # with port mapping, the second address: the one with the mappings
    if [[ $line == address=* ]]; then addr=${line#address=}; naddr=$((naddr + 1)); [ $naddr -le $PORTMAP ] || break; fi
  done
  if [ -z "$addr" ]; then
    kill "$pid" 2>/dev/null; cat <&"$fd" >> "$d/s.out"; exec {fd}<&-; wait "$pid" 2>/dev/null
    echo "p2pd run=$run transport=$tp from=$sa to=$sb ok=0 refused=0 ms= strategy=- kind=- reason=serving_node_printed_no_address" >> "$out"
    return
  fi
  t0=$(now_ms)
  timeout $((NODE_WAIT * 3)) ip netns exec "$(site_ns "$sa")" "$NODE" --servers "$P2PDLAB_SERVERS" \
    --data-dir "$d/c" --timeout $NODE_WAIT --connect - --strategies "$(strategies_of "$tp")" --transport "$tp" "${PM_ARGS[@]}" \
    --families 4 --message "hello $run $tp" <<< "$addr" > "$d/c.out" 2> "$d/c.err"
  rc=$?; t1=$(now_ms)
  # a refused or failed connect: the serving node would wait its whole
  # --timeout for a message that never comes
  grep -q '^connected ' "$d/c.out" || kill "$pid" 2>/dev/null
  cat <&"$fd" >> "$d/s.out"; exec {fd}<&-; wait "$pid"; src_rc=$?
  local conn fail ok=0 refused=0 ms strategy kind path=- reason=-
  conn=$(grep '^connected ' "$d/c.out" | head -n1); fail=$(grep '^connect_failed' "$d/c.out" | head -n1)
  if [ -n "$conn" ]; then
    ms=$(field ms "$conn"); strategy=$(field strategy "$conn"); kind=$(field punch "$conn"); path=$(field path "$conn")
    if [ $rc != 0 ]; then reason="connecting_node_exit_$rc"
    elif ! grep -q "^reply .*text=re: hello $run $tp" "$d/c.out"; then reason=no_answer
    elif [ $src_rc != 0 ]; then reason="serving_node_exit_$src_rc"
    else ok=1; fi
  elif [ -n "$fail" ]; then
    refused=1; strategy=-; kind=-
    ms=$(field ms "$fail")
    if [ -z "$ms" ]; then   # no ms= in the line: wall time less the node's start
      ms=$(( t1 - t0 - $(field start_ms "$(grep '^ready ' "$d/c.out")" | grep . || echo 0) ))
    fi
    reason=$(sed -n 's/^connect_failed.* reason=//p' <<< "$fail")
    [ -n "$reason" ] || reason=$(sed -n 's/^p2p_node: connect: //p' "$d/c.err" | head -n1)
    [ -n "$reason" ] || reason=none
  else
    ms=; strategy=-; kind=-; reason="no_connect_line_exit_$rc"
  fi
  reason=${reason// /_}
  # before the relay won, the punch was refused at once (its report line)
  # or not planned at all (a peer without an address for it): 1, else 0
  local prefused=1
  if grep -q '^attempt .*| punch ' "$d/c.out" && ! grep -q '^attempt .*| punch .*| refused at once' "$d/c.out"; then
    prefused=0
  fi
  echo "p2pd run=$run transport=$tp from=$sa to=$sb ok=$ok refused=$refused ms=$ms strategy=${strategy:--} kind=${kind:--} path=${path:--} punch_refused=$prefused reason=$reason" >> "$out"
}

# ------------------------------------------------------------------ one pair
# pair_job <a> <b> <site of a> <site of b>: every run, into $WORK/res/<a>~<b>
pair_job() {
  local a=$1 b=$2 sa=$3 sb=$4 out run from to
  out=$WORK/res/$(pair_key "$a" "$b"); : > "$out"
  for ((run = 1; run <= RUNS; run++)); do
    if ((run % 2)); then from=$sa; to=$sb; else from=$sb; to=$sa; fi
    [ -z "$ICE_WHY" ] && ice_run "$out" $run $from $to
    if [ -z "$NODE_WHY" ]; then
      node_run "$out" $run udp $from $to
      [ $PORTMAP = 1 ] || node_run "$out" $run tcp $from $to
    fi
  done
  echo "done" >> "$out"
}

# ------------------------------------------------------------------ schedule
# Longest first: pairs whose libnice session is expected to fail take its
# whole timeout. Each pair holds its two sites while it runs.
weight() {
  local k; k=$(pair_key "$1" "$2")
  case ${EXP_ICE[$k]} in fail) echo 3;; chance) echo 2;; *) echo 1;; esac
}
mapfile -t PENDING < <(for p in "${PAIRS[@]}"; do echo "$(weight $p) $p"; done | sort -s -r -n -k1,1 | cut -d' ' -f2-)
mkdir -p "$WORK/res" "$WORK/ice" "$WORK/node"
declare -A BUSY=() JOB_SITES=() JOB_PAIR=()
running=0; t_start=$EPOCHSECONDS
echo "== ${#PAIRS[@]} pairs x $RUNS runs, $JOBS at a time; libnice: ${ICE_WHY:-yes}; p2pd: ${NODE_WHY:-yes}"
# free_site <mode> [<site not to take>]: a free site of that mode in REPLY
# (no command substitution: this runs for every pending pair at every turn)
free_site() { local s; REPLY=; for s in ${SITES_OF[$1]}; do [ -z "${BUSY[$s]:-}" ] && [ "$s" != "${2:-}" ] && { REPLY=$s; return; }; done; }
while [ ${#PENDING[@]} -gt 0 ] || [ $running -gt 0 ]; do
  started=0
  for idx in "${!PENDING[@]}"; do
    [ $running -lt "$JOBS" ] || break
    read -r a b <<< "${PENDING[$idx]}"
    if [ $(( EPOCHSECONDS - t_start )) -ge "$BUDGET" ]; then
      unset "PENDING[$idx]"; continue
    fi
    free_site "$a"; sa=$REPLY; [ -n "$sa" ] || continue
    free_site "$b" "$sa"; sb=$REPLY; [ -n "$sb" ] || continue
    BUSY[$sa]=1; BUSY[$sb]=1
    pair_job "$a" "$b" "$sa" "$sb" > "$WORK/res/$(pair_key "$a" "$b").log" 2>&1 &
    JOB_SITES[$!]="$sa $sb"; JOB_PAIR[$!]="$a (site $sa) - $b (site $sb)"
    running=$((running + 1)); started=1; unset "PENDING[$idx]"
  done
  if [ $running = 0 ] && [ $started = 0 ] && [ ${#PENDING[@]} -gt 0 ]; then
    echo "FAIL: no site free for ${PENDING[*]} with nothing running (a scheduling bug)"; exit 1
  fi
  if [ $running -gt 0 ]; then
    done_pid=
    wait -n -p done_pid
    # only the pair jobs count (wait -n may also report another child)
    if [ -n "$done_pid" ] && [ -n "${JOB_SITES[$done_pid]:-}" ]; then
      for s in ${JOB_SITES[$done_pid]}; do unset "BUSY[$s]"; done
      echo "   $(( EPOCHSECONDS - t_start )) s: done ${JOB_PAIR[$done_pid]}"
      unset "JOB_SITES[$done_pid]" "JOB_PAIR[$done_pid]"; running=$((running - 1))
    fi
  fi
done
elapsed=$(( EPOCHSECONDS - t_start ))

# ------------------------------------------------------------------ verdicts
numbers() { grep -E '^[0-9]+$' | sort -n; }
median() { numbers | awk '{v[NR] = $1} END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }
worst() { numbers | tail -n1 | grep . || echo -; }
fails=0; notes=(); rescues=()
mismatch() { fails=$((fails + 1)); notes+=("$1"); }
PM_BEGIN='<!-- port-mapping -->' PM_END='<!-- /port-mapping -->'

# ------------------------------------------------------------------ --port-mapping
if [ $PORTMAP = 1 ]; then
  ROWS=()
  for p in "${PAIRS[@]}"; do
    read -r a b <<< "$p"; k=$(pair_key "$a" "$b"); f=$WORK/res/$k; name="$a - $b"
    both=0; maps_udp "$a" && maps_udp "$b" && both=1
    want=connect; [ "${EXP_UDP[$k]}" = refuse ] && [ $both = 1 ] && want=mapped
    without=$([ "${EXP_UDP[$k]}" = refuse ] && echo "relay (punch refused)" || echo "punch ${EXP_UDP[$k]}")
    if [ -n "$NODE_WHY" ]; then ROWS+=("| $name | $without | $want | $NODE_WHY | | |"); continue; fi
    if [ ! -e "$f" ]; then
      ROWS+=("| $name | $without | $want | not run: time budget | | |")
      mismatch "$name: not run (the time budget of $BUDGET s ran out)"; continue
    fi
    n=$(grep -c "^p2pd .*transport=udp " "$f"); nok=$(grep -c "^p2pd .*transport=udp .* ok=1 " "$f")
    pms=$(grep "^p2pd .*transport=udp .* ok=1 " "$f" | while read -r l; do field ms "$l"; done)
    how=$(grep "^p2pd .*transport=udp .* ok=1 " "$f" | while read -r l; do echo "$(field strategy "$l") $(field path "$l")"; done | sort | uniq -c | awk '{printf "%s%s %s ×%s", (NR > 1 ? ", " : ""), $2, $3, $1}')
    refl=$(grep "^p2pd .*transport=udp .* ok=0 " "$f" | while read -r l; do echo "$(field ms "$l") ms: $(field reason "$l")"; done | sort -u | head -n 3 | tr '\n' ';')
    ROWS+=("| $name | $without | $want | $nok/$n | $(median <<< "$pms") / $(worst <<< "$pms") | ${how:-}${refl:+ failed: ${refl//_/ }} |")
    [ "$nok" = "$n" ] && [ "$n" = "$RUNS" ] || mismatch "$name: p2pd connected $nok of $n runs, expected every run (${refl//_/ })"
    if [ $want = mapped ]; then
      bad=$(grep "^p2pd .*transport=udp .* ok=1 " "$f" | grep -v " strategy=punch .* path=mapped " | head -n1)
      [ -z "$bad" ] || mismatch "$name run $(field run "$bad"): connected by $(field strategy "$bad") path $(field path "$bad"), expected the punch through the mapping (path mapped)"
    fi
  done
  md=$WORK/punch-matrix-portmap.md
  rev=$(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo unknown)
  {
    echo "$PM_BEGIN"
    echo "## With port mapping (UDP)"
    echo
    echo "Written by \`tests/lab/punch_matrix.sh --port-mapping --doc docs/punch-matrix.md\`"
    echo "on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $rev; runs per pair: $RUNS (directions"
    echo "alternate as above), $elapsed s in all. Every NAT router that passes UDP"
    echo "(full-cone, restricted, port-restricted, symmetric, symmetric-sequential,"
    echo "masquerade) also runs miniupnpd (\`P2PDLAB_UPNP=1 lab.sh up\`); both nodes run with"
    echo "\`--port-mapping on --transport udp --strategies punch,relay\`. A datagram connect"
    echo "then also punches through the serving node's UDP mapping (path mapped: it"
    echo "answers from the node port the mapping points at, no prediction on either"
    echo "side), in a round before the predicted punch. \"without\": how the pair connects without port"
    echo "mapping (the table above); \"wanted\": mapped, a direct connection through the"
    echo "mapping every run, for the pairs that needed the relay; connect for the others."
    echo "ms: median / worst of the connect report's \`ms\`; won: strategy and path × runs."
    echo
    echo "| pair | without | wanted | runs | ms | won |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    if [ ${#notes[@]} = 0 ]; then echo "Differences: none."; else printf -- '- %s\n' "${notes[@]}"; fi
    echo "$PM_END"
  } > "$md"
  cat "$md"
  if [ -n "$DOC" ]; then
    # the doc's port-mapping section is replaced (appended if it has none)
    if [ -e "$DOC" ] && grep -qF "$PM_BEGIN" "$DOC"; then
      awk -v b="$PM_BEGIN" -v e="$PM_END" -v f="$md" '
        $0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0; next }
        !skip' "$DOC" > "$WORK/doc.new" && cp "$WORK/doc.new" "$DOC"
    else
      { [ -e "$DOC" ] && cat "$DOC" && echo; cat "$md"; } > "$WORK/doc.new" && cp "$WORK/doc.new" "$DOC"
    fi
    echo "(written to $DOC)"
  fi
  if [ $fails -gt 0 ]; then
    echo; echo "== raw results"
    for f in "$WORK"/res/*~*; do [[ $f == *.log ]] || { echo "--- $(basename "$f")"; cat "$f"; }; done
    echo; echo "FAIL: $fails differences with port mapping ($elapsed s)"; exit 1
  fi
  if [ -n "$NODE_WHY" ]; then echo "SKIP: $NODE_WHY ($elapsed s)"; exit 77; fi
  echo "PASS: every pair as wanted with port mapping ($elapsed s)"
  exit 0
fi
ROWS_UDP=(); ROWS_TCP=(); ROWS_WHY=()
declare -A GLANCE=()   # "a~b" -> "udp tcp ice" marks
mark() { # mark <successes> <runs>: all, none or how many
  if [ "$2" = 0 ]; then echo "-"; elif [ "$1" = "$2" ]; then echo "✓"; elif [ "$1" = 0 ]; then echo "✗"; else echo "$1/$2"; fi
}
for p in "${PAIRS[@]}"; do
  read -r a b <<< "$p"; k=$(pair_key "$a" "$b"); f=$WORK/res/$k
  name="$a - $b"
  udp_mark=- tcp_mark=- ice_mark=-
  ROWS_WHY+=("| $name | ${EXP_UDP[$k]} | ${EXP_TCP[$k]} | ${EXP_ICE[$k]} | ${EXP_WHY[$k]} |")
  if [ ! -e "$f" ]; then
    ROWS_UDP+=("| $name | ${EXP_UDP[$k]} | not run: time budget | | | ${EXP_ICE[$k]} | not run | | | |")
    ROWS_TCP+=("| $name | ${EXP_TCP[$k]} | not run: time budget | | |")
    mismatch "$name: not run (the time budget of $BUDGET s ran out)"; continue
  fi
  # libnice
  if [ -n "$ICE_WHY" ]; then ice_cells="$ICE_WHY | | | "
  else
    n=$(grep -c '^ice ' "$f"); nok=$(grep -c '^ice .* ok=1 ' "$f")
    ims=$(grep '^ice .* ok=1 ' "$f" | while read -r l; do field ms "$l"; done)
    imed=$(median <<< "$ims"); iwst=$(worst <<< "$ims")
    types=$(grep '^ice .* ok=1 ' "$f" | while read -r l; do echo "$(field local "$l")/$(field remote "$l")"; done | sort -u | tr '\n' ' ')
    reasons=$(grep '^ice .* ok=0 ' "$f" | while read -r l; do field reason "$l"; done | sort -u | tr '\n' ' ')
    ice_cells="$nok/$n | $imed / $iwst | ${types:-}${reasons:+fail: $reasons}"
    ice_mark=$(mark "$nok" "$n")
    case ${EXP_ICE[$k]} in
      connect) [ "$nok" = "$n" ] && [ "$n" = "$RUNS" ] || mismatch "$name: libnice connected $nok of $n runs, expected every run ($reasons)";;
      fail) [ "$nok" = 0 ] || mismatch "$name: libnice connected $nok of $n runs, expected none: the lab's NATs are not what punch_expected.txt says";;
    esac
  fi
  # p2pd
  for tp in udp tcp; do
    if [ -n "$NODE_WHY" ]; then cells="$NODE_WHY | | "; pmed=-
    else
      n=$(grep -c "^p2pd .*transport=$tp " "$f"); nok=$(grep -c "^p2pd .*transport=$tp .* ok=1 " "$f")
      pms=$(grep "^p2pd .*transport=$tp .* ok=1 " "$f" | while read -r l; do field ms "$l"; done)
      pmed=$(median <<< "$pms"); pwst=$(worst <<< "$pms")
      strat=$(grep "^p2pd .*transport=$tp .* ok=1 " "$f" | while read -r l; do s=$(field strategy "$l"); kd=$(field kind "$l"); echo "$s${kd:+ $kd}" | sed 's/ -$//'; done | sort -u | tr '\n' ' ')
      refl=$(grep "^p2pd .*transport=$tp .* ok=0 " "$f" | while read -r l; do echo "$(field ms "$l") ms: $(field reason "$l")"; done | sort -u | head -n 3 | tr '\n' ';')
      exp=$([ $tp = udp ] && echo "${EXP_UDP[$k]}" || echo "${EXP_TCP[$k]}")
      cells="$nok/$n | $pmed / $pwst | ${strat:-}${refl:+ refused/failed: ${refl//_/ }}"
      pmark=$(mark "$nok" "$n")
      nrelay=$(grep "^p2pd .*transport=$tp .* ok=1 " "$f" | grep -c ' strategy=relay ')
      if [ "$nok" -gt 0 ] && [ "$nrelay" = "$nok" ]; then pmark="R${pmark#✓}"
      elif [ "$nrelay" -gt 0 ]; then pmark="$pmark($nrelay R)"; fi
      if [ $tp = udp ]; then udp_mark=$pmark; else tcp_mark=$pmark; fi
      # Both fall back to the relay: every pair connects; where the punch
      # cannot work it must be refused at once and the relay win, where it
      # is a race either may.
      exp=relay-$exp
      case $exp in
        relay-connect|relay-refuse|relay-chance)
          [ "$nok" = "$n" ] && [ "$n" = "$RUNS" ] || mismatch "$name $tp: p2pd connected $nok of $n runs, expected every run, by punch or relay (${refl//_/ })"
          if [ $exp = relay-refuse ]; then
            bad=$(grep "^p2pd .*transport=$tp .* ok=1 " "$f" | grep -v " strategy=relay " | head -n1)
            [ -z "$bad" ] || mismatch "$name $tp: connected by strategy $(field strategy "$bad"), expected relay"
          elif [ $exp = relay-connect ]; then
            # The punch must win at least half the runs (2 of 3, 1 of 2: one
            # run each way with --runs 2); a run the relay rescued is said,
            # not failed (a punch lost to load is what the relay is for).
            npunch=$(grep "^p2pd .*transport=$tp .* ok=1 " "$f" | grep -c ' strategy=punch ')
            if [ $((2 * npunch)) -lt "$n" ]; then
              mismatch "$name $tp: the punch won $npunch of $n runs, expected at least half"
            elif [ "$npunch" -lt "$nok" ]; then
              rescues+=("$name $tp: the relay connected $((nok - npunch)) of $n runs after the punch failed ($(grep "^p2pd .*transport=$tp .* ok=1 " "$f" | grep ' strategy=relay ' | while read -r l; do echo "$(field ms "$l") ms"; done | tr '\n' ' '))")
            fi
          fi
          if [ $exp = relay-refuse ]; then
            bad=$(grep "^p2pd .*transport=$tp .* ok=1 " "$f" | grep ' punch_refused=0 ' | head -n1)
            [ -z "$bad" ] || mismatch "$name $tp run $(field run "$bad"): the punch was tried, not refused at once, before the relay"
          fi;;
        connect)
          [ "$nok" = "$n" ] && [ "$n" = "$RUNS" ] || mismatch "$name $tp: p2pd connected $nok of $n runs, expected every run (${refl//_/ })"
          bad=$(grep "^p2pd .*transport=$tp .* ok=1 " "$f" | grep -v ' strategy=punch ' | head -n1)
          [ -z "$bad" ] || mismatch "$name $tp: connected by strategy $(field strategy "$bad"), expected punch";;
        refuse)
          [ "$nok" = 0 ] || mismatch "$name $tp: p2pd connected $nok of $n runs, expected a refusal: check punch_expected.txt"
          while read -r l; do
            [ -n "$l" ] || continue
            rms=$(field ms "$l"); rr=$(field reason "$l")
            if [ "$(field refused "$l")" != 1 ] || [ "$rr" = none ] || [ -z "$rms" ] || [ "$rms" -ge $REFUSE_MS ]; then
              mismatch "$name $tp run $(field run "$l"): not refused at once with a reason (refused=$(field refused "$l"), ${rms:-?} ms, reason ${rr//_/ }; want under $REFUSE_MS ms)"
            fi
          done < <(grep "^p2pd .*transport=$tp .* ok=0 " "$f");;
        chance)
          while read -r l; do
            [ -n "$l" ] || continue
            [ "$(field refused "$l")" = 1 ] && [ "$(field reason "$l")" != none ] \
              || mismatch "$name $tp run $(field run "$l"): the search ended without a reason ($(field reason "$l"))"
          done < <(grep "^p2pd .*transport=$tp .* ok=0 " "$f");;
      esac
    fi
    if [ $tp = udp ]; then
      ratio=-
      if [ -z "$ICE_WHY" ] && [ "$pmed" != - ] && [ "$imed" != - ] && [ "${imed:-0}" -gt 0 ]; then
        ratio=$(awk -v p="$pmed" -v i="$imed" 'BEGIN { printf "%.2f", p / i }')
      fi
      ROWS_UDP+=("| $name | ${EXP_UDP[$k]} | $cells | ${EXP_ICE[$k]} | $ice_cells | $ratio |")
    else
      ROWS_TCP+=("| $name | ${EXP_TCP[$k]} | $cells |")
    fi
  done
  GLANCE[$k]="$udp_mark $tcp_mark $ice_mark"
done

# ------------------------------------------------------------------ the table
md=$WORK/punch-matrix.md
rev=$(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  echo "# Hole punching on the lab's NATs: p2pd and libnice"
  echo
  echo "Written by \`tests/lab/punch_matrix.sh --doc docs/punch-matrix.md\` (CTest \`lab_punch_matrix\`)"
  echo "on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $rev; runs per pair: $RUNS (run 1 and 3 from"
  echo "the first mode's site, run 2 from the second's), ${#SITE_MODE[@]} sites (two of each mode:"
  echo "a pair of one mode is two separate NATs), $JOBS pairs at a time on distinct sites,"
  echo "$elapsed s in all. The lab and its modes: \`tests/lab/README.md\`; what each pair should"
  echo "give and why: \`tests/lab/punch_expected.txt\` (the table at the end)."
  echo
  echo "- p2pd: \`tools/p2p_node --transport udp|tcp --families 4 --strategies punch,relay\`"
  echo "  (the lab's coturn as relay, UDP allocations for datagrams and TCP ones for streams:"
  echo "  every pair must connect); \"expected\" is the punch's expectation (where it is"
  echo "  refuse, the punch must be refused at once and the relay win), a"
  echo "  serving node in one site and a connecting one in the other; time: the connect"
  echo "  report's \`ms\` (connect call to connected; the nodes' start, with their STUN"
  echo "  requests, comes before). ${NODE_WHY:+**$NODE_WHY.**}"
  echo "- libnice: \`bench/bench_ice\` (full ICE, RFC 5245, host and server-reflexive"
  echo "  candidates from the lab's coturn, no TURN, IPv4), descriptions exchanged through"
  echo "  FIFOs; time: the controlling agent's start to its first application datagram"
  echo "  (gathering included); pair: its selected candidates' types, local/remote. ${ICE_WHY:+**$ICE_WHY.**}"
  echo "- runs: successes of runs; ms: median / worst of the successful runs; ratio: p2pd's"
  echo "  UDP median over libnice's."
  echo
  echo "## At a glance"
  echo
  echo "Each cell: p2pd UDP, p2pd TCP, libnice (✓ every run connected, ✗ none, k/n some;"
  echo "R: every run connected through the relay, (k R): k of them)."
  echo
  printf '| |'; for m in "${MODE_LIST[@]}"; do printf ' %s |' "$m"; done; echo
  printf '|---|'; for m in "${MODE_LIST[@]}"; do printf -- '---|'; done; echo
  for ra in "${MODE_LIST[@]}"; do
    printf '| %s |' "$ra"
    for cb in "${MODE_LIST[@]}"; do
      g=${GLANCE[$(pair_key "$ra" "$cb")]:-${GLANCE[$(pair_key "$cb" "$ra")]:-}}
      printf ' %s |' "${g:-}"
    done
    echo
  done
  echo
  echo "## UDP"
  echo
  echo "| pair | p2pd expected | p2pd runs | p2pd ms | p2pd strategy | libnice expected | libnice runs | libnice ms | libnice pair | ratio |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS_UDP[@]}"
  echo
  echo "## TCP"
  echo
  echo "| pair | p2pd expected | p2pd runs | p2pd ms | p2pd strategy |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${ROWS_TCP[@]}"
  echo
  echo "## Differences from the expectations"
  echo
  if [ ${#notes[@]} = 0 ]; then echo "None."; else printf -- '- %s\n' "${notes[@]}"; fi
  echo
  if [ ${#rescues[@]} -gt 0 ]; then
    echo "## Punches the relay rescued"
    echo
    printf -- '- %s\n' "${rescues[@]}"
    echo
  fi
  echo "## Why each pair is expected so"
  echo
  echo "| pair | p2pd UDP | p2pd TCP | libnice | why |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${ROWS_WHY[@]}"
} > "$md"
cat "$md"
if [ -n "$DOC" ]; then
  # the port-mapping section (--port-mapping) stays as it was
  { cat "$md"; [ -e "$DOC" ] && grep -qF "$PM_BEGIN" "$DOC" && { echo; sed -n "\|^$PM_BEGIN\$|,\|^$PM_END\$|p" "$DOC"; }; } > "$WORK/doc.new"
  cp "$WORK/doc.new" "$DOC" && echo "(written to $DOC)"
  # its picture beside it (docs/punch-matrix.svg; CTest docs_punch_matrix_svg)
  sh "$(dirname "$0")/../../scripts/punch_matrix_svg.sh" "$DOC" > "${DOC%.md}.svg" \
    && echo "(drawn in ${DOC%.md}.svg)"
fi

# the logs of what differed, for a failed run
if [ $fails -gt 0 ]; then
  echo; echo "== raw results"
  for f in "$WORK"/res/*~*; do [[ $f == *.log ]] || { echo "--- $(basename "$f")"; cat "$f"; }; done
fi
echo
if [ $fails -gt 0 ]; then echo "FAIL: $fails differences from punch_expected.txt ($elapsed s)"; exit 1; fi
if [ -n "$NODE_WHY" ]; then
  echo "SKIP: p2pd's columns $NODE_WHY; libnice and the lab match the expectations ($elapsed s)"
  exit 77
fi
echo "PASS: every pair as expected ($elapsed s)"
