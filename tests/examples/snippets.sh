#!/usr/bin/env bash
# snippets.sh <compile command file> <work dir> <root> - CTest
# "examples_doc_snippets": every ```cpp block of every Markdown file under
# <root> (README.md, examples/, docs/, ...; not build trees) is compiled as a
# user would compile it, with the project's compiler, warnings and include
# paths, so that no snippet can rot. A block is:
#  - a whole program when it has `int main(`: compiled as it is;
#  - otherwise statements: the body of `int main()`, after the includes
#    a fragment's program would have ("p2pd/p2pd.hpp", "caf/all.hpp",
#    <iostream>) and `using namespace p2pd;`, its own #include lines moved
#    to the top;
#  - or, when the line before the block is `<!-- snippet: in SIGNATURE -->`,
#    the body of the function SIGNATURE instead of main's.
# Errors point at the Markdown file and line (#line). Use ```text, not
# ```cpp, for what is not C++. The compile command file holds the launcher
# (may be empty), the compiler and then its flags, one a line (CMake writes
# it). Exit 0 when every block compiles, 1 otherwise or when none was found.
set -uo pipefail
CMDS=${1:-}
WORK=${2:-}
ROOT=${3:-}
[ -f "$CMDS" ] && [ -n "$WORK" ] && [ -d "$ROOT" ] \
  || { echo "FAIL: usage: $0 <compile command file> <work dir> <root>"; exit 1; }

mapfile -t cmd <"$CMDS"
launcher=${cmd[0]}; cxx=${cmd[1]}; flags=("${cmd[@]:2}")
compile=("$cxx" "${flags[@]}")
# No launcher: ccache cannot cache -fsyntax-only, which checks all a user's
# compile would (templates instantiated, warnings as errors) without the code
# generation that took most of this test's time at -O2.

rm -rf "$WORK"; mkdir -p "$WORK"
count=0 fails=0

# emit <md file> <first line of the block> <kind> <signature> <block file>:
# writes the translation unit and compiles it.
emit() {
  local md=$1 first=$2 kind=$3 sig=$4 block=$5
  local rel=${md#"$ROOT"/}
  local tu="$WORK/$(echo "$rel" | tr '/.' '__')_$first.cpp"
  {
    echo "// $rel:$first, extracted by tests/examples/snippets.sh"
    if [ "$kind" = program ]; then
      echo "#line $first \"$rel\""
      cat "$block"
    else
      printf '#include <iostream>\n#include "caf/all.hpp"\n#include "p2pd/p2pd.hpp"\n'
      grep -E '^[[:space:]]*#include' "$block"
      echo 'using namespace p2pd;'
      echo "$sig {"
      # Include lines become blank ones, so that the line numbers hold.
      echo "#line $first \"$rel\""
      sed -E 's/^[[:space:]]*#include.*$//' "$block"
      echo '}'
    fi
  } >"$tu"
  count=$((count + 1))
  local log="$tu.log"
  if "${compile[@]}" -fsyntax-only "$tu" >"$log" 2>&1; then
    echo "ok: $rel:$first ($kind)"
  else
    echo "FAIL: $rel:$first ($kind) does not compile:"
    sed 's/^/    /' "$log"
    fails=$((fails + 1))
  fi
}

while IFS= read -r md; do
  n=0 in_block=0 prev="" sig="" first=0
  block="$WORK/block.txt"
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    if ((in_block)); then
      if [[ "$line" =~ ^\`\`\`[[:space:]]*$ ]]; then
        in_block=0
        if [ -n "$sig" ]; then
          emit "$md" "$first" "in $sig" "$sig" "$block"
        elif grep -qE '(^|[^[:alnum:]_])int main\(' "$block"; then
          emit "$md" "$first" program "" "$block"
        else
          emit "$md" "$first" statements "int main()" "$block"
        fi
      else
        printf '%s\n' "$line" >>"$block"
      fi
    elif [[ "$line" =~ ^\`\`\`cpp[[:space:]]*$ ]]; then
      in_block=1 first=$((n + 1)) sig=""
      : >"$block"
      re='^<!-- snippet: in (.*) -->$'
      [[ "$prev" =~ $re ]] && sig=${BASH_REMATCH[1]}
    fi
    [ -n "$line" ] && prev=$line
  done <"$md"
  ((in_block)) && { echo "FAIL: ${md#"$ROOT"/}:$first: a \`\`\`cpp block that never ends"; fails=$((fails + 1)); }
done < <(find "$ROOT" \( -path "$ROOT/build*" -o -path "$ROOT/.git" -o -path "$ROOT/tests/examples/fixtures" \) \
           -prune -o -name '*.md' -print | sort)

if [ "$count" = 0 ]; then
  echo "FAIL: no \`\`\`cpp block found under $ROOT"; exit 1
fi
[ "$fails" = 0 ] && echo "PASS: $count snippet(s) compile" || { echo "FAIL: $fails of $count snippet(s)"; exit 1; }
