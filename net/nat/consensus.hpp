#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "p2pd/net/addr/address.hpp"

namespace p2pd::net {

/// The address that at least `min_agree` of `answers` name, taking them in
/// the order they came (the first to reach `min_agree` wins); nothing if no
/// address reaches it. Guards against a lying or confused server.
std::optional<ip_address> agreed_address(const std::vector<ip_address>& answers,
                                         size_t min_agree);

} // namespace p2pd::net
