#pragma once

// What the TURN pipe and the TCP relay share about their close: both
// delete the allocation (a Refresh with lifetime 0) and wait a while for
// the server's answer before they end anyway.

#include <chrono>
#include <cstdint>

#include "caf/timespan.hpp"

namespace p2pd::actors::turn_detail {

/// How long a close waits for the server to confirm the deletion: the
/// allocation expires by itself anyway, so a gone server must not hold the
/// end for the retransmissions' 39.5 s.
inline constexpr caf::timespan close_wait = std::chrono::seconds(2);

/// The tick generation of that wait (never a refresh's).
inline constexpr uint64_t close_gen = ~uint64_t{0};

/// `d` in whole milliseconds, the unit of the sans-IO TURN session.
template <class D>
std::chrono::milliseconds ms(D d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

} // namespace p2pd::actors::turn_detail
