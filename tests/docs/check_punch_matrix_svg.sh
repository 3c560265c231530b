#!/bin/sh
# docs/punch-matrix.svg must be scripts/punch_matrix_svg.sh's picture of
# docs/punch-matrix.md's table: regenerated into the build tree and compared.
#   check_punch_matrix_svg.sh <source dir> <output svg>
set -eu
src=$1
out=$2
sh "$src/scripts/punch_matrix_svg.sh" "$src/docs/punch-matrix.md" > "$out"
if ! cmp -s "$out" "$src/docs/punch-matrix.svg"; then
  echo "docs/punch-matrix.svg does not match docs/punch-matrix.md's table;" >&2
  echo "update it: scripts/punch_matrix_svg.sh docs/punch-matrix.md > docs/punch-matrix.svg" >&2
  diff "$src/docs/punch-matrix.svg" "$out" | head -20 >&2 || true
  exit 1
fi
echo "docs/punch-matrix.svg matches docs/punch-matrix.md"
