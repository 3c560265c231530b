#!/usr/bin/env bash
# The README's two set-up commands:
#   scripts/setup.sh demo   install what is missing, build, run the P2P demo
#   scripts/setup.sh test   install what is missing, build, run every test
#                           (an -O2 build and an ASan + UBSan build, side by side)
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
    # Two builds, tested side by side (docs/design-notes.md, "The test
    # command's time"):
    # - build: GCC -O2 with -Werror, the library, tools, benchmarks and
    #   examples; its tests are those of whole programs: the NAT lab (root,
    #   network namespaces), the examples, the benchmarks' smoke runs, the
    #   installed package, the fuzz corpora's replays;
    # - build-asan: clang -O0 -g1 with ASan and UBSan (clang compiles it in
    #   half GCC's time), instrumented for libFuzzer: the GoogleTest suites,
    #   the libFuzzer runs and the corpora's replays again.
    # Explicit: the demo configures `build` without tests and bench.
    # The punch matrix runs each pair twice, once each way (three for docs/).
    build build "${NODEBUG[@]}" -DP2PD_WERROR=ON -DP2PD_BUILD_TESTS=ON -DP2PD_UNIT_TESTS=OFF \
      -DP2PD_BUILD_BENCH=ON -DP2PD_BUILD_EXAMPLES=ON -DP2PD_PUNCH_MATRIX_RUNS=2
    # The lab's tests mostly wait (on NATs, servers, timeouts): the sanitized
    # build compiles meanwhile, at the lowest priority, so that the tests
    # keep their timing; their log comes at the end.
    rm -f build/ctest.rc
    (cd build && if ctest --output-on-failure --no-tests=error -j "$(nproc)" --timeout 300 \
       -E '_fuzz$' > ctest.log 2>&1; then echo 0 > ctest.rc; else echo 1 > ctest.rc; fi) &
    programs=$!
    CC=clang-14 CXX=clang++-14 cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" "-DCMAKE_C_FLAGS_DEBUG=-O0 -g1" \
      -DP2PD_SANITIZE=address,undefined -DP2PD_UNITY=ON -DP2PD_BUILD_TOOLS=OFF \
      -DP2PD_WERROR=ON -DP2PD_BUILD_BENCH=OFF -DP2PD_BUILD_EXAMPLES=OFF -DP2PD_LIBFUZZER=ON \
      >/dev/null
    rc=0
    if nice -n 19 cmake --build build-asan -j "$(nproc)"; then
      step "built build-asan"
      # Not here: the lab (the build above runs it, with its tools), the
      # examples' and the package's tests (not about memory). At the lowest
      # priority too: the lab's servers and nodes, which may still be
      # running beside them, keep their timing.
      (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        LSAN_OPTIONS="suppressions=$PWD/../tests/lsan.supp" \
        nice -n 19 ctest --output-on-failure --no-tests=error -j "$(nproc)" --timeout 300 -LE lab \
          -E '^examples_|^install_') || rc=1
      step "tested build-asan"
    else
      rc=1
    fi
    wait "$programs" || true
    echo "== the tests of build (whole programs)"
    cat build/ctest.log
    step "tested build"
    [ "$(cat build/ctest.rc 2>/dev/null)" = 0 ] || rc=1
    exit $rc
    ;;
  *)
    echo "usage: scripts/setup.sh demo|test" >&2
    exit 2
    ;;
esac
