#pragma once

// The project's own STUN server as a test's server, beside coturn
// (coturn_fixture.hpp): on 127.0.0.1 and 127.0.0.2, ports of the kernel's
// choice, so that it answers RFC 5780 change requests. Stopped with the
// runtime that started it.

#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/api/blocking.hpp"

#include "values.hpp"

namespace p2pd::test {

/// The spec: two addresses, two ports each (0: the kernel picks), UDP, and
/// TCP too if `tcp`.
inline stun_server_spec loopback_stun_spec(bool tcp) {
  stun_server_spec spec;
  spec.addrs.primary_ip = ip("127.0.0.1");
  spec.addrs.primary_port = 0;
  spec.addrs.alt_ip = ip("127.0.0.2");
  spec.addrs.alt_port = 0;
  spec.tcp = tcp;
  return spec;
}

/// Starts it in `rt`.
inline caf::expected<stun_server> start_loopback_stun_server(runtime& rt, bool tcp = false) {
  return start_stun_server(rt, loopback_stun_spec(tcp));
}

} // namespace p2pd::test
