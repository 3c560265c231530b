#pragma once

// What `p2pd connect` and `p2pd ping` connect to: a signed peer address as
// given, or a name looked up on the name servers of the server file.

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

/// `target` when it is a peer address ("p2pd1_..."), else the address the
/// name `target` holds on the server file's name servers. Errors say why:
/// no name server configured, none answered, no such name, a record that is
/// no peer address.
caf::expected<std::string> resolve_target(runtime& rt, const std::string& target,
                                          const std::vector<net::server_entry>& servers);

} // namespace p2pd::cli
