#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/stun/stun_timing.hpp"
#include "p2pd/messages/interface.hpp"
#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/util/server_list.hpp"

namespace p2pd {

/// What an interface actor watches and how it learns the rest.
struct interface_spec {
  /// The NIC's name; empty: the interface of the IPv4 default route, else of
  /// the IPv6 one, else the first interface that is up and has an address
  /// (loopback last), so that an offline host still gets one.
  std::string name;
  /// STUN servers for external addresses, of either family; a route asks all
  /// of its family at once. Empty: no external addresses (offline).
  std::vector<endpoint> stun_servers;
  /// RFC 5780 servers (two addresses, two ports) for NAT classification; the
  /// first of a family is used, the next one only when the first gave no
  /// answer at all. Empty: NAT type unknown.
  std::vector<endpoint> nat_servers;
  /// Servers of a server file (stun and nat entries; mqtt ones are ignored)
  /// that the actor resolves itself at the start of every refresh: by its
  /// stack's resolver (net_stack::resolver()), all names at once, within
  /// dns_timeout. Their addresses
  /// join stun_servers and nat_servers for that refresh; those that do not
  /// resolve are named in the snapshot (interface_snapshot::unresolved).
  std::vector<net::server_entry> servers;
  /// Time allowed to resolve `servers`.
  caf::timespan dns_timeout = timeouts::interface_dns;
  /// How many servers must name the same external address.
  size_t min_agree = 2;
  /// STUN timing of the probes (actors/stun/stun_timing.hpp says why).
  stun_timing timing = interface_stun_timing();
  /// Mappings the port delta test makes from random local ports; 0 skips
  /// the test.
  size_t delta_samples = 8;
  /// Then mappings from consecutive local ports (nat_probe_spec says why).
  size_t consecutive_samples = 6;
  /// How often the actor refreshes by itself; 0 only on request.
  caf::timespan refresh_interval = timeouts::interface_refresh;
  /// NATs given, at most one per family (check() refuses two; the
  /// original's Interface(nat=...)):
  /// the actor reports each as it is, with a note that it was given, and
  /// probes no NAT of that family; nat_servers serve the other family only.
  /// For a program that knows its network, and for tests and simulations.
  /// External addresses are still asked of stun_servers.
  std::vector<nat_summary> nats;
  /// The network the actor watches (null: os_stack()): it lists the
  /// interfaces, resolves the servers' names, and every socket of the STUN
  /// probes is a pipe of it. A node
  /// passes its own (node_spec::stack, in place of the one in
  /// node_spec::iface); a simulation passes a host's.
  stack_ptr stack = os_stack();

  /// The given NAT of `fam`, if any.
  const nat_summary* given_nat(net::family fam) const;
  /// What makes the spec unusable, or none: two NATs given for one family
  /// (errc::invalid_argument). spawn_interface() and load_interface() check.
  caf::error check() const;
};

/// Adds the stun and nat servers of a server list (net/server_list.hpp) to
/// `spec.servers`, for the actor to resolve (it does not block here).
void add_servers(interface_spec& spec, const std::vector<net::server_entry>& list);

} // namespace p2pd
