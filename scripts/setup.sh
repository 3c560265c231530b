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
# third less compile time (the ASan build below has debug info, for its
# reports). demo and test share the directory, so both use it.
NODEBUG=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"
         "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG")

build() { # build <dir> <extra cmake args...>
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

case "$what" in
  demo)
    build build "${NODEBUG[@]}" -DP2PD_BUILD_TESTS=OFF -DP2PD_BUILD_BENCH=OFF
    exec build/examples/p2p_demo
    ;;
  test)
    # Explicit: the demo configures this directory without tests and bench.
    build build "${NODEBUG[@]}" -DP2PD_WERROR=ON -DP2PD_BUILD_TESTS=ON -DP2PD_BUILD_BENCH=ON -DP2PD_BUILD_EXAMPLES=ON
    (cd build && ctest --output-on-failure --no-tests=error -j "$(nproc)" --timeout 120)
    build build-asan -DCMAKE_BUILD_TYPE=Debug -DP2PD_SANITIZE=address,undefined -DP2PD_BUILD_TOOLS=OFF \
      -DP2PD_WERROR=ON -DP2PD_BUILD_BENCH=OFF -DP2PD_BUILD_EXAMPLES=OFF
    # The lab's tests ran above; here they would only rerun third-party STUN
    # clients (the ASan build has no tools), a minute for nothing.
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --output-on-failure --no-tests=error -j "$(nproc)" --timeout 240 -LE lab)
    ;;
  *)
    echo "usage: scripts/setup.sh demo|test" >&2
    exit 2
    ;;
esac
