#pragma once

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

} // namespace p2pd::net
