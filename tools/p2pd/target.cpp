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

} // namespace p2pd::cli
