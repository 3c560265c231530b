#!/bin/sh
# Installs the p2pd build in $1 into a temporary prefix, then configures,
# builds and runs tests/install/consumer against that prefix.
# Usage: run_consumer.sh <build dir> <work dir> <consumer source> <generator>
#          <c++ compiler> <compiler launcher or ""> <build type> <sanitizers or "">
set -eu
build=$1 work=$2 src=$3 gen=$4 cxx=$5 launcher=$6 type=$7 sanitize=$8
prefix=$work/prefix
cbuild=$work/consumer-build

rm -rf "$prefix" "$cbuild"
for lib in libp2pd.a libp2pd_net.a; do
  if [ ! -f "$build/$lib" ]; then
    echo "$build/$lib is missing: build p2pd before running this test" >&2
    exit 1
  fi
done

echo "== install into $prefix"
cmake --install "$build" --prefix "$prefix"

# A sanitized p2pd needs a sanitized consumer (the runtime must be linked in).
flags=""
if [ -n "$sanitize" ]; then
  flags="-fsanitize=$sanitize -fno-omit-frame-pointer"
fi

# Every p2pd header an installed header includes must be installed too: the
# detail/ folders are not, so no public header may include one.
echo "== check the installed headers' includes"
missing=$(cd "$prefix/include" && find p2pd -name '*.hpp' -exec grep -H -o '#include "p2pd/[^"]*"' {} + \
  | sed 's/:#include "\(.*\)"$/ \1/' | while read -r from inc; do
      [ -f "$inc" ] || echo "$from includes $inc, which is not installed"
    done)
if [ -n "$missing" ]; then
  echo "$missing" >&2
  exit 1
fi

echo "== configure the consumer"
cmake -S "$src" -B "$cbuild" -G "$gen" \
  -DCMAKE_BUILD_TYPE="$type" \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

# The package must come from the prefix, and so must p2pd's headers.
found=$(sed -n 's/^p2pd_DIR:PATH=//p' "$cbuild/CMakeCache.txt")
case "$found" in
  "$prefix"/*) ;;
  *) echo "p2pd was found in '$found', not in $prefix" >&2; exit 1 ;;
esac
root=$(cd "$src/../../.." && pwd)
for dir in $(grep -o -e '-I *[^ "]*' -e '-isystem *[^ "]*' "$cbuild/compile_commands.json" \
               | sed 's/^-I *//; s/^-isystem *//' | sort -u); do
  case "$dir" in
    "$prefix"/*) ;;
    "$root"|"$root"/*)
      echo "the consumer compiles with headers from p2pd's tree: $dir" >&2; exit 1 ;;
  esac
done

echo "== build the consumer"
cmake --build "$cbuild" -j 2

echo "== run the consumer"
"$cbuild/consumer"
