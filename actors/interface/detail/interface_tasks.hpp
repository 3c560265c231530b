#pragma once

#include <optional>

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"

#include "p2pd/actors/stun/external_address.hpp"
#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/actors/interface/interface_spec.hpp"
#include "p2pd/messages/interface.hpp"
#include "p2pd/net/iface/interfaces.hpp"

namespace p2pd::actors {

// The parts of an interface refresh. read_nic() is local and fast (the
// stack's interface table); the two STUN tasks wait on the network, all at
// once, each as a prober actor (no thread): the external addresses of every
// route (spawn_external_prober()) and the NAT of every family
// (spawn_nat_prober()). Everything goes through spec.stack: no socket or
// netlink dump of their own.

/// The NIC's name, addresses and routes of both families; ext_ips empty and
/// one unknown nat_summary per family that has a route.
interface_snapshot read_nic(const net::interface_info& nic);

/// The spec of an external-address prober (spawn_external_prober()) of `r`:
/// the servers of `spec.stun_servers` of its family, and the spec's
/// agreement, timing and stack.
external_spec external_for(const net::route& r, const interface_spec& spec);

/// The servers and spec of a NAT probe (spawn_nat_prober()) in front of
/// `local` (a NIC address): the RFC 5780 servers of its family in
/// `spec.nat_servers`, the first and the second only when the first could not
/// tell (it may be down, or unable to run every test). None, with a note in
/// `out`, when there is no server of that family.
struct nat_probe_args {
  std::vector<endpoint> servers;
  nat_probe_spec spec;
};
std::optional<nat_probe_args> nat_probe_for(const net::ip_address& local,
                                            const interface_spec& spec, nat_summary& out);

/// Writes what the probe gave into `out`. Never fails: what went wrong is in
/// the summary's notes, its type then unknown (never "blocked" when no server
/// answered at all: that proves nothing about the network).
void summarize_probe(const caf::expected<nat_report>& rep, nat_summary& out);

/// The NIC named `name` (empty: the default route's), as `stack` lists it
/// now. Errors: no such interface, the table cannot be read.
caf::expected<net::interface_info> find_nic(const net_stack& stack, const std::string& name);

} // namespace p2pd::actors
