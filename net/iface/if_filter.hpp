#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "p2pd/net/iface/interfaces.hpp"

namespace p2pd::net {

/// Which interfaces a node uses, from configuration.
///
/// Precedence, first rule that decides wins:
///   1. a name matching `deny` is left out (deny wins over allow);
///   2. with a non-empty `allow`, a name matching none of it is left out;
///   3. a down interface is left out unless `include_down`;
///   4. a loopback interface is left out unless `include_loopback` or its
///      name is listed in `allow` exactly (not by a glob);
///   5. a virtual interface (a name starting with one of `virtual_prefixes`)
///      is left out unless `include_virtual` or its name is listed in `allow`
///      exactly;
///   6. everything else is kept.
/// Naming an interface in full asks for it, so rules 4 and 5 give way; a
/// glob such as "*" does not pull in docker bridges. Rule 3 never gives way:
/// a down interface cannot carry traffic.
///
/// Virtual means by name only: inside a lab namespace the real interfaces
/// are veth devices called eth0, and they must count as real.
struct interface_filter_config {
  bool include_down = false;
  bool include_virtual = false;
  /// The original P2PD leaves loopback out; so does this by default.
  bool include_loopback = false;
  /// Exact names or prefix globs ("eth*").
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  /// Container and VM bridges and their veth ends.
  std::vector<std::string> virtual_prefixes = {"docker", "veth", "br-", "virbr"};
};

/// True if `name` matches `pattern`: the same text, or for a pattern ending in
/// '*' the same beginning ("eth*" matches "eth0" and "eth").
bool name_matches(std::string_view pattern, std::string_view name);

/// True if the filter keeps `nic`.
bool keep_interface(const interface_info& nic, const interface_filter_config& cfg);

/// The interfaces the filter keeps, in their order.
std::vector<interface_info> filter_interfaces(const std::vector<interface_info>& nics,
                                              const interface_filter_config& cfg);

} // namespace p2pd::net
