#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/atoms.hpp"
#include "p2pd/messages/inspect_net.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"
#include "p2pd/net/iface/route.hpp"

namespace p2pd {

using route_atom = caf::atom_constant<caf::atom("p2route")>;
using ready_atom = caf::atom_constant<caf::atom("p2ready")>;
using nat_atom = caf::atom_constant<caf::atom("p2nat")>;

/// The NAT in front of one family of an interface, as its last probe saw it.
struct nat_summary {
  net::family fam = net::family::v4;
  net::nat_type nat = net::nat_type::unknown;
  net::delta_type delta = net::delta_type::unknown;
  /// The step of an independent or dependent delta; 0 otherwise.
  int delta_value = 0;
  /// The lowest and highest mapped port the delta samples saw; both 0 when
  /// no sample came back.
  uint16_t port_first = 0;
  uint16_t port_last = 0;
  /// The STUN server the probe used; port 0 when none was configured.
  endpoint server;
  /// Why the type is unknown or a test was skipped; empty when all ran.
  std::vector<std::string> notes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, nat_summary& x) {
  return f(caf::meta::type_name("p2pd::nat_summary"), x.fam, x.nat, x.delta, x.delta_value,
           x.port_first, x.port_last, x.server, x.notes);
}

/// What an interface actor knows about its NIC: the original's Interface
/// object, addresses and NAT included.
struct interface_snapshot {
  std::string name;
  uint32_t index = 0;
  std::string mac;
  uint32_t mtu = 0;
  /// Routes of both families, in routes_for() order; ext_ips filled where
  /// the STUN servers agreed on an external address.
  std::vector<net::route> routes;
  /// One entry per family that has a route.
  std::vector<nat_summary> nats;
  /// Refreshes completed; 0 until the first one ends.
  uint64_t refreshes = 0;
  /// Why something is missing: no servers of a family, servers that did not
  /// agree, a failed probe.
  std::vector<std::string> notes;
  /// Configured servers whose names did not resolve in this refresh, with
  /// why ("line 3: stun stun.example.org:3478: ... no answer within 2000 ms").
  std::vector<std::string> unresolved;
  /// Milliseconds this refresh spent resolving server names (0: none to resolve).
  int64_t resolve_ms = 0;

  /// The first route of `fam`, if any.
  const net::route* route(net::family fam) const;
  /// The NAT of `fam`; nat_type::unknown when none was probed.
  nat_summary nat(net::family fam) const;
  /// A multi-line description for logs and examples.
  std::string to_string() const;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, interface_snapshot& x) {
  return f(caf::meta::type_name("p2pd::interface_snapshot"), x.name, x.index, x.mac, x.mtu,
           x.routes, x.nats, x.refreshes, x.notes, x.unresolved, x.resolve_ms);
}

/// The typed interface of an interface actor (the original's Interface).
///
/// - get: what it knows now, at once (before the first refresh ends: the
///   NIC's addresses and routes, NAT unknown).
/// - ready: the snapshot once the first refresh has ended (at once after it).
/// - refresh: re-reads the NIC from the kernel, asks the STUN servers for
///   each route's external address and probes the NAT of each family; answers
///   with the new snapshot when done. A refresh asked for while one runs
///   joins it. Errors: the interface is gone (errc::interface_not_found).
/// - route (family): the first route of the family with what is known of its
///   external address; errc::invalid_argument when the NIC has none.
/// - nat (nat_summary): gives the NAT of nat_summary::fam (the original's
///   set_nat), as interface_spec::nats does at the start: it is in the
///   snapshot at once (without the note that NATs are unknown once no
///   family is left to probe), subscribers get the new snapshot, and no
///   refresh probes that family's NAT again.
/// - subscribe (actor) / unsubscribe (actor): the actor is sent every new
///   interface_snapshot when a refresh ends, periodic ones included (to see
///   an external address or NAT change).
using interface_actor = caf::typed_actor<
  caf::replies_to<caf::get_atom>::with<interface_snapshot>,
  caf::replies_to<ready_atom>::with<interface_snapshot>,
  caf::replies_to<refresh_atom>::with<interface_snapshot>,
  caf::replies_to<route_atom, net::family>::with<net::route>,
  caf::replies_to<nat_atom, nat_summary>::with<caf::ok_atom>,
  caf::replies_to<caf::subscribe_atom, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<caf::unsubscribe_atom, caf::actor>::with<caf::ok_atom>>;

} // namespace p2pd
