#pragma once

// coturn's turnserver as a STUN server on loopback, started by the test with
// two addresses (127.0.0.1, 127.0.0.2) and two ports, so that it answers
// RFC 5780 change requests; stopped when the object goes.

#include <memory>
#include <optional>
#include <string>

#include "child_process.hpp"
#include "temp_dir.hpp"

#include "p2pd/net/addr/address.hpp"

namespace p2pd::test {

class coturn_server {
public:
  /// Starts turnserver on free ports and waits (at most 10 s) until it
  /// answers a binding request. nullopt and `why` when it is not installed
  /// (why starts with "not installed") or does not come up.
  static std::unique_ptr<coturn_server> start(std::string& why);

  /// 127.0.0.1 on the primary port.
  net::endpoint primary() const { return {ip1_, port_}; }
  /// The other address, same port: a second STUN server as far as a client
  /// can tell.
  net::endpoint other_ip() const { return {ip2_, port_}; }
  uint16_t alt_port() const { return alt_port_; }
  std::string log() const;

private:
  coturn_server() = default;

  temp_dir dir_{"p2pd-coturn-"};
  child_process proc_;
  net::ip_address ip1_;
  net::ip_address ip2_;
  uint16_t port_ = 0;
  uint16_t alt_port_ = 0;
};

} // namespace p2pd::test
