#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace p2pd::net {

/// True for a non-empty run of ASCII digits only (no sign, no space): what
/// ports, prefix lengths and numeric scope ids are written as.
inline bool all_digits(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

/// The value of a hex digit (either case), -1 for any other character.
inline int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// The lowercase hex of `size` bytes at `data`.
inline std::string to_hex(const uint8_t* data, size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 15]);
  }
  return out;
}

} // namespace p2pd::net
