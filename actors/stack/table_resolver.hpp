#pragma once

#include <map>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"

#include "p2pd/actors/stack/resolver.hpp"
#include "p2pd/net/addr/address.hpp"

namespace p2pd {

/// Host names and their addresses, as a simulated network's DNS knows them.
/// Names are compared without regard to case (DNS names are).
using name_table = std::map<std::string, std::vector<net::ip_address>>;

/// A resolver that answers from `table` at once, without the OS: an IP
/// literal as itself, a name of the table with its addresses, any other
/// name with errc::resolve_failed ("<name>: not in the name table"). What a
/// simulated stack's resolver() gives (no thread, no clock read), and a
/// test's stack with names the host cannot resolve.
resolver_actor spawn_table_resolver(caf::actor_system& sys, name_table table);

} // namespace p2pd
