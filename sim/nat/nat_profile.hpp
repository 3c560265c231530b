#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "p2pd/net/error.hpp"
#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"

namespace p2pd::sim {

/// What a box between a LAN and the Internet does, at the level a NAT table
/// needs. `nat` and `blocked` translate; the others keep addresses.
enum class nat_mode : uint8_t {
  open,     ///< no NAT, no filter: packets pass both ways untouched
  firewall, ///< no translation, stateful filter (profile.filtering) on what comes in
  nat,      ///< translation with mappings, filtering, allocation and hairpinning
  blocked,  ///< UDP dropped both ways; TCP through the NAT the rest of the
            ///< profile describes (the lab's udp-blocked site: a port-restricted
            ///< NAT that drops UDP)
};

/// RFC 4787's three behaviours, for mapping (which destinations share a
/// mapping) and filtering (which sources may send in through one).
enum class dependence : uint8_t {
  endpoint_independent,      ///< any destination / any source
  address_dependent,         ///< per destination IP / only IPs we sent to
  address_and_port_dependent ///< per destination IP:port / only IP:ports we sent to
};

/// What an allocator does when the port it wants is held by another mapping.
enum class collision_rule : uint8_t {
  next_free,  ///< the next free port upwards, wrapping within the range
  random_free ///< a free port drawn from the NAT's seeded sequence
};

/// RFC 4787 section 6: a packet from inside to the NAT's own external address.
enum class hairpin_mode : uint8_t {
  none,            ///< dropped
  external_source, ///< delivered with the sender's external mapping as source (RFC 4787 REQ-9)
  internal_source  ///< delivered with the sender's internal address as source
};

/// Which packets restart a flow's lifetime.
enum class refresh_rule : uint8_t {
  outbound_only, ///< only packets from inside (RFC 4787 REQ-6's minimum)
  inbound_too    ///< either direction (Linux conntrack)
};

/// What an unsolicited inbound TCP SYN gets.
enum class syn_reply : uint8_t { drop, rst };

const char* to_string(nat_mode x);
const char* to_string(dependence x);
const char* to_string(collision_rule x);
const char* to_string(hairpin_mode x);
const char* to_string(refresh_rule x);
const char* to_string(syn_reply x);

/// How a NAT picks the external port of a new mapping: the project's five
/// allocators (net::delta_type equal .. random).
struct port_allocation {
  net::delta_type type = net::delta_type::equal;
  /// independent: each new mapping is the last + step; dependent: the last +
  /// step when the local port is the last one's + 1 (otherwise a random port).
  int step = 1;
  /// preserving: mapped = local + offset, so distances between local ports
  /// are kept; not 0, which would be equal.
  int offset = 1000;
  /// The ports the NAT hands out (inclusive).
  uint16_t min = 1024;
  uint16_t max = 65535;
  collision_rule collision = collision_rule::next_free;
};

/// UDP flow lifetimes, as Linux conntrack keeps them
/// (nf_conntrack_udp_timeout, nf_conntrack_udp_timeout_stream).
struct udp_lifetimes {
  std::chrono::seconds unreplied{30}; ///< until a reply came in
  std::chrono::seconds assured{120};  ///< once one did
};

/// TCP flow lifetimes: established as Linux's 5 days
/// (nf_conntrack_tcp_timeout_established); transitory for a SYN not yet
/// answered and after a FIN or RST (Linux: syn_sent, fin_wait, time_wait 120 s).
struct tcp_lifetimes {
  std::chrono::seconds established{432000};
  std::chrono::seconds transitory{120};
  /// After an RST (nf_conntrack_tcp_timeout_close).
  std::chrono::seconds closed{10};
};

/// A NAT box's behaviour on every axis the simulation models; a nat_table
/// runs it. Plain data: tests build any combination, the presets give the
/// project's 35 configurations.
struct nat_profile {
  nat_mode mode = nat_mode::nat;
  dependence mapping = dependence::endpoint_independent;
  dependence filtering = dependence::address_and_port_dependent;
  port_allocation ports;
  hairpin_mode hairpin = hairpin_mode::none;
  udp_lifetimes udp;
  tcp_lifetimes tcp;
  refresh_rule refresh = refresh_rule::inbound_too;
  syn_reply unsolicited_syn = syn_reply::drop;
  // Unsolicited UDP is always dropped: ICMP is not modelled.

  /// One of the project's 35 configurations (7 NAT types x 5 allocations),
  /// as docs/design-notes.md ("Simulation: NAT tables") maps them:
  /// open_internet = open; udp_firewall = firewall with address-and-port-
  /// dependent filtering; full_cone = EIM + EIF; restricted = EIM + ADF;
  /// port_restricted = EIM + APDF; symmetric = APDM + APDF; blocked = UDP
  /// dropped, TCP through EIM + APDF with the allocation (as the lab's
  /// udp-blocked site). Without translation (open, udp_firewall) the
  /// allocation is kept but unused. `delta.value` is the step of independent
  /// and dependent (0 there means 1). not_applicable (what the classifier
  /// says of open, udp_firewall and blocked) is accepted for those three and
  /// keeps the default allocation, equal (Linux's port-preserving
  /// masquerade). Errors: nat_type::unknown, and a delta type that is not an
  /// allocator (unknown; not_applicable for a NAT that is not blocked).
  static net::result<nat_profile> p2pd(net::nat_type nat, net::delta_result delta);
  /// The same with the step 1 for independent and dependent.
  static net::result<nat_profile> p2pd(net::nat_type nat, net::delta_type delta);

  /// An IPv6 site's firewall (RFC 6092): no translation, address-and-port-
  /// dependent filtering, unsolicited SYNs dropped, conntrack lifetimes.
  static nat_profile ipv6_firewall();
};

/// Whether the profile can run: allocator range, step and offset, lifetimes.
/// An error says which field is wrong and why.
net::error check(const nat_profile& p);

/// "nat EIM/APDF independent+1 hairpin=none", for test names and traces.
std::string describe(const nat_profile& p);

} // namespace p2pd::sim
