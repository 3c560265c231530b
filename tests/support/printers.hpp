#pragma once

#include <optional>
#include <ostream>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/addr/ip_class.hpp"
#include "p2pd/net/addr/ip_range.hpp"
#include "p2pd/net/crypto/replay_guard.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"
#include "p2pd/net/sock/socket.hpp"

// GoogleTest prints values it has no printer for as raw bytes (and enums as
// numbers); these make failure messages show the project's values as text.
// Found by argument-dependent lookup. One place for all of them: a printer
// defined in one test file would print differently in another. A test
// parameter's printed value also names its CTest test (gtest_discover_tests
// turns ".../0  # GetParam() = TCP" into ".../TCP").

namespace p2pd::net {

inline void PrintTo(const ip_address& x, std::ostream* os) {
  *os << x.to_string();
}

inline void PrintTo(const endpoint& x, std::ostream* os) {
  *os << x.to_string();
}

inline void PrintTo(const ip_range& x, std::ostream* os) {
  *os << x.to_string();
}

inline void PrintTo(ip_scope x, std::ostream* os) {
  *os << to_string(x);
}

inline void PrintTo(errc x, std::ostream* os) {
  *os << to_string(x);
}

inline void PrintTo(family x, std::ostream* os) {
  *os << to_string(x);
}

inline void PrintTo(protocol x, std::ostream* os) {
  *os << to_string(x);
}

inline void PrintTo(nat_type x, std::ostream* os) {
  *os << to_string(x);
}

inline void PrintTo(delta_type x, std::ostream* os) {
  *os << to_string(x);
}

inline void PrintTo(const delta_result& x, std::ostream* os) {
  *os << to_string(x.type) << "(" << x.value << ")";
}

inline void PrintTo(replay_verdict x, std::ostream* os) {
  *os << to_string(x);
}

} // namespace p2pd::net
