#pragma once

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"

#include "p2pd/actors/interface/interface_spec.hpp"
#include "p2pd/messages/interface.hpp"
#include "p2pd/net/iface/interfaces.hpp"

namespace p2pd::actors {

// The parts of an interface refresh. read_nic() is local and fast (the
// stack's interface table); the two STUN tasks wait on the network, so the
// interface actor runs each as a blocking job of its own (run_blocking), all
// at once. Everything goes through spec.stack: no socket or netlink dump of
// their own.

/// The NIC's name, addresses and routes of both families; ext_ips empty and
/// one unknown nat_summary per family that has a route.
interface_snapshot read_nic(const net::interface_info& nic);

/// The route with the external addresses `spec.stun_servers` of its family
/// agree on. Errors say why there are none (too few servers, no agreement).
caf::expected<net::route> learn_external(caf::actor_system& sys, const net::route& r,
                                         const interface_spec& spec);

/// Probes the NAT in front of `local` (a NIC address) with the RFC 5780
/// servers of its family in `spec.nat_servers`: the first, and the second
/// only when the first could not tell (it may be down, or unable to run every
/// test); see probe_nat_any(). Never fails: what went wrong is in the
/// summary's notes, its type then unknown (never "blocked" when no server
/// answered at all: that proves nothing about the network).
nat_summary probe_family(caf::actor_system& sys, const net::ip_address& local,
                         const interface_spec& spec);

/// The NIC named `name` (empty: the default route's), as `stack` lists it
/// now. Errors: no such interface, the table cannot be read.
caf::expected<net::interface_info> find_nic(const net_stack& stack, const std::string& name);

} // namespace p2pd::actors
