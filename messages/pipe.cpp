#include "p2pd/messages/pipe.hpp"

#include <algorithm>

namespace p2pd {

bool msg_filter::matches(const char* data, size_t size, const endpoint& sender) const {
  if (match_from) {
    if (from.ip != sender.ip)
      return false;
    if (from.port != 0 && from.port != sender.port)
      return false;
  }
  if (pattern.empty())
    return true;
  return std::search(data, data + size, pattern.begin(), pattern.end()) != data + size;
}

} // namespace p2pd
