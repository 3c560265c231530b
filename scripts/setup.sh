#!/usr/bin/env bash
# The README's two set-up commands:
#   scripts/setup.sh demo   install what is missing, build, run the P2P demo
#   scripts/setup.sh test   install what is missing, build, run every test
#                           (a normal build, then an ASan + UBSan build)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-demo}"

scripts/install-deps.sh

# -O2 without debug info: the default RelWithDebInfo's code and warnings, a
# third less compile time (the ASan build below has line tables, for its
# reports). Both commands build in unity batches (P2PD_UNITY): a cold build
# takes less than half the CPU time. demo and test share the directory.
NODEBUG=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"
         "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG" -DP2PD_UNITY=ON)

# Each step's wall time goes to the log: where the command's time goes.
t0=$SECONDS
step() { echo "[setup] $1: $((SECONDS - t0)) s since the start"; }

build() { # build <dir> <extra cmake args...>
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
  step "built $dir"
}

case "$what" in
  demo)
    build build "${NODEBUG[@]}" -DP2PD_BUILD_TESTS=OFF -DP2PD_BUILD_BENCH=OFF
    exec build/examples/p2p_demo
    ;;
  test)
    # Explicit: the demo configures this directory without tests and bench.
    build build "${NODEBUG[@]}" -DP2PD_WERROR=ON -DP2PD_BUILD_TESTS=ON -DP2PD_BUILD_BENCH=ON -DP2PD_BUILD_EXAMPLES=ON
    (cd build && ctest --output-on-failure --no-tests=error -j "$(nproc)" --timeout 300)
    step "tested build"
    # -O0 -g1: the sanitizers compile fastest without optimisation, and line
    # tables are all their reports need.
    build build-asan -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" \
      "-DCMAKE_C_FLAGS_DEBUG=-O0 -g1" -DP2PD_SANITIZE=address,undefined -DP2PD_UNITY=ON \
      -DP2PD_BUILD_TOOLS=OFF -DP2PD_WERROR=ON -DP2PD_BUILD_BENCH=OFF -DP2PD_BUILD_EXAMPLES=OFF
    # Not here: the lab's tests (they ran above; here they would only rerun
    # third-party STUN clients, the ASan build has no tools) and the libFuzzer
    # runs (clang's own ASan + UBSan build, the same as above). The corpora's
    # replays (_fuzz_corpus) run, sanitized.
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      LSAN_OPTIONS="suppressions=$PWD/../tests/lsan.supp" \
      ctest --output-on-failure --no-tests=error -j "$(nproc)" --timeout 300 -LE lab -E '_fuzz$')
    step "tested build-asan"
    ;;
  *)
    echo "usage: scripts/setup.sh demo|test" >&2
    exit 2
    ;;
esac
