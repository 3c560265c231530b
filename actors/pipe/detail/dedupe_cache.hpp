#pragma once

#include <cstdint>
#include <deque>
#include <unordered_set>

#include "p2pd/net/addr/address.hpp"

namespace p2pd::actors {

/// Remembers the last `capacity` message ids (a hash of sender and bytes) so
/// that a repeated message can be dropped (net_conf::enable_msg_ids). Unlike
/// the original it forgets the oldest id first instead of clearing all.
class dedupe_cache {
public:
  explicit dedupe_cache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  /// True if this message was seen before; remembers it otherwise.
  bool seen(const net::endpoint& from, const char* data, size_t size);

private:
  size_t capacity_;
  std::deque<uint64_t> order_;
  std::unordered_set<uint64_t> ids_;
};

} // namespace p2pd::actors
