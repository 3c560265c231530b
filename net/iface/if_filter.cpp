#include "p2pd/net/iface/if_filter.hpp"

#include <algorithm>
#include <iterator>

namespace p2pd::net {

namespace {

bool matches_any(const std::vector<std::string>& patterns, std::string_view name) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return name_matches(p, name); });
}

bool named_exactly(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool has_prefix(std::string_view name, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) {
    return name.substr(0, p.size()) == p;
  });
}

} // namespace

bool name_matches(std::string_view pattern, std::string_view name) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return name.substr(0, pattern.size()) == pattern;
  }
  return pattern == name;
}

bool keep_interface(const interface_info& nic, const interface_filter_config& cfg) {
  if (matches_any(cfg.deny, nic.name))
    return false;
  if (!cfg.allow.empty() && !matches_any(cfg.allow, nic.name))
    return false;
  if (!nic.flags.up && !cfg.include_down)
    return false;
  bool asked_by_name = named_exactly(cfg.allow, nic.name);
  if (nic.flags.loopback && !cfg.include_loopback && !asked_by_name)
    return false;
  if (has_prefix(nic.name, cfg.virtual_prefixes) && !cfg.include_virtual && !asked_by_name)
    return false;
  return true;
}

std::vector<interface_info> filter_interfaces(const std::vector<interface_info>& nics,
                                              const interface_filter_config& cfg) {
  std::vector<interface_info> out;
  std::copy_if(nics.begin(), nics.end(), std::back_inserter(out),
               [&](const interface_info& i) { return keep_interface(i, cfg); });
  return out;
}

} // namespace p2pd::net
