#!/bin/sh
# install_package: builds the Debian package of the build in $1 with cpack
# (cmake/package.cmake), checks its files and control fields, unpacks it
# into a fresh tree and runs the p2pd program from there, offline; and
# verifies the systemd unit when systemd-analyze is there.
#
# Usage: run_package.sh <build dir> <work dir> <p2pd program or "">
#
# The tree is made with `dpkg -x` (dpkg-deb --extract): it unpacks the files
# and nothing else. `dpkg --root`/`--instdir` would want a dpkg database in
# the tree, check the package's dependencies against it, and run the
# maintainer scripts chrooted into a tree that has no shell; none of that
# touches the real system with -x, and none of it needs root.
#
# cpack does not build: the installed targets (the libraries, p2pd_cli,
# p2pd_man) must be built first, as for install_consumer.
set -eu
build=$1 work=$2 program=$3
tree=$work/tree

fail() { echo "install_package: $*" >&2; exit 1; }

# The package must hold the program: without it the test fails, whatever
# else the package holds.
[ -n "$program" ] || fail "this build has no p2pd program (target p2pd_cli, tools/p2pd): the package would lack it"
[ -x "$program" ] || fail "$program is not built: build p2pd_cli and p2pd_man before this test"
[ -f "$build/tools/p2pd/p2pd.1" ] || fail "$build/tools/p2pd/p2pd.1 is not built: build p2pd_man"
for lib in libp2pd.a libp2pd_net.a; do
  [ -f "$build/$lib" ] || fail "$build/$lib is missing: build p2pd before this test"
done

rm -rf "$work"
mkdir -p "$work"
echo "== cpack"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/cpack" > "$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/cpack/p2pd_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { cat "$work/cpack.log" >&2; fail "cpack made no p2pd_*.deb"; }
echo "$deb"

echo "== contents"
dpkg-deb --contents "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' > "$work/contents"
for f in /usr/bin/p2pd /usr/share/man/man1/p2pd.1.gz /usr/share/p2pd/servers.conf \
         /usr/lib/systemd/system/p2pd.service /usr/lib/libp2pd.a /usr/lib/libp2pd_node.a \
         /usr/lib/cmake/p2pd/p2pdConfig.cmake /usr/lib/cmake/p2pd/p2pd-targets.cmake \
         /usr/include/p2pd/node.hpp /usr/include/p2pd/node/metrics/prometheus.hpp \
         /usr/include/p2pd/rest/rest_server.hpp; do
  grep -qx "$f" "$work/contents" || fail "the package lacks $f"
done
if grep -q '/detail/' "$work/contents"; then
  fail "the package holds detail/ headers: $(grep '/detail/' "$work/contents" | head -n 3)"
fi

echo "== control"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# dpkg-shlibdeps found the program's shared libraries (CAF among them).
for d in libc6 libcaf-core0.17; do
  echo "$depends" | grep -q "$d" || fail "Depends does not name $d: $depends"
done
[ "$(dpkg-deb -f "$deb" Package)" = p2pd ] || fail "the package is not called p2pd"

echo "== unpack into $tree (dpkg -x)"
dpkg -x "$deb" "$tree"
p2pd=$tree/usr/bin/p2pd
[ -x "$p2pd" ] || fail "$p2pd is not executable"
# The p2pd libraries are static: the program needs no library of the tree,
# only the system's (the package's Depends), all of which must resolve.
if ldd "$p2pd" | grep -q 'not found'; then
  fail "the program's libraries do not resolve: $(ldd "$p2pd" | grep 'not found')"
fi

echo "== p2pd --help"
"$p2pd" --help > "$work/help.txt" 2>&1 || { cat "$work/help.txt" >&2; fail "p2pd --help failed"; }
grep -q netcheck "$work/help.txt" || { cat "$work/help.txt" >&2; fail "p2pd --help does not list netcheck"; }

echo "== p2pd netcheck, offline"
# Offline: no server file (no STUN or NAT server is asked) and loopback only
# (no gateway asked for port mapping), in a fresh data directory; it must
# end on its own, saying what it found.
mkdir -p "$work/data"
rc=0
P2PD_DATA_DIR=$work/data timeout 60 "$p2pd" netcheck --interfaces lo > "$work/netcheck.txt" 2>&1 || rc=$?
cat "$work/netcheck.txt"
[ "$rc" -eq 0 ] || fail "p2pd netcheck --interfaces lo exited $rc"
grep -q '^interface lo' "$work/netcheck.txt" || fail "p2pd netcheck did not report interface lo"

echo "== the systemd unit"
unit=$tree/usr/lib/systemd/system/p2pd.service
execstart='ExecStart=/usr/bin/p2pd node --data-dir /var/lib/p2pd --servers /usr/share/p2pd/servers.conf'
grep -qx "$execstart" "$unit" || fail "the unit's ExecStart is not $execstart: $(grep ExecStart "$unit")"
if command -v systemd-analyze >/dev/null 2>&1; then
  # Against the host's units, with the program where the tree has it (verify
  # checks that ExecStart is executable); any warning fails, since verify
  # exits 0 on a directive it ignores.
  sed "s|^ExecStart=/usr/bin/p2pd|ExecStart=$p2pd|" "$unit" > "$work/p2pd.service"
  out=$(systemd-analyze verify --man=no "$work/p2pd.service" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
  echo "systemd-analyze verify: clean"
else
  echo "systemd-analyze not found: the unit's verification is skipped"
fi
echo "install_package: ok"
