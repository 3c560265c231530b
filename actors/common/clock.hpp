#pragma once

#include <cstdint>

namespace p2pd {

/// Unix time in ms from the system clock: the default clock of a spec that
/// takes one (signal_node_spec::clock). Actors read wall time only through
/// such a clock or their actor clock, so that a simulation can give its own;
/// this is the one place in actors/ that reads the system clock
/// (tests/layout checks).
int64_t system_clock_ms();

/// The same in ns (the stack's unix_ns: NTP timestamps).
int64_t system_clock_ns();

} // namespace p2pd
