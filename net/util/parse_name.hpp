#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "p2pd/net/error.hpp"

namespace p2pd::net {

/// The value of `all` whose to_string() is `name`; otherwise
/// errc::invalid_argument: "'x' is not a <what> (a, b, c)". For enums read
/// from command lines and configuration.
template <class E, size_t N>
result<E> parse_name(std::string_view name, const E (&all)[N], const char* what) {
  std::string names;
  for (auto x : all) {
    if (name == to_string(x))
      return x;
    names += (names.empty() ? "" : ", ") + std::string{to_string(x)};
  }
  return error{errc::invalid_argument,
               "'" + std::string{name} + "' is not a " + what + " (" + names + ")"};
}

} // namespace p2pd::net
