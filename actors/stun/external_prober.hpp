#pragma once

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/atom.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/stun/external_address.hpp"
#include "p2pd/net/iface/route.hpp"

namespace p2pd {

/// Asks an external-address prober for its answer.
using external_probe_atom = caf::atom_constant<caf::atom("p2extprobe")>;

/// An event-based actor that runs discover_external(sys, route, spec) without
/// blocking a thread: the same steps in the same order (for each NIC address
/// of `route` in turn, a UDP pipe bound there, then a binding request to
/// every server of the route's family at once), each a request on the actor
/// clock, so that it runs on a simulated network's virtual time as on the
/// OS. Every socket is a pipe of `spec.stack`.
///
/// The first `external_probe_atom` request starts the probe; it and any
/// request that comes while it runs get `route` with ext_ips filled, or the
/// error discover_external() documents, and the prober then ends (its pipes
/// and STUN client with it). Give the request a timeout of
/// external_probe_deadline(route, spec).
caf::actor spawn_external_prober(caf::actor_system& sys, net::route route, external_spec spec);

/// The longest a prober of `route` may take with `spec`: per NIC address an
/// open and one round of bindings at their deadlines, plus a margin.
caf::timespan external_probe_deadline(const net::route& route, const external_spec& spec);

} // namespace p2pd
