#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

// Runs test code in a network namespace of its own: fork a child, unshare
// its network namespace, configure it with `ip` (which runs inside, being the
// child's child), check there, and hand the verdict back to the parent, where
// GoogleTest asserts it. The host's network is never touched.

namespace p2pd::test {

/// What a child run in a fresh network namespace reported.
struct netns_outcome {
  /// The child exited with status 0 and reported no failure.
  bool ok = false;
  /// The child's failure report, or why it did not run.
  std::string report;
};

/// Runs `body` in a forked child inside a new, empty network namespace (only
/// a loopback interface, down). `body` returns "" on success or a failure
/// report. Exceptions in the child become failures. Needs root.
netns_outcome run_in_new_netns(const std::function<std::string()>& body);

/// True if this process may create network namespaces.
bool can_create_netns();

/// True if the kernel has IPv6 enabled (on loopback, so in new namespaces).
bool ipv6_enabled();

/// Runs `cmd` with /bin/sh in the calling process (so in its namespace);
/// returns "" on success, else what failed and the command's stderr.
std::string sh(const std::string& cmd);

/// The `ip` commands that create an Ethernet-like interface `name` that is
/// up with carrier: one end of a veth pair whose peer, "veth-<name>", is up
/// too (dummy links need a kernel module that containers may lack).
std::string add_nic_cmd(const std::string& name);

/// Waits until the kernel routes every address of `ips` (IPv4 or IPv6 text)
/// to this host, within `limit`; returns "" then, else which are not yet
/// local. Needed after `ip -6 addr add ... nodad`: the address is usable at
/// once (bind() works), but its local route is installed later by a kernel
/// work queue, and until then traffic to it leaves through the NIC's prefix
/// route and is lost. Waits on route notifications, not by polling.
std::string await_local_addresses(const std::vector<std::string>& ips,
                                  std::chrono::milliseconds limit = std::chrono::seconds{5});

/// Checks inside the child, where GoogleTest assertions would land in a copy
/// of the test runner that the parent never sees.
class child_checks {
public:
  /// Records a failure unless `ok`; returns `ok`.
  bool expect(bool ok, const char* what, const char* file, int line);

  template <class A, class B>
  bool expect_eq(const A& a, const B& b, const char* a_text, const char* b_text, const char* file,
                 int line) {
    if (a == b)
      return true;
    fail(file, line, std::string{a_text} + " == " + b_text + "\n    left:  " + text(a)
                       + "\n    right: " + text(b));
    return false;
  }

  /// Every failure so far, one per line; empty if none.
  const std::string& failures() const { return failures_; }

private:
  void fail(const char* file, int line, const std::string& what);

  template <class T>
  static std::string text(const T& x) {
    if constexpr (std::is_same_v<T, bool>)
      return x ? "true" : "false";
    else if constexpr (std::is_arithmetic_v<T>)
      return std::to_string(x);
    else if constexpr (std::is_convertible_v<T, std::string>)
      return '"' + std::string{x} + '"';
    else
      return x.to_string();
  }

  std::string failures_;
};

} // namespace p2pd::test

#define NETNS_EXPECT(checks, cond) (checks).expect((cond), #cond, __FILE__, __LINE__)
#define NETNS_EXPECT_EQ(checks, a, b) (checks).expect_eq((a), (b), #a, #b, __FILE__, __LINE__)

/// Skips the test unless IPv6 is enabled.
#define P2PD_SKIP_UNLESS_IPV6()                                                                    \
  do {                                                                                             \
    if (!::p2pd::test::ipv6_enabled())                                                             \
      GTEST_SKIP() << "IPv6 is disabled";                                                          \
  } while (false)

/// Skips the test unless network namespaces can be created here.
#define P2PD_SKIP_UNLESS_NETNS()                                                                   \
  do {                                                                                             \
    if (!::p2pd::test::can_create_netns())                                                         \
      GTEST_SKIP() << "needs root for network namespaces";                                         \
  } while (false)
