#!/usr/bin/env bash
# Builds one fuzz target with clang++ and libFuzzer (plus ASan and UBSan) and
# runs it for a bounded number of inputs and time from its seed corpus.
#
#   run_fuzz.sh <target> <source dir> <include root> <proto_gen dir> <work dir> [runs] [seconds]
#
# <target> is the stem of tests/fuzz/<target>_fuzz.cpp; its seeds are
# tests/fuzz/corpus/<target>. The project builds with g++, which has no
# libFuzzer, so this compiles net/, proto/ and the generated protobuf code
# itself, once, into an instrumented archive that every target links (under
# a lock: CTest may start several targets at once). Exits 77 (CTest: skipped)
# when clang++ or its libFuzzer runtime (Debian: clang-14, libclang-rt-14-dev)
# is missing.
set -euo pipefail

target=$1
src=$2
inc=$3
gen=$4
work=$5
runs=${6:-50000}
secs=${7:-30}

cxx=""
for c in clang++ clang++-14; do
  if command -v "$c" >/dev/null; then cxx=$c; break; fi
done
if [ -z "$cxx" ]; then
  echo "run_fuzz: SKIPPED: no clang++ (scripts/install-deps.sh installs clang-14)"
  exit 77
fi

mkdir -p "$work/obj" "$work/corpus-$target"
flags=(-std=c++17 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined
       -DP2PD_LIBFUZZER -I"$inc" -isystem "$gen")

exec 9>"$work/build.lock"
flock 9

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

# The library, instrumented for coverage (fuzzer-no-link) and the sanitizers.
# An object is rebuilt when its source or any project header is newer.
# net/ has a folder per concern: every .cpp below it; of node/, the CAF-free
# peer address codec only (the rest of node/ needs CAF, which this does not
# build).
newest_header=$(ls -t $(find "$src"/net "$src"/proto "$src"/node -name '*.hpp' 2>/dev/null) \
                  "$gen"/p2pd/proto/*.pb.h | head -1 || true)
# net/names/store/ is the name store's, which links SQLite and libpqxx: no
# decoder there, and no target here links those.
mapfile -t lib_sources < <(find "$src"/net "$src"/proto -name '*.cpp' -not -path '*/names/store/*' | sort
                           ls "$src"/node/address/peer_address.cpp
                           ls "$gen"/p2pd/proto/*.pb.cc)
objs=()
for f in "${lib_sources[@]}"; do
  rel=${f#"$src"/}
  o="$work/obj/${rel//\//_}.o"
  objs+=("$o")
  if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || [ "$newest_header" -nt "$o" ]; then
    echo "run_fuzz: compiling $(basename "$f")"
    "$cxx" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$f" -o "$o"
  fi
done

bin=$work/${target}_fuzz
stale=0
[ -x "$bin" ] || stale=1
for f in "$src/tests/fuzz/${target}_fuzz.cpp" "$src/tests/fuzz/fuzz_main.hpp" "${objs[@]}"; do
  [ "$f" -nt "$bin" ] && stale=1
done
if [ $stale -eq 1 ]; then
  echo "run_fuzz: linking $bin"
  "$cxx" "${flags[@]}" -fsanitize=fuzzer "$src/tests/fuzz/${target}_fuzz.cpp" "${objs[@]}" \
    -lprotobuf -lssl -lcrypto -lpthread -o "$bin"
fi
flock -u 9

# The first corpus directory is where libFuzzer adds what it finds: keep that
# in the build tree, and the seeds in the source tree read-only.
echo "run_fuzz: $target: $runs runs, at most $secs s"
cd "$work"
# libFuzzer's default error exit code is 77, which CTest would read as a
# skip: a crash must fail the test.
"$bin" -error_exitcode=1 -runs="$runs" -max_len=4096 -max_total_time="$secs" -print_final_stats=1 \
  -artifact_prefix="$work/${target}-" "$work/corpus-$target" "$src/tests/fuzz/corpus/$target"
