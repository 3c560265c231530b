#pragma once

// A NAT given on the command line instead of probed (interface --nat4,
// p2pd --nat4): TYPE[/DELTA[:STEP]], e.g. port_restricted/equal or
// symmetric/independent:2.

#include <string>

#include "args.hpp"

#include "p2pd/p2pd.hpp"

namespace p2pd::tools {

// TYPE[/DELTA[:STEP]] as a given NAT of `fam`, or why not.
inline net::result<nat_summary> parse_given_nat(net::family fam, const std::string& text) {
  nat_summary n;
  n.fam = fam;
  auto slash = text.find('/');
  auto type = net::parse_nat_type(text.substr(0, slash));
  if (!type)
    return type.error();
  n.nat = *type;
  if (slash == std::string::npos) {
    // What a probe reports for a type that allocates no ports.
    if (n.nat == net::nat_type::open_internet || n.nat == net::nat_type::udp_firewall
        || n.nat == net::nat_type::blocked)
      n.delta = net::delta_type::not_applicable;
    return n;
  }
  auto rest = text.substr(slash + 1);
  auto colon = rest.find(':');
  auto delta = net::parse_delta_type(rest.substr(0, colon));
  if (!delta)
    return delta.error();
  n.delta = *delta;
  if (colon == std::string::npos)
    return n;
  auto step = rest.substr(colon + 1);
  bool negative = !step.empty() && step[0] == '-';
  auto value = examples::parse_count(negative ? step.substr(1) : step, 1, 65535);
  if (!value || (n.delta != net::delta_type::independent && n.delta != net::delta_type::dependent))
    return net::error{net::errc::invalid_argument,
                      "':" + step + "': a step (1..65535, or negative) follows only "
                        "independent or dependent"};
  n.delta_value = negative ? -static_cast<int>(*value) : static_cast<int>(*value);
  return n;
}

} // namespace p2pd::tools
