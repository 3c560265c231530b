#include "options.hpp"

#include "node_lines.hpp" // tools::split

#include "p2pd/messages/errors.hpp"

namespace p2pd::harness {

caf::expected<node::connect_options> parse_connect_options(const std::string& strategies,
                                                           const std::string& families,
                                                           const std::string& transport) {
  node::connect_options opts;
  auto bad = [](const std::string& what) { return make_error(errc::invalid_argument, what); };
  if (!strategies.empty()) {
    opts.strategies.clear();
    for (auto& x : tools::split(strategies, ','))
      if (x == "direct")
        opts.strategies.push_back(node::strategy::direct);
      else if (x == "reverse")
        opts.strategies.push_back(node::strategy::reverse);
      else if (x == "punch")
        opts.strategies.push_back(node::strategy::punch);
      else if (x == "relay")
        opts.strategies.push_back(node::strategy::relay);
      else
        return bad("strategies: '" + x + "' is not one (direct, reverse, punch, relay)");
    if (opts.strategies.empty())
      return bad("strategies: none in '" + strategies + "'");
  }
  if (!families.empty()) {
    opts.families.clear();
    for (auto& x : tools::split(families, ','))
      if (x == "4" || x == "v4")
        opts.families.push_back(net::family::v4);
      else if (x == "6" || x == "v6")
        opts.families.push_back(net::family::v6);
      else
        return bad("families: '" + x + "' is not one (4, 6)");
    if (opts.families.empty())
      return bad("families: none in '" + families + "'");
  }
  if (transport == "udp")
    opts.kind = node::transport::datagram;
  else if (transport == "tcp" || transport.empty())
    opts.kind = node::transport::stream;
  else
    return bad("transport: '" + transport + "' is neither tcp nor udp");
  return opts;
}

} // namespace p2pd::harness
