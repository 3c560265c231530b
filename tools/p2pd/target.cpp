#include "target.hpp"

#include <chrono>

#include "cli.hpp"

#include "p2pd/node.hpp"

namespace p2pd::cli {

std::vector<name_server_addr> name_servers_of(const std::vector<net::server_entry>& servers,
                                              std::vector<std::string>& unresolved) {
  auto rs = net::resolve_servers(servers, std::chrono::seconds(2), {net::server_kind::name});
  for (auto& u : rs.unresolved)
    unresolved.push_back(u.to_string());
  std::vector<name_server_addr> out;
  for (auto& ep : rs.of(net::server_kind::name))
    out.push_back({net::protocol::tcp, ep});
  return out;
}

caf::expected<std::string> resolve_target(runtime& rt, const std::string& target,
                                          const std::vector<net::server_entry>& servers) {
  if (target.rfind(node::peer_address_prefix, 0) == 0)
    return target;
  std::vector<std::string> unresolved;
  auto ns = name_servers_of(servers, unresolved);
  if (ns.empty())
    return make_error(errc::invalid_argument,
                      "'" + target + "' is no peer address (" + std::string{node::peer_address_prefix}
                        + "...), and no name server to look it up: give --servers with a "
                          "'name host:port' line");
  auto found = lookup_name(rt, ns, target, std::chrono::seconds(5));
  if (!found)
    return found.error();
  if (!found->record) {
    std::string why = found->answered == 0
                        ? "none of the " + std::to_string(ns.size()) + " name servers answered"
                        : "no live record (" + std::to_string(found->answered) + " of "
                            + std::to_string(ns.size()) + " name servers answered)";
    for (auto& r : found->replies)
      if (!r.answer)
        why += "; " + r.server.ep.to_string() + ": " + render(r.answer.error());
    return make_error(errc::resolve_failed, "name '" + target + "': " + why);
  }
  auto& v = found->record->value;
  std::string address(v.begin(), v.end());
  if (address.rfind(node::peer_address_prefix, 0) != 0)
    return make_error(errc::invalid_argument,
                      "name '" + target + "' holds no peer address");
  return address;
}

} // namespace p2pd::cli
