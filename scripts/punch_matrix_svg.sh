#!/bin/sh
# Draws the "At a glance" table of docs/punch-matrix.md (written by
# tests/lab/punch_matrix.sh --doc) as an SVG heat map: a row and a column per
# NAT mode, each cell three stripes (p2pd UDP, p2pd TCP, libnice) coloured by
# how the runs went, and a legend. POSIX sh and awk only (mawk, as a fresh
# Debian 12 has; no python): the status page shows the result, and CTest's
# docs_punch_matrix_svg checks that the committed picture is this script's
# output for the committed table.
#
#   scripts/punch_matrix_svg.sh [docs/punch-matrix.md] > docs/punch-matrix.svg
#
# An unknown notation in a cell is an error (exit 2), not a grey square: a
# new outcome in the lab's table must get its own colour and legend line.
set -eu
in=${1:-docs/punch-matrix.md}
[ -r "$in" ] || { echo "punch_matrix_svg: cannot read $in" >&2; exit 1; }

exec awk '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
# The outcome class of one token of a cell.
function klass(t) {
  if (t == "\342\234\223") return "all"                       # check mark
  if (t ~ /^\342\234\223\([0-9]+R\)$/) return "some"          # check mark, k relayed
  if (t == "R") return "relay"
  if (t ~ /^[0-9]+\/[0-9]+$/) return "partial"
  if (t == "\342\234\227") return "none"                      # ballot x
  return ""
}
BEGIN {
  color["all"] = "#1a9850"; label["all"] = "every run connected"
  color["some"] = "#91cf60"; label["some"] = "every run connected, some through the relay"
  color["relay"] = "#4575b4"; label["relay"] = "every run connected through the relay"
  color["partial"] = "#fdae61"; label["partial"] = "some runs connected (k/n)"
  color["none"] = "#d73027"; label["none"] = "no run connected"
  order = "all some relay partial none"
  glyph["all"] = "\342\234\223"; glyph["some"] = "\342\234\223"; glyph["relay"] = "R"
  glyph["none"] = "\342\234\227"
  ink["all"] = "#ffffff"; ink["some"] = "#1b3a1b"; ink["relay"] = "#ffffff"
  ink["partial"] = "#3a2500"; ink["none"] = "#ffffff"
  what[1] = "p2pd UDP"; what[2] = "p2pd TCP"; what[3] = "libnice"
  section = 0; nrows = 0; ncols = 0; stamp = ""
}
section == 0 && match($0, /on [0-9-]+ [0-9:]+ UTC, commit [0-9a-f]+/) {
  stamp = substr($0, RSTART + 3, RLENGTH - 3)
}
/^## At a glance/ { section = 1; next }
section == 1 && /^## / { section = 2 }
section != 1 { next }
/^\|---/ { next }
/^\| *\|/ && ncols == 0 {
  n = split($0, f, "|")
  for (i = 3; i < n; ++i) col[++ncols] = trim(f[i])
  next
}
/^\|/ {
  n = split($0, f, "|")
  if (n - 3 != ncols) { printf "punch_matrix_svg: line %d: %d cells, the header has %d\n", NR, n - 3, ncols > "/dev/stderr"; bad = 1; exit 2 }
  row[++nrows] = trim(f[2])
  for (i = 3; i < n; ++i) {
    c = trim(f[i])
    while (match(c, /\([0-9]+ R\)/))
      c = substr(c, 1, RSTART - 1) "(" substr(c, RSTART + 1, RLENGTH - 4) "R)" substr(c, RSTART + RLENGTH)
    m = split(c, t, " ")
    if (m != 3) { printf "punch_matrix_svg: line %d: cell \"%s\" has %d outcomes, not 3\n", NR, c, m > "/dev/stderr"; bad = 1; exit 2 }
    for (k = 1; k <= 3; ++k) {
      kl = klass(t[k])
      if (kl == "") { printf "punch_matrix_svg: line %d: unknown outcome \"%s\"\n", NR, t[k] > "/dev/stderr"; bad = 1; exit 2 }
      cls[nrows, i - 2, k] = kl
      tok[nrows, i - 2, k] = t[k]
    }
  }
}
END {
  if (bad) exit 2
  if (nrows == 0 || ncols == 0) { print "punch_matrix_svg: no \"At a glance\" table" > "/dev/stderr"; exit 2 }
  sw = 24; cw = 3 * sw; gap = 4; ch = 26
  left = 170; top = 150
  gw = ncols * (cw + gap); gh = nrows * (ch + gap)
  width = left + gw + 70; lh = 22
  height = top + gh + 24 + 5 * lh + 12
  printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n", width, height, width, height
  printf "<title>Hole punching on the lab NATs: p2pd and libnice</title>\n"
  printf "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height
  printf "<text x=\"16\" y=\"28\" font-size=\"18\" font-weight=\"bold\">Hole punching on the lab NATs</text>\n"
  printf "<text x=\"16\" y=\"48\" font-size=\"12\" fill=\"#444444\">each cell: p2pd UDP | p2pd TCP | libnice%s</text>\n", stamp == "" ? "" : "; measured " esc(stamp)
  printf "<text x=\"16\" y=\"64\" font-size=\"12\" fill=\"#444444\">rows and columns: the two nodes&#8217; NAT modes (docs/punch-matrix.md)</text>\n"
  for (j = 1; j <= ncols; ++j) {
    x = left + (j - 1) * (cw + gap) + cw / 2
    printf "<text x=\"%d\" y=\"%d\" font-size=\"12\" transform=\"rotate(-40 %d %d)\">%s</text>\n", x, top - 8, x, top - 8, esc(col[j])
  }
  for (i = 1; i <= nrows; ++i) {
    y = top + (i - 1) * (ch + gap)
    printf "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">%s</text>\n", left - 8, y + ch / 2 + 4, esc(row[i])
    for (j = 1; j <= ncols; ++j) {
      x = left + (j - 1) * (cw + gap)
      for (k = 1; k <= 3; ++k) {
        kl = cls[i, j, k]
        printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s / %s, %s: %s</title></rect>\n", x + (k - 1) * sw, y, sw, ch, color[kl], esc(row[i]), esc(col[j]), what[k], esc(tok[i, j, k])
        g = kl == "partial" ? tok[i, j, k] : glyph[kl]
        printf "<text x=\"%d\" y=\"%d\" font-size=\"%d\" text-anchor=\"middle\" fill=\"%s\">%s</text>\n", x + (k - 1) * sw + sw / 2, y + ch / 2 + 4, kl == "partial" ? 9 : 12, ink[kl], g
      }
      printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n", x, y, cw, ch
    }
  }
  y = top + gh + 24
  split(order, o, " ")
  for (k = 1; k <= 5; ++k) {
    printf "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"14\" fill=\"%s\"/>\n", left, y + (k - 1) * lh, color[o[k]]
    printf "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", left + 26, y + (k - 1) * lh + 12, label[o[k]]
  }
  printf "</svg>\n"
}
' "$in"
