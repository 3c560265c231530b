#include "p2pd/messages/interface.hpp"

namespace p2pd {

const net::route* interface_snapshot::route(net::family fam) const {
  for (const auto& r : routes)
    if (r.fam == fam)
      return &r;
  return nullptr;
}

nat_summary interface_snapshot::nat(net::family fam) const {
  for (const auto& n : nats)
    if (n.fam == fam)
      return n;
  nat_summary none;
  none.fam = fam;
  return none;
}

std::string interface_snapshot::to_string() const {
  std::string out = name + " (index " + std::to_string(index) + ", mac "
                    + (mac.empty() ? std::string{"none"} : mac) + ", mtu "
                    + std::to_string(mtu) + ", refreshes " + std::to_string(refreshes) + ")\n";
  for (const auto& r : routes)
    out += "  route " + r.to_string() + "\n";
  for (const auto& n : nats) {
    out += std::string{"  "} + net::to_string(n.fam) + " NAT " + net::to_string(n.nat)
           + ", delta " + net::to_string(n.delta);
    if (n.delta == net::delta_type::independent || n.delta == net::delta_type::dependent)
      out += " " + std::to_string(n.delta_value);
    if (n.port_first != 0 || n.port_last != 0)
      out += ", mapped ports " + std::to_string(n.port_first) + "-"
             + std::to_string(n.port_last);
    out += "\n";
    for (const auto& note : n.notes)
      out += "    note: " + note + "\n";
  }
  if (resolve_ms > 0 || !unresolved.empty())
    out += "  server names resolved in " + std::to_string(resolve_ms) + " ms\n";
  for (const auto& u : unresolved)
    out += "  unresolved: " + u + "\n";
  for (const auto& note : notes)
    out += "  note: " + note + "\n";
  return out;
}

} // namespace p2pd
