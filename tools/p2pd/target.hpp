#pragma once

// The name servers of a server file, for `p2pd name`.
// (`p2pd connect NAME` and the REST API leave the lookup to the node.)

#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "p2pd/api/names.hpp"
#include "p2pd/p2pd.hpp"

namespace p2pd::cli {

/// The name servers ("name" lines) of a server file, resolved (TCP); the
/// lines that did not resolve are added to `unresolved`.
std::vector<name_server_addr> name_servers_of(const std::vector<net::server_entry>& servers,
                                              std::vector<std::string>& unresolved);

} // namespace p2pd::cli
