#include "netns.hpp"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "forked_child.hpp"
#include "p2pd/net/iface/detail/netlink.hpp"

namespace p2pd::test {

netns_outcome run_in_new_netns(const std::function<std::string()>& body) {
  forked_child child{[&]() -> std::string {
    if (::unshare(CLONE_NEWNET) != 0)
      return std::string{"unshare(CLONE_NEWNET) failed: "} + std::strerror(errno);
    return body();
  }};
  std::string report = child.report();
  int status = child.release();
  bool exited_ok = exited_cleanly(status);
  if (!exited_ok && report.empty())
    report = "child " + status_text(status);
  return {exited_ok && report.empty(), report};
}

bool can_create_netns() {
  return ::geteuid() == 0;
}

bool ipv6_enabled() {
  std::ifstream f{"/proc/sys/net/ipv6/conf/lo/disable_ipv6"};
  int disabled = 1;
  return f >> disabled && disabled == 0;
}

std::string sh(const std::string& cmd) {
  // stderr into stdout so the report says why `ip` refused.
  // The newline lets `cmd` end with a here-document.
  FILE* p = ::popen(("(" + cmd + "\n) 2>&1").c_str(), "r");
  if (p == nullptr)
    return "popen() failed for: " + cmd;
  std::string out;
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof(buf), p))
    out.append(buf, n);
  int status = ::pclose(p);
  if (status == 0)
    return {};
  return "command failed (status " + std::to_string(status) + "): " + cmd + "\n" + out;
}

std::string add_nic_cmd(const std::string& name) {
  std::string peer = "veth-" + name;
  return "ip link add " + name + " type veth peer name " + peer + " && ip link set " + peer
         + " up && ip link set " + name + " up";
}

namespace {

// An address as the kernel puts it in RTA_DST: 4 or 16 bytes.
struct raw_address {
  int fam = AF_UNSPEC;
  std::string text;
  std::vector<uint8_t> bytes;
};

// Which of `want` have a local route (RTN_LOCAL, a host route to the
// address itself) now; "" when all do, else the missing ones or why the
// routes could not be read.
std::string not_yet_local(const std::vector<raw_address>& want) {
  std::vector<bool> found(want.size(), false);
  for (int fam : {AF_INET, AF_INET6}) {
    rtmsg hdr{};
    hdr.rtm_family = static_cast<unsigned char>(fam);
    auto msgs = net::netlink_dump(RTM_GETROUTE, &hdr, sizeof(hdr));
    if (!msgs)
      return "reading the routes: " + net::to_string(msgs.error());
    for (const auto& m : *msgs) {
      rtmsg rt{};
      if (m.type != RTM_NEWROUTE || !net::read_header(m.payload, rt) || rt.rtm_type != RTN_LOCAL)
        continue;
      for (const auto& a : net::attrs_after<rtmsg>(m.payload)) {
        if (a.type != RTA_DST)
          continue;
        for (size_t i = 0; i < want.size(); ++i)
          if (want[i].fam == fam && a.size == want[i].bytes.size()
              && rt.rtm_dst_len == a.size * 8
              && std::equal(a.data, a.data + a.size, want[i].bytes.begin()))
            found[i] = true;
      }
    }
  }
  std::string out;
  for (size_t i = 0; i < want.size(); ++i)
    if (!found[i])
      out += (out.empty() ? "" : ", ") + want[i].text;
  return out;
}

} // namespace

std::string await_local_addresses(const std::vector<std::string>& ips,
                                  std::chrono::milliseconds limit) {
  std::vector<raw_address> want;
  for (const auto& ip : ips) {
    raw_address a;
    a.text = ip;
    uint8_t buf[16];
    if (::inet_pton(AF_INET6, ip.c_str(), buf) == 1)
      a = raw_address{AF_INET6, ip, {buf, buf + 16}};
    else if (::inet_pton(AF_INET, ip.c_str(), buf) == 1)
      a = raw_address{AF_INET, ip, {buf, buf + 4}};
    else
      return "await_local_addresses: '" + ip + "' is no IP address";
    want.push_back(std::move(a));
  }
  // Subscribe before the first look, so that no route added in between is
  // missed: every notification makes us look again.
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0)
    return std::string{"await_local_addresses: netlink socket: "} + std::strerror(errno);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    auto err = std::string{"await_local_addresses: netlink bind: "} + std::strerror(errno);
    ::close(fd);
    return err;
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::string missing;
  for (;;) {
    missing = not_yet_local(want);
    if (missing.empty())
      break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
      break;
    // What changed does not matter (an overrun, ENOBUFS, neither): drain, look again.
    char buf[8192];
    while (::recv(fd, buf, sizeof(buf), 0) > 0 || errno == ENOBUFS)
      ;
  }
  ::close(fd);
  if (missing.empty())
    return {};
  return "after " + std::to_string(limit.count()) + " ms the kernel still has no local route to "
         + missing + " (traffic to it would leave through the NIC)";
}

bool child_checks::expect(bool ok, const char* what, const char* file, int line) {
  if (!ok)
    fail(file, line, what);
  return ok;
}

void child_checks::fail(const char* file, int line, const std::string& what) {
  failures_ += std::string{file} + ':' + std::to_string(line) + ": expected " + what + '\n';
}

} // namespace p2pd::test
