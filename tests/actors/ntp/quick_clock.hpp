#pragma once

// An NTP clock that asks a few servers on a fast path (loopback, a
// simulated network) quickly: three samples, short waits, no spacing, no
// periodic measurement; and one measurement of it.

#include <vector>

#include "caf/all.hpp"

#include "p2pd/actors/ntp/ntp_clock.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::test {

inline ntp_clock_spec quick_clock_spec(std::vector<endpoint> servers, endpoint local,
                                       stack_ptr stack = nullptr) {
  ntp_clock_spec s;
  s.stack = std::move(stack);
  s.endpoints = std::move(servers);
  s.samples = 3;
  s.retries = 1;
  s.reply_timeout = std::chrono::milliseconds{500};
  s.spacing = caf::timespan{0};
  s.refresh_interval = caf::timespan{0};
  s.local = {local};
  return s;
}

/// One measurement of a clock of `spec`, ended afterwards: its estimate or
/// its error (errc::io_failed when the clock did not answer in time).
inline caf::expected<clock_offset> measure_once(caf::actor_system& sys,
                                                const ntp_clock_spec& spec) {
  auto clock = spawn_ntp_clock(sys, spec);
  if (!clock)
    return clock.error();
  caf::scoped_actor self{sys};
  caf::expected<clock_offset> got{make_error(errc::io_failed, "the clock did not answer")};
  self->request(*clock, spec.measurement_time() + std::chrono::seconds(5), caf::get_atom::value)
    .receive([&](clock_offset& x) { got = std::move(x); }, [&](caf::error& e) { got = e; });
  caf::anon_send_exit(*clock, caf::exit_reason::user_shutdown);
  return got;
}

} // namespace p2pd::test
