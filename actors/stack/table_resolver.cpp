#include "p2pd/actors/stack/table_resolver.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "caf/typed_event_based_actor.hpp"

namespace p2pd {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

net::result<std::vector<net::ip_address>> look_up(const name_table& table,
                                                  const std::string& host) {
  if (auto ip = net::ip_address::parse(host))
    return std::vector<net::ip_address>{*ip};
  auto i = table.find(lower(host));
  if (i == table.end())
    return net::error{net::errc::resolve_failed, host + ": not in the name table"};
  // IPv4 before IPv6, as the OS resolver orders them.
  auto ips = i->second;
  std::stable_partition(ips.begin(), ips.end(),
                        [](const net::ip_address& ip) { return ip.is_v4(); });
  return ips;
}

resolver_actor::behavior_type table_resolver_fn(resolver_actor::pointer self, name_table table) {
  (void) self;
  name_table lowered;
  for (auto& [name, ips] : table)
    lowered[lower(name)] = ips;
  return {
    [table = std::move(lowered)](resolve_atom, const std::vector<std::string>& hosts,
                                 caf::timespan) -> resolved_hosts {
      resolved_hosts out;
      for (const auto& h : hosts)
        out.answers.push_back(look_up(table, h));
      return out;
    },
  };
}

} // namespace

resolver_actor spawn_table_resolver(caf::actor_system& sys, name_table table) {
  return sys.spawn(table_resolver_fn, std::move(table));
}

} // namespace p2pd
