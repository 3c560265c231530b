#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/node/address/peer_address.hpp"

// Which connection attempts a connect makes, from both nodes' addresses: a
// pure function, so that the order and the paths can be tested without a
// network (and the simulation sees the same plan).

namespace p2pd::node {

/// How a connection is made.
enum class strategy : uint8_t {
  direct = 1,  ///< we connect to one of the peer's addresses
  reverse = 2, ///< we ask the peer (over signalling) to connect to us
  punch = 3,   ///< both sides open at once toward predicted mappings
  relay = 4,   ///< through a TURN server
};

const char* to_string(strategy s);

/// Which way the bytes go.
enum class path_kind : uint8_t {
  same_host,  ///< both nodes share a NIC address: one machine
  lan,        ///< the peer's NIC address: behind the same router
  link_local, ///< IPv6 fe80::/10 on a shared link
  external,   ///< the peer's external (or global) address
  signalling, ///< reverse: the peer chooses the path back to us
  relayed,    ///< through a TURN server's relayed addresses
  /// The port mapping the peer holds at its gateway (PCP, NAT-PMP, UPnP):
  /// tried before the external path (its router forwards it).
  mapped,
};

const char* to_string(path_kind p);

/// One attempt of a plan.
struct attempt {
  strategy how = strategy::direct;
  net::family fam = net::family::v4;
  path_kind path = path_kind::external;
  uint8_t local_interface = 0;  ///< ours (direct: the route we connect from)
  uint8_t remote_interface = 0; ///< the peer's
  /// direct: where we connect (a link-local one with our interface's scope
  /// id); reverse: unset.
  net::endpoint target;
  /// direct: the address we bind to (our NIC address on that route), so the
  /// connection leaves by the interface the plan chose; unset: any.
  net::ip_address bind;

  /// "direct IPv4 lan if0->if1 192.168.1.20:40123"
  std::string to_string() const;
};

/// What the connection carries.
enum class transport : uint8_t {
  /// A TLS stream of length-prefixed messages (direct, reverse, TCP punch).
  stream = 1,
  /// Sealed datagrams (UDP punch): messages up to a datagram each, which
  /// may be lost or reordered, never forged or replayed.
  datagram = 2,
};

const char* to_string(transport t);

/// What a connect may try.
struct connect_options {
  /// In order of preference; the plan keeps this order.
  std::vector<strategy> strategies = {strategy::direct, strategy::reverse};
  /// Families in order of preference.
  std::vector<net::family> families = {net::family::v4, net::family::v6};
  /// Attempts per strategy at most (the original: direct 6, reverse 6).
  size_t max_per_strategy = 6;
  /// What the connection carries.
  transport kind = transport::stream;
};

/// Our side as the plan needs it: our address and, per interface number,
/// the scope id of its link-local addresses (0 where unknown: no link-local
/// attempt from that interface).
struct local_view {
  peer_address self;
  std::vector<uint32_t> scope_of_interface;
  /// The families we have a TURN server of (node_spec::turn): relay
  /// attempts are planned in these only.
  std::vector<net::family> relay_families;
};

/// The attempts toward `peer`, best first: per strategy in the options'
/// order; within direct, per family, the cheapest path first (same host,
/// LAN, link-local, the peer's port mapping, then external), one attempt per
/// distinct target.
///
/// Paths: the peer's NIC address when both nodes have that address (same
/// host, unless their external addresses differ), when it is on our route's
/// link (inside our NIC address's prefix), or when both are behind the same
/// external address with private addresses of one kind (a LAN whose
/// prefixes we do not know); IPv6 link-local when both interfaces have one;
/// the peer's mapped endpoint (TCP) when its route has a port mapping; the
/// peer's external address (IPv6: its global address) otherwise. A
/// reverse attempt is one request, in the first family of the options that
/// we have a route for (and the peer too, when it lists routes): the peer
/// then tries every route of our address. A relay attempt is one per family
/// we have a TURN server of and the peer has a route of, and needs
/// signalling: both sides allocate on our server (UDP allocations for a
/// datagram connect, which punch between the relayed addresses; TCP ones
/// for a stream, which the server joins).
/// A punch attempt is one per family
/// (our first route of it with the peer's first one), needs signalling to
/// the peer, and aims at the peer's public address; a datagram connect
/// first plans one more, path mapped, aimed at the peer's mapped UDP
/// endpoint when its route has a UDP port mapping (not from behind the same
/// router): the peer answers from the node port the mapping points at,
/// which needs no prediction on either side (it runs alone, before the
/// predicted punch: two punches with one peer could both complete on the
/// peer's side, whose second link would replace the first). Datagram
/// connects plan
/// punch and relay attempts only: their keys are agreed over signalling, so
/// even a peer on the open Internet is reached by the punch exchange (its
/// targets then need no prediction).
std::vector<attempt> plan_connect(const local_view& me, const peer_address& peer,
                                  const connect_options& opts);

} // namespace p2pd::node
