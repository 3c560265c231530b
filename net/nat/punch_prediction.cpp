#include "p2pd/net/nat/punch_prediction.hpp"

#include <cmath>

#include "p2pd/net/util/splitmix64.hpp"

namespace p2pd::net {

namespace {

bool no_nat(nat_type x) {
  return x == nat_type::open_internet || x == nat_type::udp_firewall;
}

// One mapping for every destination (RFC 4787 endpoint-independent). An
// unknown NAT is taken as the original's default, port-restricted.
bool cone(nat_type x) {
  return x == nat_type::full_cone || x == nat_type::restricted
         || x == nat_type::port_restricted || x == nat_type::unknown;
}

// Only the exact address and port we sent to may answer. A restricted cone
// checks the address only: once it sent to our address, any of our ports
// gets in, so it needs no prediction of ours.
bool filters_by_port(nat_type x) {
  return x == nat_type::port_restricted || x == nat_type::udp_firewall
         || x == nat_type::symmetric || x == nat_type::unknown;
}

// Sequential allocators are predictable from the last mapping they made.
bool sequential(delta_type d) {
  return d == delta_type::preserving || d == delta_type::independent
         || d == delta_type::dependent;
}

const char* side(bool ours) {
  return ours ? "our NAT" : "the peer's NAT";
}

std::string describe(const nat_profile& p) {
  return std::string{to_string(p.nat)} + " with " + to_string(p.delta.type) + " allocation";
}

// A seeded sequence both for ports that may be anything and for a spray's
// probes; no secrecy needed (the peer learns them anyway).
struct port_rng {
  splitmix64 gen;
  uint16_t port(uint16_t floor) {
    return static_cast<uint16_t>(floor + gen.next() % (65536u - floor));
  }
};

// p + d, wrapped into [floor, 65535] as allocators wrap.
uint16_t port_step(uint16_t p, long d, uint16_t floor) {
  long span = 65536L - floor;
  long v = (static_cast<long>(p) - floor + d) % span;
  if (v < 0)
    v += span;
  return static_cast<uint16_t>(floor + v);
}

} // namespace

const char* to_string(punch_kind x) {
  switch (x) {
    case punch_kind::simultaneous: return "simultaneous";
    case punch_kind::spray: return "spray";
    case punch_kind::impossible: return "impossible";
  }
  return "unknown";
}

bool predictable_ports(const nat_profile& p) {
  if (no_nat(p.nat) || p.delta.type == delta_type::equal)
    return true;
  if (p.nat == nat_type::blocked)
    return false;
  // A cone reuses a mapping it holds for any destination.
  if (cone(p.nat) && p.held)
    return true;
  return sequential(p.delta.type) && p.held.has_value();
}

bool predictable_once_held(const nat_profile& p) {
  if (predictable_ports(p))
    return true;
  // A known cone or a measured sequential allocator was seen through a STUN
  // server, which the side asks again from its punch port before the punch.
  if (p.nat == nat_type::blocked || p.nat == nat_type::unknown)
    return false;
  return cone(p.nat) || sequential(p.delta.type);
}

nat_profile for_protocol(nat_profile p, protocol proto) {
  if (proto == protocol::tcp && p.nat == nat_type::blocked) {
    p.nat = nat_type::port_restricted;
    p.delta = delta_result{delta_type::unknown, 0};
  }
  return p;
}

punch_verdict punch_feasibility(const nat_profile& us_in, const nat_profile& peer_in, protocol proto,
                                const punch_limits& limits) {
  auto us = for_protocol(us_in, proto);
  auto peer = for_protocol(peer_in, proto);
  punch_verdict out;
  if (proto == protocol::udp)
    for (bool ours : {true, false})
      if ((ours ? us : peer).nat == nat_type::blocked) {
        out.reason = std::string{side(ours)} + " blocks UDP";
        return out;
      }
  bool us_known = predictable_once_held(us);
  bool peer_known = predictable_once_held(peer);
  if (us_known && peer_known) {
    out.kind = punch_kind::simultaneous;
    out.reason = "both sides' ports are predictable";
    return out;
  }
  if (!us_known && !peer_known) {
    out.reason = "neither side's ports can be predicted (" + describe(us) + ", "
                 + describe(peer) + "): a relay is needed";
    return out;
  }
  // One side (u) cannot be predicted; the other (o) can.
  bool u_is_us = !us_known;
  const auto& o = u_is_us ? peer : us;
  if (!filters_by_port(o.nat)) {
    out.kind = punch_kind::simultaneous;
    out.reason = std::string{side(!u_is_us)} + " (" + to_string(o.nat)
                 + ") lets in any port of an address it sent to, so "
                 + side(u_is_us) + "'s unpredictable port does not matter";
    return out;
  }
  if (o.nat == nat_type::symmetric) {
    out.reason = std::string{side(u_is_us)} + " (" + describe(u_is_us ? us : peer)
                 + ") cannot be predicted and " + side(!u_is_us)
                 + " is symmetric too: every probe would be a new mapping; a relay is needed";
    return out;
  }
  if (proto == protocol::tcp) {
    out.reason = std::string{side(u_is_us)} + " (" + describe(u_is_us ? us : peer)
                 + ") cannot be predicted and " + side(!u_is_us) + " ("
                 + to_string(o.nat)
                 + ") admits only the port it sent to; over TCP a port search would "
                   "take hundreds of connections: a relay is needed";
    return out;
  }
  out.kind = punch_kind::spray;
  auto span = 65536.0 - limits.port_floor;
  out.odds = 1.0 - std::exp(-static_cast<double>(limits.spray_sockets)
                            * static_cast<double>(limits.spray_probes) / span);
  out.reason = std::string{side(u_is_us)} + "'s ports cannot be predicted and "
               + side(!u_is_us) + " admits only ports it sent to: a port search of "
               + std::to_string(limits.spray_sockets) + " mappings by "
               + std::to_string(limits.spray_probes) + " probes";
  return out;
}

punch_side predict_own(const nat_profile& us, const punch_verdict& verdict,
                       const punch_limits& limits, uint64_t seed) {
  punch_side out;
  if (verdict.kind == punch_kind::impossible)
    return out;
  port_rng rng{splitmix64{seed}};
  auto floor = limits.port_floor;
  bool known = predictable_ports(us);
  if (verdict.kind == punch_kind::spray && !known) {
    // Each socket, bound anywhere, gets a mapping of its own toward the
    // peer's one port: the mappings are what the peer's probes look for.
    out.local.assign(limits.spray_sockets, 0);
    return out;
  }
  if (verdict.kind == punch_kind::spray)
    out.probes = limits.spray_probes;
  if (no_nat(us.nat) || us.delta.type == delta_type::equal) {
    auto p = us.held ? us.held->local : rng.port(floor);
    out.local = {p};
    out.external = {p};
    return out;
  }
  if (cone(us.nat) && us.held) {
    // Bound again (SO_REUSEPORT) beside the socket that holds it, the port
    // keeps its mapping, whatever the destination.
    out.local = {us.held->local};
    out.external = {us.held->mapped};
    return out;
  }
  if (us.held && sequential(us.delta.type)) {
    const auto& h = *us.held;
    switch (us.delta.type) {
      case delta_type::preserving: {
        // The distance between local ports is kept between mapped ports.
        auto p = rng.port(floor);
        out.local = {p};
        out.external = {port_step(h.mapped, static_cast<long>(p) - h.local, floor)};
        return out;
      }
      case delta_type::dependent:
        // The next local port gets the last mapping plus the step; others
        // behind the NAT may take the next few, hence a window.
        out.local = {port_step(h.local, 1, floor)};
        break;
      default: // independent: any local port gets the next one
        out.local = {0};
        break;
    }
    for (size_t k = 1; k <= limits.window; ++k)
      out.external.push_back(port_step(h.mapped, us.delta.value * static_cast<long>(k), floor));
    return out;
  }
  // Unpredictable, but the peer does not filter by port: it only needs our
  // address, and the port we last saw is as good a target as any.
  auto p = us.held ? us.held->local : rng.port(floor);
  out.local = {p};
  out.external = {us.held ? us.held->mapped : p};
  return out;
}

} // namespace p2pd::net
