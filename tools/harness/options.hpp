#pragma once

// A connect's options from the text p2p_node takes (--strategies,
// --families, --transport), for the agent (which checks what a controller
// asks) and the controller (which checks a scenario before it runs).

#include <string>

#include "caf/expected.hpp"

#include "p2pd/node/connect/plan.hpp"

namespace p2pd::harness {

/// `strategies` "direct,reverse,punch,relay" (any of them, in order),
/// `families` "4,6" (or "v4,v6"), `transport` "tcp" or "udp"; an empty one
/// keeps the node's default. Errors: errc::invalid_argument naming the
/// piece that is not one.
caf::expected<node::connect_options> parse_connect_options(const std::string& strategies,
                                                           const std::string& families,
                                                           const std::string& transport);

} // namespace p2pd::harness
