#pragma once

// The port mapper: asks the gateway for inbound mappings with PCP (RFC
// 6887 MAP), NAT-PMP (RFC 6886) or UPnP IGD (miniupnpc), and for IPv6
// pinholes (UPnP IGDv2 WANIPv6FirewallControl), keeps them alive and
// deletes them. See "Port mapping" in docs/design-notes.md.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/expected.hpp"
#include "caf/replies_to.hpp"
#include "caf/timespan.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/messages/atoms.hpp"
#include "p2pd/messages/inspect_net.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

/// upnp_pinhole is no method to map with: it is what `pinhole` requests
/// use by UPnP (by PCP a pinhole is a pcp mapping).
enum class portmap_method : uint8_t { pcp, natpmp, upnp, upnp_pinhole };

/// "PCP", "NAT-PMP", "UPnP", "UPnP pinhole".
const char* to_string(portmap_method x);

/// A mapping the gateway holds for us, or an IPv6 pinhole (method
/// upnp_pinhole: `external` is `internal`, nothing is translated).
struct port_mapping {
  /// The mapper's handle for unmap.
  uint64_t id = 0;
  portmap_method method = portmap_method::pcp;
  net::protocol proto = net::protocol::udp;
  endpoint internal;
  /// Where peers outside reach `internal`.
  endpoint external;
  /// Seconds granted by the gateway (UPnP and pinholes: the lease asked,
  /// which the IGD took).
  uint32_t lifetime_s = 0;
  net::ip_address gateway;
};

/// How a mapping changed, told to subscribers.
enum class portmap_change : uint8_t {
  refreshed, ///< renewed, same external endpoint
  moved,     ///< renewed with another external endpoint
  restored,  ///< the gateway had lost it (restarted) and mapped it again
  lost,      ///< a renewal failed; the mapper keeps trying every half lifetime
};

const char* to_string(portmap_change x);

struct portmap_event {
  portmap_change change = portmap_change::refreshed;
  port_mapping mapping;
  std::string reason;
};

/// Waits, with the reason for each preset.
struct portmap_timing {
  /// PCP/NAT-PMP requests are sent at 0, rto, 3 rto ... (the wait doubles,
  /// RFC 6887 §8.1.1 and RFC 6886 §3.1 start at 250 ms and 3 s) up to
  /// max_sends times; the last wait is rto x last_wait_factor.
  caf::timespan rto = std::chrono::milliseconds(250);
  uint32_t max_sends = 4;
  uint32_t last_wait_factor = 4;
  /// How long UPnP discovery waits for SSDP answers.
  caf::timespan upnp_discover = std::chrono::seconds(2);
  /// Bound of one UPnP job (discovery plus SOAP calls).
  caf::timespan upnp_deadline = std::chrono::seconds(10);
};

/// For a gateway on the LAN (the lab): requests at 0, 100 and 300 ms, then a
/// last wait of 200 ms (500 ms for an unanswered method), UPnP discovery
/// 500 ms: a gateway that offers nothing is known within about a second.
constexpr portmap_timing lab_portmap_timing() {
  portmap_timing t;
  t.rto = std::chrono::milliseconds(100);
  t.max_sends = 3;
  t.last_wait_factor = 2;
  t.upnp_discover = std::chrono::milliseconds(500);
  t.upnp_deadline = std::chrono::seconds(5);
  return t;
}

struct port_mapper_spec {
  /// The PCP/NAT-PMP pipe is opened through it. Default: os_stack().
  stack_ptr stack;
  /// The gateway: PCP and NAT-PMP go to its port 5351; UPnP takes only an
  /// IGD whose description is on it (unspecified: any IGD found).
  net::ip_address gateway;
  /// Our address toward the gateway: the PCP pipe binds it (PCP checks the
  /// source address against the one in the request), and it is the
  /// internal address of mappings asked for without one.
  net::ip_address local_ip;
  /// Tried in this order; NAT-PMP is skipped after a PCP request that got
  /// no answer at all (a NAT-PMP gateway answers PCP with its version).
  std::vector<portmap_method> methods{portmap_method::pcp, portmap_method::natpmp,
                                      portmap_method::upnp};
  portmap_timing timing;
};

/// Answers about malformed and stray datagrams.
struct port_mapper_stats {
  uint64_t malformed = 0; ///< refused by the codecs (counted, never a crash)
  uint64_t stray = 0;     ///< not from the gateway's port 5351, or for no request
  uint64_t restarts = 0;  ///< gateway restarts noticed by the epoch rules
};

using portmap_atom = caf::atom_constant<caf::atom("p2pmap")>;
using unmap_atom = caf::atom_constant<caf::atom("p2punmap")>;
using pinhole_atom = caf::atom_constant<caf::atom("p2ppinh")>;
using pm_dgram_atom = caf::atom_constant<caf::atom("p2pmdgr")>;
using pm_timer_atom = caf::atom_constant<caf::atom("p2pmtim")>;

/// map (protocol, internal endpoint, lifetime in s): the mapping, or
/// errc::recv_timeout (no method answered), errc::server_refused (the
/// gateway refused: its result code), errc::invalid_argument.
/// pinhole (protocol, internal IPv6 endpoint, lease in s, 1 to 86400): an
/// inbound hole in the router's IPv6 firewall, of those among the methods:
/// by UPnP IGDv2 WANIPv6FirewallControl (method upnp_pinhole, renewed by
/// UpdatePinhole at half the lease), else by PCP MAP (for local_ip only:
/// method pcp, renewed like a mapping); NAT-PMP has no IPv6. The last
/// way's error, naming every way's: errc::recv_timeout (nothing answered),
/// errc::family_unsupported (the IGD offers no IPv6 firewall control),
/// errc::server_refused (firewall disabled, inbound pinholes not allowed,
/// the request refused: the UPnP code), errc::invalid_argument. Its id is
/// unmapped like a mapping's.
/// unmap (id): deleted at the gateway. subscribe: portmap_events to that
/// actor. close: every mapping deleted, then the mapper ends. The last two
/// messages are the mapper's own (datagrams from its pipe, timers).
using port_mapper_actor = caf::typed_actor<
  caf::replies_to<portmap_atom, net::protocol, endpoint, uint32_t>::with<port_mapping>,
  caf::replies_to<pinhole_atom, net::protocol, endpoint, uint32_t>::with<port_mapping>,
  caf::replies_to<unmap_atom, uint64_t>::with<caf::ok_atom>,
  caf::replies_to<caf::subscribe_atom, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<stats_atom>::with<port_mapper_stats>,
  caf::replies_to<caf::close_atom>::with<caf::ok_atom>,
  caf::reacts_to<pm_dgram_atom, bytes, endpoint>,
  caf::reacts_to<pm_timer_atom, uint64_t, uint64_t>>;

/// Spawns the mapper; errc::invalid_argument for a spec without a gateway
/// or without methods, or with upnp_pinhole among them. Its mappings are deleted when it ends.
caf::expected<port_mapper_actor> spawn_port_mapper(caf::actor_system& sys, port_mapper_spec spec);

/// How long a map or pinhole request may take with `t` (every method
/// unanswered; a pinhole's discovery over IPv6, then IPv4).
caf::timespan portmap_deadline(const portmap_timing& t);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, port_mapping& x) {
  return f(caf::meta::type_name("p2pd::port_mapping"), x.id, x.method, x.proto, x.internal,
           x.external, x.lifetime_s, x.gateway);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, portmap_event& x) {
  return f(caf::meta::type_name("p2pd::portmap_event"), x.change, x.mapping, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, port_mapper_stats& x) {
  return f(caf::meta::type_name("p2pd::port_mapper_stats"), x.malformed, x.stray, x.restarts);
}

} // namespace p2pd
