#!/usr/bin/env bash
# Builds the STUN fuzz target with clang++ and libFuzzer (plus ASan and UBSan)
# and runs it for a fixed number of inputs from the seed corpus.
#
#   run_fuzz.sh <source dir> <include root> <work dir> [runs] [seconds]
#
# The project builds with g++, which has no libFuzzer, so this compiles the
# target and the codec's sources itself. Exits 77 (CTest: skipped) when clang++
# or its libFuzzer runtime (Debian: clang-14, libclang-rt-14-dev) is missing.
set -euo pipefail

src=$1
inc=$2
work=$3
runs=${4:-200000}
secs=${5:-60}

cxx=""
for c in clang++ clang++-14; do
  if command -v "$c" >/dev/null; then cxx=$c; break; fi
done
if [ -z "$cxx" ]; then
  echo "run_fuzz: SKIPPED: no clang++ (scripts/install-deps.sh installs clang-14)"
  exit 77
fi

mkdir -p "$work/corpus"
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -DP2PD_LIBFUZZER -I"$inc")

# libFuzzer's runtime is a separate package; probe it before the real build so
# that its absence is a skip, not a failure.
probe=$work/probe
if [ ! -x "$probe" ]; then
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
    > "$work/probe.cpp"
  if ! "$cxx" -fsanitize=fuzzer "$work/probe.cpp" -o "$probe" 2>"$work/probe.log"; then
    echo "run_fuzz: SKIPPED: $cxx cannot link libFuzzer (libclang-rt-14-dev):"
    cat "$work/probe.log"
    exit 77
  fi
fi

sources=("$src/tests/fuzz/stun_fuzz.cpp" "$src/net/stun_attrs.cpp" "$src/net/stun_auth.cpp"
         "$src/net/stun_message.cpp" "$src/net/stun_builder.cpp" "$src/net/address.cpp"
         "$src/net/error.cpp")
bin=$work/stun_fuzz
stale=0
[ -x "$bin" ] || stale=1
for f in "${sources[@]}" "$src"/net/stun*.hpp "$src/net/address.hpp" "$src/net/error.hpp"; do
  [ "$f" -nt "$bin" ] && stale=1
done
if [ $stale -eq 1 ]; then
  echo "run_fuzz: building $bin with $cxx"
  "$cxx" "${flags[@]}" "${sources[@]}" -lcrypto -o "$bin"
fi

# The first corpus directory is where libFuzzer adds what it finds: keep that
# in the build tree, and the seeds in the source tree read-only.
echo "run_fuzz: $runs runs, at most $secs s"
cd "$work"
"$bin" -runs="$runs" -max_len=1024 -max_total_time="$secs" -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$src/tests/fuzz/corpus"
