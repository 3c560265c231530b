#include "p2pd/net/addr/ip_class.hpp"

#include <algorithm>
#include <initializer_list>
#include <utility>

namespace p2pd::net {

namespace {

using rule = std::pair<ip_range, ip_scope>;

std::vector<rule> make_rules(std::initializer_list<std::pair<const char*, ip_scope>> xs) {
  std::vector<rule> out;
  for (auto& [text, scope] : xs)
    out.emplace_back(*ip_range::parse(text), scope);
  return out;
}

// First match wins, so a more specific block comes before the one it is cut
// out of.
const std::vector<rule>& v4_rules() {
  static const auto rules = make_rules({
    {"0.0.0.0", ip_scope::unspecified},
    {"0.0.0.0/8", ip_scope::reserved},
    {"10.0.0.0/8", ip_scope::private_v4},
    {"100.64.0.0/10", ip_scope::shared},
    {"127.0.0.0/8", ip_scope::loopback},
    {"169.254.0.0/16", ip_scope::link_local},
    {"172.16.0.0/12", ip_scope::private_v4},
    {"192.0.0.9", ip_scope::global},
    {"192.0.0.10", ip_scope::global},
    {"192.0.0.0/24", ip_scope::reserved},
    {"192.0.2.0/24", ip_scope::documentation},
    {"192.168.0.0/16", ip_scope::private_v4},
    {"198.18.0.0/15", ip_scope::benchmarking},
    {"198.51.100.0/24", ip_scope::documentation},
    {"203.0.113.0/24", ip_scope::documentation},
    {"224.0.0.0/4", ip_scope::multicast},
    {"255.255.255.255", ip_scope::broadcast},
    {"240.0.0.0/4", ip_scope::reserved},
  });
  return rules;
}

const std::vector<rule>& v6_rules() {
  static const auto rules = make_rules({
    {"::", ip_scope::unspecified},
    {"::1", ip_scope::loopback},
    {"64:ff9b:1::/48", ip_scope::reserved},
    {"100::/64", ip_scope::reserved},
    {"2001:2::/48", ip_scope::benchmarking},
    {"2001:db8::/32", ip_scope::documentation},
    {"3fff::/20", ip_scope::documentation},
    {"2000::/3", ip_scope::global},
    {"fc00::/7", ip_scope::unique_local},
    {"fe80::/10", ip_scope::link_local},
    {"fec0::/10", ip_scope::reserved},
    {"ff00::/8", ip_scope::multicast},
  });
  return rules;
}

bool is_nat64_well_known(const ip_address& ip) {
  static const auto prefix = *ip_range::parse("64:ff9b::/96");
  return prefix.contains(ip);
}

} // namespace

const char* to_string(ip_scope s) {
  switch (s) {
    case ip_scope::unspecified: return "unspecified";
    case ip_scope::loopback: return "loopback";
    case ip_scope::private_v4: return "private_v4";
    case ip_scope::shared: return "shared";
    case ip_scope::link_local: return "link_local";
    case ip_scope::unique_local: return "unique_local";
    case ip_scope::documentation: return "documentation";
    case ip_scope::benchmarking: return "benchmarking";
    case ip_scope::multicast: return "multicast";
    case ip_scope::broadcast: return "broadcast";
    case ip_scope::reserved: return "reserved";
    case ip_scope::global: return "global";
  }
  return "unknown";
}

ip_scope classify(const ip_address& ip) {
  if (ip.is_v4_mapped())
    return classify(ip.unmapped());
  if (is_nat64_well_known(ip))
    return classify(ip_address::v4_bytes(ip.bytes().data() + 12));
  const auto& rules = ip.is_v4() ? v4_rules() : v6_rules();
  for (const auto& [range, scope] : rules)
    if (range.contains(ip))
      return scope;
  // Every IPv4 address not listed is global unicast; IANA allocates IPv6
  // unicast only from 2000::/3, which the table lists.
  return ip.is_v4() ? ip_scope::global : ip_scope::reserved;
}

bool is_public(const ip_address& ip) {
  return classify(ip) == ip_scope::global;
}

bool is_public(const ip_address& ip, const std::vector<ip_range>& also_public) {
  return is_public(ip)
         || std::any_of(also_public.begin(), also_public.end(),
                        [&](const ip_range& r) { return r.contains(ip); });
}

} // namespace p2pd::net
