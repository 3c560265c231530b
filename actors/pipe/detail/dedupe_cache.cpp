#include "p2pd/actors/pipe/detail/dedupe_cache.hpp"

#include <string_view>

namespace p2pd::actors {

bool dedupe_cache::seen(const net::endpoint& from, const char* data, size_t size) {
  // 64 bits over at most a few thousand ids: a false "seen" is ~1e-13 likely.
  auto h = std::hash<std::string_view>{}(std::string_view{data, size});
  h ^= from.hash() + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  if (!ids_.insert(h).second)
    return true;
  order_.push_back(h);
  if (order_.size() > capacity_) {
    ids_.erase(order_.front());
    order_.pop_front();
  }
  return false;
}

} // namespace p2pd::actors
