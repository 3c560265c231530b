#pragma once

#include <string>
#include <utility>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/stun/stun_responder.hpp"

namespace p2pd {

/// A STUN server (RFC 8489 binding, RFC 5780 / RFC 3489 change requests when
/// given an alternate IP and port), as pipes: a UDP and a TCP pipe per address
/// and port (four of each with two IPs and two ports), so that OTHER-ADDRESS
/// names a socket of the asking transport. The embedded default for
/// machines and simulations without public servers.
struct stun_server_spec {
  /// Ports 0: free ports are picked (the same port on both IPs).
  net::stun_server_addrs addrs;
  bool udp = true;
  bool tcp = true;
  std::string software = "p2pd";
  /// Options of the TCP pipes; what matters most are the limits on clients
  /// (max_clients, idle_timeout, msg_deadline) and reader_limit.
  net_conf tcp_conf;
  /// The network the server's pipes are spawned on (null: os_stack()); a
  /// simulated host's, for a STUN server in a simulated world.
  stack_ptr stack = os_stack();
};

/// A running STUN server: its pipes and the addresses they serve.
struct stun_server {
  net::stun_server_addrs addrs; ///< with the bound ports
  std::vector<pipe_info> pipes;
};

/// A STUN server's pipes, spawned but not opened: every handler can reach
/// its siblings (a change request answers from another socket) before any
/// of them serves. Whoever opens them owns them.
struct stun_server_plan {
  net::stun_server_addrs addrs; ///< the spec's
  std::vector<std::pair<pipe_actor, pipe_spec>> pipes;
};

/// Checks `spec` and spawns the server's pipes on `spec.stack`. Its ports
/// must be given: a caller that wants free ones picks them first
/// (start_stun_server() opens port probes, pipes on port 0, through the
/// stack). Errors: neither UDP nor TCP, an alternate IP of the other family,
/// a port 0 (errc::invalid_argument).
caf::expected<stun_server_plan> plan_stun_server(caf::actor_system& sys,
                                                 const stun_server_spec& spec);

} // namespace p2pd
