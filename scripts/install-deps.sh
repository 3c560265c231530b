#!/usr/bin/env bash
# Installs what p2pd needs from Debian 12's packages, and nothing that is
# already there. Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build ccache pkg-config   # toolchain
  dpkg-dev                                              # the Debian package: dpkg-shlibdeps (CPack), dpkg-deb
  libcaf-dev                                            # CAF 0.17.6: core + io
  libssl-dev libminiupnpc-dev libpaho-mqttpp-dev libpaho-mqtt-dev
  libprotobuf-dev protobuf-compiler
  libre2-dev                                            # pattern filters of receive queues
  libgtest-dev                                          # GoogleTest + CTest
  iproute2                                              # tests build namespaces
  nftables conntrack coturn stun-client                 # tests/lab: NAT routers, STUN servers/client
  tcpdump                                               # tests/lab: lab_relay captures the relay's traffic
  openssl                                               # tests: s_server as a TLS peer
  mosquitto mosquitto-clients                           # tests: a throw-away MQTT broker, mosquitto_sub
  # tests: an NTP server (the tests run chronyd -x: it never sets the clock).
  # On a host with systemd the package also starts chrony.service, which
  # replaces systemd-timesyncd as the host's time daemon (both are time-daemon).
  chrony
  # tests: a UPnP IGD / NAT-PMP / PCP router (tests/support/miniupnpd_fixture):
  # the nftables build only, no config package, so no service is installed
  # or started on the host; the tests run it in a router namespace.
  miniupnpd-nftables
  libnice-dev                                           # bench/bench_ice: libnice's ICE, the hole-punching baseline
  clang-14 libclang-rt-14-dev                           # tests: libFuzzer (tests/fuzz)
  libsqlite3-dev libpqxx-dev                            # the name server's storage (net/names/store)
  libcli11-dev nlohmann-json3-dev                       # the p2pd program: its command line, netcheck --json
  postgresql                                            # tests: a throw-away PostgreSQL server (initdb, pg_ctl)
  nlohmann-json3-dev                                    # the REST API's JSON (rest/)
  curl                                                  # tests: the REST API's client (tests/rest)
  chromium                                              # tests: the status page in headless Chromium (ctest -L browser)
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
