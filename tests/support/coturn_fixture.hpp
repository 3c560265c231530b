#pragma once

// coturn's turnserver on loopback, started by the test and stopped when the
// object goes. By default a STUN server with two addresses (127.0.0.1,
// 127.0.0.2) and two ports, so that it answers RFC 5780 change requests;
// with coturn_options::turn a TURN server with long-term credentials that
// relays to loopback peers.

#include <memory>
#include <optional>
#include <string>

#include "child_process.hpp"
#include "temp_dir.hpp"

#include "p2pd/net/addr/address.hpp"

namespace p2pd::test {

/// How the test's coturn runs.
struct coturn_options {
  /// A TURN server (long-term credentials, relaying to loopback peers)
  /// instead of --stun-only.
  bool turn = false;
  std::string user = "alice";
  std::string password = "wonderland";
  std::string realm = "p2pd.test";
  /// Also listen and relay on ::1 (RFC 6156 allocations).
  bool ipv6 = false;
  /// --user-quota: concurrent allocations per user; 0 = coturn's default.
  int user_quota = 0;
  /// --stale-nonce: seconds a nonce lives; 0 = coturn's default (none).
  int stale_nonce_s = 0;
  /// --max-allocate-lifetime in seconds; 0 = coturn's default (3600).
  int max_lifetime_s = 0;
  /// --verbose: each session's allocations, refreshes and deletions in the
  /// log (for a test that reads them, or to debug one).
  bool verbose = false;
};

class coturn_server {
public:
  /// Starts turnserver on free ports and waits (at most 10 s) until it
  /// answers a binding request. nullptr and `why` when it is not installed
  /// (why starts with "not installed") or does not come up. A port taken
  /// between the check and coturn's bind (coturn then retries it forever) is
  /// noticed in its log and the start is tried again on other ports.
  static std::unique_ptr<coturn_server> start(std::string& why, coturn_options opts = {});

  /// 127.0.0.1 on the primary port.
  net::endpoint primary() const { return {ip1_, port_}; }
  /// The other address, same port: a second STUN server as far as a client
  /// can tell.
  net::endpoint other_ip() const { return {ip2_, port_}; }
  /// ::1 on the primary port (opts.ipv6 only).
  net::endpoint primary_v6() const { return {*net::ip_address::parse("::1"), port_}; }
  uint16_t alt_port() const { return alt_port_; }
  const coturn_options& options() const { return opts_; }
  std::string log() const;

  /// Kills the server (SIGTERM) and starts it again on the same ports, with
  /// its allocations gone: a server restart. False (and `why`) if it does
  /// not answer again within 10 s.
  bool restart(std::string& why);
  /// Stops the server; primary() then answers nothing.
  void stop() { proc_.stop(); }

private:
  coturn_server() = default;
  bool pick_ports();
  bool launch(std::string& why);

  temp_dir dir_{"p2pd-coturn-"};
  child_process proc_;
  coturn_options opts_;
  net::ip_address ip1_;
  net::ip_address ip2_;
  uint16_t port_ = 0;
  uint16_t alt_port_ = 0;
};

} // namespace p2pd::test
