#include "p2pd/net/util/length_prefix.hpp"

#include <cstdint>

namespace p2pd::net {

error append_length_prefixed(std::string_view msg, size_t max_message, std::string& out) {
  if (msg.size() > max_message || msg.size() > UINT32_MAX)
    return error{errc::message_too_large, "a message of " + std::to_string(msg.size())
                                            + " bytes is above the limit of "
                                            + std::to_string(max_message)};
  auto n = static_cast<uint32_t>(msg.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(msg.data(), msg.size());
  return {};
}

result<size_t> length_prefixed_size(std::string_view buffered, size_t max_message) {
  if (buffered.size() < length_prefix_size)
    return size_t{0};
  uint32_t n = 0;
  for (size_t i = 0; i < length_prefix_size; ++i)
    n = (n << 8) | static_cast<uint8_t>(buffered[i]);
  if (n > max_message)
    return error{errc::malformed, "a message of " + std::to_string(n)
                                    + " bytes is above the limit of " + std::to_string(max_message)};
  return length_prefix_size + n;
}

} // namespace p2pd::net
