#include "miniupnpd_fixture.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>

#include "netns.hpp"

namespace p2pd::test {

namespace {

// miniupnpd's nftables backend adds its rules to chains it expects to exist
// (in 2.3.1: table inet "filter", chains "miniupnpd" for the filter and
// "prerouting_miniupnpd" / "postrouting_miniupnpd" for NAT). The router's
// own rules around them: forward what the LAN starts and the replies, drop
// the rest of the WAN's unless miniupnpd's chain accepts it; masquerade.
// The table is inet: the same forward chain filters IPv6 (no NAT there:
// masquerade applies to IPv4 only), and miniupnpd's pinholes go to its
// chain "miniupnpd" beside the IPv4 mappings' accept rules.
constexpr const char* router_rules = R"(nft -f - <<'EOF'
table inet filter {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan0" oifname "wan0" accept
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "wan0" masquerade
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
EOF)";

constexpr const char* ready_natpmp = "Listening for NAT-PMP/PCP traffic";
constexpr const char* ready_upnp = "HTTP listening on port";

} // namespace

std::string sh_output(const std::string& cmd, bool& ok) {
  ok = false;
  FILE* p = ::popen(("(" + cmd + "\n) 2>&1").c_str(), "r");
  if (p == nullptr)
    return "popen() failed for: " + cmd;
  std::string out;
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof(buf), p))
    out.append(buf, n);
  ok = ::pclose(p) == 0;
  return out;
}

std::unique_ptr<miniupnpd_lab> miniupnpd_lab::start(std::string& why, miniupnpd_options opts) {
  if (!can_create_netns()) {
    why = "needs root for network namespaces";
    return nullptr;
  }
  if (!have_program("miniupnpd") || !have_program("nft")) {
    why = "not installed: miniupnpd (Debian package miniupnpd-nftables) or nft";
    return nullptr;
  }
  std::unique_ptr<miniupnpd_lab> lab{new miniupnpd_lab};
  if (!lab->dir_) {
    why = "cannot make a temporary directory";
    return nullptr;
  }
  lab->opts_ = opts;
  auto tag = "p2pd-" + opts.tag + std::to_string(::getpid());
  lab->router_ = tag + "-router";
  lab->client_ = tag + "-client";
  lab->peer_ = tag + "-peer";
  if (!lab->build(why) || !lab->launch(why))
    return nullptr;
  return lab;
}

bool miniupnpd_lab::build(std::string& why) {
  // Left over from a run of this pid that was killed: start clean.
  for (auto* ns : {&router_, &client_, &peer_})
    sh("ip netns del " + *ns + " 2>/dev/null || true");
  built_ = true;
  auto& r = router_;
  auto& c = client_;
  auto& p = peer_;
  why = sh("ip netns add " + r + " && ip netns add " + c + " && ip netns add " + p
           + " && ip -n " + r + " link set lo up && ip -n " + c + " link set lo up && ip -n " + p
           + " link set lo up"
           + " && ip -n " + r + " link add lan0 type veth peer name eth0 netns " + c
           + " && ip -n " + r + " link add wan0 type veth peer name eth0 netns " + p
           + " && ip -n " + r + " addr add 10.77.1.1/24 dev lan0 && ip -n " + r
           + " link set lan0 up && ip -n " + r + " addr add 11.77.0.1/24 dev wan0 && ip -n " + r
           + " link set wan0 up && ip netns exec " + r + " sysctl -qw net.ipv4.ip_forward=1"
           + " && ip -n " + c + " addr add 10.77.1.2/24 dev eth0 && ip -n " + c
           + " link set eth0 up && ip -n " + c + " route add default via 10.77.1.1"
           + " && ip -n " + p + " addr add 11.77.0.2/24 dev eth0 && ip -n " + p
           + " link set eth0 up && ip netns exec " + r + " " + router_rules);
  if (!why.empty() || !opts_.ipv6)
    return why.empty();
  // nodad: the addresses are usable at once (no duplicate detection wait).
  why = sh("ip -n " + r + " addr add 2001:db8:77:1::1/64 dev lan0 nodad && ip -n " + r
           + " addr add 2001:db8:77::1/64 dev wan0 nodad && ip netns exec " + r
           + " sysctl -qw net.ipv6.conf.all.forwarding=1 && ip -n " + c
           + " addr add 2001:db8:77:1::2/64 dev eth0 nodad && ip -n " + c
           + " -6 route add default via 2001:db8:77:1::1 && ip -n " + p
           + " addr add 2001:db8:77::2/64 dev eth0 nodad && ip -n " + p
           + " -6 route add 2001:db8:77:1::/64 via 2001:db8:77::1");
  return why.empty();
}

bool miniupnpd_lab::launch(std::string& why) {
  auto d = dir_.path();
  {
    std::ofstream conf{d + "/miniupnpd.conf"};
    conf << "ext_ifname=wan0\n"
            "ext_ifname6=wan0\n"
            // the interface's name: miniupnpd then serves IPv6 on it too
            "listening_ip=lan0\n"
            "http_port=0\n"
         << "enable_natpmp=" << (opts_.natpmp_pcp ? "yes" : "no") << "\n"
         << "enable_upnp=" << (opts_.upnp ? "yes" : "no") << "\n"
         << "ipv6_disable=" << (opts_.ipv6 && opts_.ipv6_pinholes ? "no" : "yes") << "\n"
         << "secure_mode=yes\n"
            "system_uptime=no\n"
         << "min_lifetime=" << opts_.min_lifetime_s << "\n"
         << "max_lifetime=" << opts_.max_lifetime_s << "\n"
         << "lease_file=" << d << "/leases\n"
         << "uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b\n"
            "allow 1024-65535 10.77.1.0/24 1024-65535\n"
            "deny 0-65535 0.0.0.0/0 0-65535\n";
    if (!conf) {
      why = "cannot write " + d + "/miniupnpd.conf";
      return false;
    }
  }
  auto log_path = d + "/miniupnpd.log";
  auto from = read_file(log_path).size();
  if (!proc_.start({"ip", "netns", "exec", router_, "miniupnpd", "-f", d + "/miniupnpd.conf",
                    "-d", "-P", d + "/miniupnpd.pid"},
                   log_path, why))
    return false;
  // The NAT-PMP/PCP socket is opened after the HTTP one: its line comes last.
  auto ready = opts_.natpmp_pcp ? ready_natpmp : ready_upnp;
  if (!proc_.wait_for_text(log_path, ready, from, 5000)) {
    why = std::string{"miniupnpd did not say \""} + ready + "\" within 5 s: " + log();
    proc_.stop();
    return false;
  }
  return true;
}

bool miniupnpd_lab::restart(std::string& why) {
  proc_.stop();
  why = sh("ip netns exec " + router_
           + " nft flush chain inet filter miniupnpd && ip netns exec " + router_
           + " nft flush chain inet filter prerouting_miniupnpd && ip netns exec " + router_
           + " nft flush chain inet filter postrouting_miniupnpd && rm -f " + dir_.path()
           + "/leases");
  return why.empty() && launch(why);
}

net::result<std::vector<router_mapping>> miniupnpd_lab::mappings() const {
  bool ok = false;
  auto out = sh_output("ip netns exec " + router_ + " nft list chain inet filter prerouting_miniupnpd",
                       ok);
  if (!ok)
    return p2pd::net::error{p2pd::net::errc::io_failed, "nft list: " + out};
  // iif "wan0" @nh,72,8 0x11 th dport 40000 dnat ip to 10.77.1.2:40000
  static const std::regex rule{
    R"(@nh,72,8 (0x[0-9a-f]+) th dport (\d+) dnat ip to ([0-9.]+):(\d+))"};
  std::vector<router_mapping> found;
  for (std::sregex_iterator i{out.begin(), out.end(), rule}, end; i != end; ++i) {
    const auto& m = *i;
    router_mapping x;
    x.proto = std::stoul(m[1], nullptr, 16) == 6 ? net::protocol::tcp : net::protocol::udp;
    x.external_port = static_cast<uint16_t>(std::stoul(m[2]));
    auto ip = net::ip_address::parse(m[3].str());
    if (!ip)
      return p2pd::net::error{p2pd::net::errc::malformed, "nft rule with address " + m[3].str()};
    x.internal = {*ip, static_cast<uint16_t>(std::stoul(m[4]))};
    found.push_back(x);
  }
  return found;
}

net::result<std::vector<router_pinhole>> miniupnpd_lab::pinholes() const {
  bool ok = false;
  auto out = sh_output("ip netns exec " + router_ + " nft list chain inet filter miniupnpd", ok);
  if (!ok)
    return p2pd::net::error{p2pd::net::errc::io_failed, "nft list: " + out};
  // iif "wan0" th dport 40000 @nh,192,128 0x20010db8007700010000000000000002 @nh,48,8 0x6 accept
  // (the IPv6 header's destination address and next header)
  static const std::regex rule{R"(th dport (\d+) @nh,192,128 0x([0-9a-f]{32}) @nh,48,8 (0x[0-9a-f]+))"};
  std::vector<router_pinhole> found;
  for (std::sregex_iterator i{out.begin(), out.end(), rule}, end; i != end; ++i) {
    const auto& m = *i;
    net::ip_address::bytes_type b{};
    auto hex = m[2].str();
    for (size_t k = 0; k < 16; ++k)
      b[k] = static_cast<uint8_t>(std::stoul(hex.substr(2 * k, 2), nullptr, 16));
    router_pinhole x;
    x.proto = std::stoul(m[3], nullptr, 16) == 6 ? net::protocol::tcp : net::protocol::udp;
    x.internal = {net::ip_address::v6(b), static_cast<uint16_t>(std::stoul(m[1]))};
    found.push_back(x);
  }
  return found;
}

std::string miniupnpd_lab::log() const {
  return read_file(dir_.path() + "/miniupnpd.log");
}

miniupnpd_lab::~miniupnpd_lab() {
  proc_.stop();
  if (built_)
    for (auto* ns : {&router_, &client_, &peer_})
      sh("ip netns del " + *ns + " 2>/dev/null");
}

netns_guard::netns_guard(const std::string& name) {
  home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (home_ < 0 || fd < 0) {
    error_ = "cannot open namespace " + name + ": " + std::strerror(errno);
  } else if (::setns(fd, CLONE_NEWNET) != 0) {
    error_ = "setns " + name + ": " + std::strerror(errno);
  }
  if (fd >= 0)
    ::close(fd);
}

netns_guard::~netns_guard() {
  if (home_ >= 0) {
    ::setns(home_, CLONE_NEWNET);
    ::close(home_);
  }
}

} // namespace p2pd::test
