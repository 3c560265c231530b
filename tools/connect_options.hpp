#pragma once

// A connect's options from the words p2p_node takes (--strategies
// "punch,relay", --families "4,6", --transport "tcp|udp"): p2p_node and the
// distributed harness (tools/harness: the agent checks what a controller
// asks, the controller checks a scenario) read the same words the same way.

#include <optional>
#include <string>

#include "caf/expected.hpp"

#include "node_lines.hpp" // split

#include "p2pd/messages/errors.hpp"
#include "p2pd/node/connect/plan.hpp"

namespace p2pd::tools {

/// The options of `strategies` (direct, reverse, punch, relay, in order),
/// `families` (4 or v4, 6 or v6) and `transport` (tcp or udp); an absent
/// one keeps the node's default. Errors: errc::invalid_argument, its text
/// naming the option, e.g. "strategies: 'fly' is not a strategy (direct,
/// reverse, punch, relay)".
inline caf::expected<node::connect_options>
parse_connect_words(const std::optional<std::string>& strategies,
                    const std::optional<std::string>& families,
                    const std::optional<std::string>& transport) {
  node::connect_options opts;
  auto bad = [](const std::string& what) { return make_error(errc::invalid_argument, what); };
  if (strategies) {
    opts.strategies.clear();
    for (auto& x : split(*strategies, ','))
      if (x == "direct")
        opts.strategies.push_back(node::strategy::direct);
      else if (x == "reverse")
        opts.strategies.push_back(node::strategy::reverse);
      else if (x == "punch")
        opts.strategies.push_back(node::strategy::punch);
      else if (x == "relay")
        opts.strategies.push_back(node::strategy::relay);
      else
        return bad("strategies: '" + x + "' is not a strategy (direct, reverse, punch, relay)");
    if (opts.strategies.empty())
      return bad("strategies: none given");
  }
  if (transport) {
    if (*transport == "tcp")
      opts.kind = node::transport::stream;
    else if (*transport == "udp")
      opts.kind = node::transport::datagram;
    else
      return bad("transport: '" + *transport + "' is neither tcp nor udp");
  }
  if (families) {
    opts.families.clear();
    for (auto& x : split(*families, ','))
      if (x == "4" || x == "v4")
        opts.families.push_back(net::family::v4);
      else if (x == "6" || x == "v6")
        opts.families.push_back(net::family::v6);
      else
        return bad("families: '" + x + "' is not a family (4, 6)");
    if (opts.families.empty())
      return bad("families: none given");
  }
  return opts;
}

/// `text`, or nothing when it is empty (a request's word left to the
/// node's default).
inline std::optional<std::string> word_if_any(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>{text};
}

} // namespace p2pd::tools
