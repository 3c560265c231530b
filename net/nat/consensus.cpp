#include "p2pd/net/nat/consensus.hpp"

#include <unordered_map>

namespace p2pd::net {

std::optional<ip_address> agreed_address(const std::vector<ip_address>& answers,
                                         size_t min_agree) {
  if (min_agree == 0)
    min_agree = 1;
  std::unordered_map<ip_address, size_t> votes;
  for (auto& a : answers)
    if (++votes[a] >= min_agree)
      return a;
  return std::nullopt;
}

} // namespace p2pd::net
