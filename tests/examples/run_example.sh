#!/usr/bin/env bash
# run_example.sh <expect file> <program> - CTest "examples_<name>": runs an
# example as a user would and checks what a user sees: its exit code and the
# lines it prints. The expect file (tests/examples/expect/) says how to run it
# and what must come out, one directive a line; '#' starts a comment:
#   args <words...>    the arguments (default none); {free_port} becomes a
#                      loopback port nothing listens on, TCP or UDP
#   exit <code>        the exit code wanted (default 0)
#   out <regex>        a line of stdout matches (bash ERE, with GNU
#                      back-references; anchor it): each out after the line
#                      the previous one matched, so the order is checked too
#   err <regex>        likewise on stderr; with no err, stderr must be empty
#   no <regex>         no line of stdout or stderr matches
#   timeout <seconds>  how long the example may take (default 30)
# The examples talk to loopback only; each run gets a data directory of its
# own (port locks, keys).
set -uo pipefail
EXPECT=${1:-}
PROG=${2:-}
[ -f "$EXPECT" ] && [ -x "$PROG" ] || { echo "FAIL: usage: $0 <expect file> <program>"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export P2PD_DATA_DIR=$work/data

# A loopback port with no TCP or UDP listener (bounded tries).
free_port() {
  local p i
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -H -lnu "sport = :$p" | grep -q . && ! ss -H -lnt "sport = :$p" | grep -q .; then
      echo "$p"; return 0
    fi
  done
  return 1
}

args=() want_exit=0 limit=30 outs=() errs=() nos=()
while IFS= read -r line || [ -n "$line" ]; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  word=${line%% *}
  rest=${line#"$word"}; rest=${rest# }
  case "$word" in
    args)
      read -ra words <<<"$rest"
      for a in "${words[@]}"; do
        if [ "$a" != "${a/\{free_port\}/}" ]; then
          port=$(free_port) || { echo "FAIL: no free loopback port found"; exit 1; }
          a=${a//\{free_port\}/$port}
        fi
        args+=("$a")
      done ;;
    exit) want_exit=$rest ;;
    timeout) limit=$rest ;;
    out) outs+=("$rest") ;;
    err) errs+=("$rest") ;;
    no) nos+=("$rest") ;;
    *) echo "FAIL: $EXPECT: unknown directive '$word'"; exit 1 ;;
  esac
done <"$EXPECT"

name=$(basename "$PROG")
# Bounded in time and in output (4 MiB a file: a runaway example is killed
# by SIGXFSZ rather than filling the disk).
(ulimit -f 4096; exec timeout "$limit" "$PROG" "${args[@]}") >"$work/out" 2>"$work/err"; rc=$?
echo "ran: $name ${args[*]} -> exit $rc"
fails=0
check() {   # check <what> <result: 0 ok>
  if [ "$2" = 0 ]; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi
}

why=""; [ "$rc" = 124 ] && why=", timed out after $limit s"
[ "$rc" = "$want_exit" ]; check "exit code $rc (want $want_exit$why)" $?

# in_order <file> <regex...>: each regex matches a line after the previous match.
in_order() {
  local file=$1 re i=0 lines; shift
  mapfile -t lines <"$file"
  for re in "$@"; do
    while ((i < ${#lines[@]})) && ! [[ "${lines[i]}" =~ $re ]]; do ((i++)); done
    if ((i < ${#lines[@]})); then
      echo "ok: std$stream line $((i + 1)) matches $re"; ((i++))
    else
      echo "FAIL: no std$stream line matches $re (after the previous match)"; fails=$((fails + 1))
    fi
  done
}
stream=out; in_order "$work/out" "${outs[@]}"
if ((${#errs[@]})); then
  stream=err; in_order "$work/err" "${errs[@]}"
else
  [ ! -s "$work/err" ]; check "nothing on stderr" $?
fi
for re in "${nos[@]}"; do
  hit=$(cat "$work/out" "$work/err" | while IFS= read -r l; do [[ "$l" =~ $re ]] && { echo "$l"; break; }; done)
  [ -z "$hit" ]; check "no line matches $re${hit:+ (got: $hit)}" $?
done

if [ "$fails" != 0 ]; then
  echo "--- stdout"; head -c 65536 "$work/out"; echo "--- stderr"; head -c 65536 "$work/err"
  echo "FAIL: $fails check(s)"; exit 1
fi
echo "PASS"
