#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::net {

// NAT prediction for hole punching: from what each side knows of its own
// NAT (type, port allocation, a mapping it holds open), which local port it
// binds and which external ports the peer should aim at; and from both
// sides' NATs, whether a punch can work at all, and how. Pure and
// deterministic (the caller passes a seed): both nodes compute the same
// verdict from the same two profiles, so neither waits for the other's.

/// A mapping a side observed (a STUN answer) and still holds open.
struct held_mapping {
  uint16_t local = 0;   ///< the local port the request went from
  uint16_t mapped = 0;  ///< the external port the NAT gave it
};

/// What one side knows of its NAT for one family.
struct nat_profile {
  nat_type nat = nat_type::unknown;
  delta_result delta;
  /// The last mapping seen: cones reuse it (their mapping does not depend on
  /// the destination), sequential allocators count from it.
  std::optional<held_mapping> held;
};

/// How a pair can be punched.
enum class punch_kind : uint8_t {
  /// Both sides aim at each other's predicted ports at once (simultaneous
  /// open for TCP, crossing probes for UDP).
  simultaneous,
  /// One side's ports cannot be predicted and the other filters by port: the
  /// unpredictable side opens many mappings and the other probes many
  /// ports, a birthday search with bounded sockets and packets (UDP only).
  spray,
  /// Cannot work (both allocations random, UDP blocked, ...): the reason
  /// says why; a relay is the way.
  impossible,
};

const char* to_string(punch_kind x);

/// Bounds of a punch.
struct punch_limits {
  /// Predicted ports to aim at around a sequential allocator's next port
  /// (other flows behind the same NAT take ports in between).
  size_t window = 8;
  /// A spray: mappings the unpredictable side opens (sockets) and ports the
  /// other side probes. 256 x 256 of 64k ports finds a pair with odds of
  /// about 63%, in 512 sockets and packets at most.
  size_t spray_sockets = 256;
  size_t spray_probes = 256;
  /// Ports below this are never predicted or probed.
  uint16_t port_floor = 1024;
};

/// One side's part of a punch.
struct punch_side {
  /// Local ports to bind, in order (one, except the sockets of a spray);
  /// 0: any free port.
  std::vector<uint16_t> local;
  /// The external ports the peer should aim at, most likely first; empty:
  /// unpredictable (the peer relies on its own NAT's leniency or a spray).
  std::vector<uint16_t> external;
  /// Probes to random ports of the peer (a spray's probing side), else 0.
  size_t probes = 0;
};

/// Whether and how two profiles can be punched.
struct punch_verdict {
  punch_kind kind = punch_kind::impossible;
  /// Why (for impossible), or how it is meant to work: goes in the connect
  /// report at once, so that nothing waits for a timeout to say it.
  std::string reason;
  /// For a spray: the chance that one of the probes meets a mapping.
  double odds = 1.0;
};

/// The profile as it stands for a punch over `proto`: over TCP a NAT that
/// blocks UDP says nothing of its TCP mappings, so it is taken as the
/// default port-restricted cone, predicted from the TCP mapping the side
/// holds (a STUN request over TCP from its punch port).
nat_profile for_protocol(nat_profile p, protocol proto);

/// How `us` and `peer` can punch over `proto` (each for_protocol()), each side predictable once
/// held (predictable_once_held()). Symmetric in its arguments:
/// punch_feasibility(a, b) and (b, a) give the same kind.
punch_verdict punch_feasibility(const nat_profile& us, const nat_profile& peer, protocol proto,
                                const punch_limits& limits = {});

/// Whether our external ports can be predicted from `p` as it is.
bool predictable_ports(const nat_profile& p);

/// Whether they can once the side holds a mapping: also a known cone and a
/// sequential allocator without one yet. Their type and delta were measured
/// through a STUN server, which the side asks again from its punch port
/// before it offers or answers (the node does). punch_feasibility() judges
/// by this, since the profiles both sides have of each other (from their
/// addresses) hold no mapping.
bool predictable_once_held(const nat_profile& p);

/// Our part of a punch: the local port(s) to bind and the external ports we
/// expect them to get. `verdict` is punch_feasibility()'s;
/// `seed` picks ports where any will do (the stack's rng seed).
punch_side predict_own(const nat_profile& us, const punch_verdict& verdict,
                       const punch_limits& limits, uint64_t seed);

} // namespace p2pd::net
