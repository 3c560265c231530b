#pragma once

// miniupnpd (Debian's miniupnpd-nftables) as the router of a small lab of
// named network namespaces, for port mapping tests:
//
//   client 10.77.1.2 eth0 -- lan0 10.77.1.1 router 11.77.0.1 wan0 -- eth0 11.77.0.2 peer
//
// With `ipv6`, each link gets an IPv6 /64 too (client 2001:db8:77:1::2,
// router 2001:db8:77:1::1 and 2001:db8:77::1, peer 2001:db8:77::2, no
// translation) and the router's forward chain, table inet, is a stateful
// IPv6 firewall as well: the peer reaches the client only through a pinhole
// miniupnpd adds to its chain.
//
// The router forwards, masquerades LAN traffic and drops unsolicited WAN
// traffic except what miniupnpd's chains let in (its nftables tables are
// made here, in the router's namespace only: the package's nft_init.sh
// needs a helper script Debian does not ship). miniupnpd runs in the
// foreground with its config, pid and lease files in a temp dir. Namespace
// names carry the test's pid, and are deleted with the lab.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "child_process.hpp"
#include "temp_dir.hpp"

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::test {

struct miniupnpd_options {
  /// NAT-PMP and PCP: miniupnpd has one switch for both (enable_natpmp),
  /// over IPv4; with `ipv6` it answers PCP over IPv6 whatever this says.
  bool natpmp_pcp = true;
  /// UPnP IGD (SSDP discovery and the SOAP control URL).
  bool upnp = true;
  /// Lifetimes granted to NAT-PMP/PCP are at least this (min_lifetime);
  /// short, so that tests can wait out a lease.
  uint32_t min_lifetime_s = 2;
  uint32_t max_lifetime_s = 3600;
  /// IPv6 addresses on every link, IPv6 forwarding on the router.
  bool ipv6 = false;
  /// With `ipv6`: miniupnpd serves IPv6 (SSDP, HTTP, WANIPv6FirewallControl
  /// pinholes). false: ipv6_disable=yes, so the IGD answers over IPv4 only
  /// (and refuses pinholes: a request must come from the internal address).
  bool ipv6_pinholes = true;
  /// The namespace names' distinct part: "p2pd-<tag><pid>-router" ...
  std::string tag = "pm";
};

/// A pinhole as the router has it: an accept rule of miniupnpd's chain.
struct router_pinhole {
  net::protocol proto = net::protocol::udp;
  net::endpoint internal;
};

/// A mapping as the router has it: a DNAT rule of miniupnpd's chain.
struct router_mapping {
  net::protocol proto = net::protocol::udp;
  uint16_t external_port = 0;
  net::endpoint internal;
};

class miniupnpd_lab {
public:
  /// Makes the namespaces and starts miniupnpd, waiting (at most 5 s) for
  /// its log to say it listens. nullptr and `why` when this process may not
  /// make namespaces or miniupnpd is not installed (why then starts with
  /// "not installed" or "needs root": skip), or when it does not come up
  /// (fail).
  static std::unique_ptr<miniupnpd_lab> start(std::string& why, miniupnpd_options opts = {});
  ~miniupnpd_lab();
  miniupnpd_lab(const miniupnpd_lab&) = delete;
  miniupnpd_lab& operator=(const miniupnpd_lab&) = delete;

  const std::string& router_ns() const { return router_; }
  const std::string& client_ns() const { return client_; }
  const std::string& peer_ns() const { return peer_; }
  static net::ip_address gateway() { return *net::ip_address::parse("10.77.1.1"); }
  static net::ip_address client_ip() { return *net::ip_address::parse("10.77.1.2"); }
  static net::ip_address external_ip() { return *net::ip_address::parse("11.77.0.1"); }
  static net::ip_address peer_ip() { return *net::ip_address::parse("11.77.0.2"); }
  /// With miniupnpd_options::ipv6.
  static net::ip_address gateway6() { return *net::ip_address::parse("2001:db8:77:1::1"); }
  static net::ip_address client_ip6() { return *net::ip_address::parse("2001:db8:77:1::2"); }
  static net::ip_address peer_ip6() { return *net::ip_address::parse("2001:db8:77::2"); }

  bool running() { return proc_.alive(); }
  /// Stops miniupnpd (SIGTERM); its rules stay until restart().
  void stop() { proc_.stop(); }
  /// A router reboot: stops miniupnpd, empties its chains, removes its lease
  /// file (a rebooted router has no mappings) and starts it again, with a
  /// new epoch. False and `why` if it does not come up.
  bool restart(std::string& why);
  /// The mappings in the router's nftables chain, or why they could not be
  /// read.
  net::result<std::vector<router_mapping>> mappings() const;
  /// The IPv6 pinholes in the router's nftables chain.
  net::result<std::vector<router_pinhole>> pinholes() const;
  /// The miniupnpd log so far.
  std::string log() const;

private:
  miniupnpd_lab() = default;
  bool build(std::string& why);
  bool launch(std::string& why);

  miniupnpd_options opts_;
  temp_dir dir_{"p2pd-miniupnpd-"};
  child_process proc_;
  std::string router_;
  std::string client_;
  std::string peer_;
  bool built_ = false;
};

/// Runs `cmd` with /bin/sh and returns its stdout and stderr; `ok` is false
/// when it exits other than 0.
std::string sh_output(const std::string& cmd, bool& ok);

/// Moves the calling thread into a named network namespace (ip netns) and
/// back to where it was when the guard goes. Threads the thread starts
/// meanwhile (an actor system's) stay in that namespace for good.
class netns_guard {
public:
  explicit netns_guard(const std::string& name);
  ~netns_guard();
  netns_guard(const netns_guard&) = delete;
  netns_guard& operator=(const netns_guard&) = delete;

  /// "" when the thread is in the namespace, else why not.
  const std::string& error() const { return error_; }

private:
  int home_ = -1;
  std::string error_;
};

} // namespace p2pd::test

/// Declares `var`, a started miniupnpd_lab with `opts`; skips the test when
/// it cannot run here (not root, miniupnpd missing), fails it when miniupnpd
/// is there but does not come up.
#define P2PD_MINIUPNPD_LAB(var, opts)                                                              \
  std::string var##_why;                                                                           \
  auto var = ::p2pd::test::miniupnpd_lab::start(var##_why, opts);                                  \
  if (!var && (::p2pd::test::not_installed(var##_why) || var##_why.rfind("needs root", 0) == 0))   \
    GTEST_SKIP() << var##_why;                                                                     \
  ASSERT_TRUE(var) << var##_why
