#pragma once

#include <chrono>

namespace p2pd::sim {

/// Virtual time: how long since the world started. Nothing in sim/ reads a
/// clock; every call that depends on time takes `now` from its caller.
using sim_time = std::chrono::microseconds;

} // namespace p2pd::sim
