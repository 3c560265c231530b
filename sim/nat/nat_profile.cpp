#include "p2pd/sim/nat/nat_profile.hpp"

#include <string>

namespace p2pd::sim {

const char* to_string(nat_mode x) {
  switch (x) {
    case nat_mode::open: return "open";
    case nat_mode::firewall: return "firewall";
    case nat_mode::nat: return "nat";
    case nat_mode::blocked: return "blocked";
  }
  return "invalid";
}

const char* to_string(dependence x) {
  switch (x) {
    case dependence::endpoint_independent: return "endpoint_independent";
    case dependence::address_dependent: return "address_dependent";
    case dependence::address_and_port_dependent: return "address_and_port_dependent";
  }
  return "invalid";
}

const char* to_string(collision_rule x) {
  switch (x) {
    case collision_rule::next_free: return "next_free";
    case collision_rule::random_free: return "random_free";
  }
  return "invalid";
}

const char* to_string(hairpin_mode x) {
  switch (x) {
    case hairpin_mode::none: return "none";
    case hairpin_mode::external_source: return "external_source";
    case hairpin_mode::internal_source: return "internal_source";
  }
  return "invalid";
}

const char* to_string(refresh_rule x) {
  switch (x) {
    case refresh_rule::outbound_only: return "outbound_only";
    case refresh_rule::inbound_too: return "inbound_too";
  }
  return "invalid";
}

const char* to_string(syn_reply x) {
  switch (x) {
    case syn_reply::drop: return "drop";
    case syn_reply::rst: return "rst";
  }
  return "invalid";
}

namespace {

bool is_allocator(net::delta_type d) {
  switch (d) {
    case net::delta_type::equal:
    case net::delta_type::preserving:
    case net::delta_type::independent:
    case net::delta_type::dependent:
    case net::delta_type::random:
      return true;
    default:
      return false;
  }
}

const char* short_name(dependence x) {
  switch (x) {
    case dependence::endpoint_independent: return "EI";
    case dependence::address_dependent: return "AD";
    case dependence::address_and_port_dependent: return "APD";
  }
  return "?";
}

} // namespace

net::result<nat_profile> nat_profile::p2pd(net::nat_type nat, net::delta_result delta) {
  const bool translates = nat == net::nat_type::full_cone || nat == net::nat_type::restricted
                          || nat == net::nat_type::port_restricted
                          || nat == net::nat_type::symmetric;
  if (nat == net::nat_type::unknown)
    return net::error{net::errc::invalid_argument,
                      "nat_profile::p2pd: nat_type unknown is a verdict, not a NAT to simulate"};
  if (!is_allocator(delta.type) && (translates || delta.type != net::delta_type::not_applicable))
    // blocked does translate TCP, but not_applicable is what the classifier
    // says of it: that keeps the default allocation.
    return net::error{net::errc::invalid_argument,
                      std::string{"nat_profile::p2pd: port allocation "} + to_string(delta.type)
                        + " is not an allocator (equal, preserving, independent, dependent, "
                          "random) for a "
                        + to_string(nat)};
  nat_profile p;
  if (is_allocator(delta.type))
    p.ports.type = delta.type;
  if (delta.type == net::delta_type::independent || delta.type == net::delta_type::dependent)
    p.ports.step = delta.value == 0 ? 1 : delta.value;
  switch (nat) {
    case net::nat_type::open_internet:
      p.mode = nat_mode::open;
      break;
    case net::nat_type::udp_firewall:
      p.mode = nat_mode::firewall;
      p.filtering = dependence::address_and_port_dependent;
      break;
    case net::nat_type::blocked:
      p.mode = nat_mode::blocked;
      p.mapping = dependence::endpoint_independent;
      p.filtering = dependence::address_and_port_dependent;
      break;
    case net::nat_type::full_cone:
      p.mapping = dependence::endpoint_independent;
      p.filtering = dependence::endpoint_independent;
      break;
    case net::nat_type::restricted:
      p.mapping = dependence::endpoint_independent;
      p.filtering = dependence::address_dependent;
      break;
    case net::nat_type::port_restricted:
      p.mapping = dependence::endpoint_independent;
      p.filtering = dependence::address_and_port_dependent;
      break;
    case net::nat_type::symmetric:
      p.mapping = dependence::address_and_port_dependent;
      p.filtering = dependence::address_and_port_dependent;
      break;
    case net::nat_type::unknown:
      break;
  }
  return p;
}

net::result<nat_profile> nat_profile::p2pd(net::nat_type nat, net::delta_type delta) {
  return p2pd(nat, net::delta_result{delta, 0});
}

nat_profile nat_profile::ipv6_firewall() {
  nat_profile p;
  p.mode = nat_mode::firewall;
  p.filtering = dependence::address_and_port_dependent;
  p.unsolicited_syn = syn_reply::drop;
  p.refresh = refresh_rule::inbound_too;
  return p;
}

net::error check(const nat_profile& p) {
  auto bad = [](std::string what) {
    return net::error{net::errc::invalid_argument, "nat profile: " + std::move(what)};
  };
  const auto& a = p.ports;
  if (a.min == 0 || a.min > a.max)
    return bad("port range " + std::to_string(a.min) + "-" + std::to_string(a.max)
               + " is empty or includes port 0");
  if (!is_allocator(a.type))
    return bad(std::string{"port allocation "} + net::to_string(a.type) + " is not an allocator");
  const int span = a.max - a.min + 1;
  if ((a.type == net::delta_type::independent || a.type == net::delta_type::dependent)
      && (a.step == 0 || a.step % span == 0))
    return bad("step " + std::to_string(a.step) + " of " + net::to_string(a.type)
               + " allocation would give every mapping the same port");
  if (a.type == net::delta_type::preserving && a.offset == 0)
    return bad("preserving allocation with offset 0 is equal allocation");
  if (p.udp.unreplied.count() <= 0 || p.udp.assured.count() <= 0
      || p.tcp.established.count() <= 0 || p.tcp.transitory.count() <= 0
      || p.tcp.closed.count() <= 0)
    return bad("a flow lifetime is not positive");
  return {};
}

std::string describe(const nat_profile& p) {
  std::string s = to_string(p.mode);
  if (p.mode == nat_mode::nat || p.mode == nat_mode::blocked) {
    s += std::string{" "} + short_name(p.mapping) + "M/" + short_name(p.filtering) + "F "
         + net::to_string(p.ports.type);
    if (p.ports.type == net::delta_type::independent || p.ports.type == net::delta_type::dependent)
      s += (p.ports.step >= 0 ? "+" : "") + std::to_string(p.ports.step);
    s += std::string{" hairpin="} + to_string(p.hairpin);
  } else if (p.mode != nat_mode::open) {
    s += std::string{" "} + short_name(p.filtering) + "F";
  }
  return s;
}

} // namespace p2pd::sim
