#include "netns.hpp"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "forked_child.hpp"

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

bool child_checks::expect(bool ok, const char* what, const char* file, int line) {
  if (!ok)
    fail(file, line, what);
  return ok;
}

void child_checks::fail(const char* file, int line, const std::string& what) {
  failures_ += std::string{file} + ':' + std::to_string(line) + ": expected " + what + '\n';
}

} // namespace p2pd::test
