#pragma once

#include "caf/actor_system.hpp"

#include "p2pd/actors/ntp/ntp_clock_spec.hpp"
#include "p2pd/messages/clock.hpp"

namespace p2pd {

/// The NTP clock: measures the offset of the stack's clock from NTP servers
/// (RFC 5905's four timestamps, several servers at once, least delay per
/// server, outliers dropped: net/ntp/) and answers ntp_clock_actor's
/// requests with the latest estimate. It measures once at the start, then
/// every refresh_interval (a weak ticker: it does not keep the clock alive).
///
/// Requests go out over one UDP pipe per family, opened through the spec's
/// stack and owned by the clock. Each carries a random transmit timestamp
/// that the answer must echo, and an answer must come from the address
/// asked; everything else is refused, counted by reason (ntp_clock_stats)
/// and, when it came from a server asked, noted. A server that answers
/// DENY or RSTR is never asked again; RATE or an unsynchronised clock end
/// its part of the measurement.
///
/// Errors at once (a dead actor otherwise): spec.check()'s. The pipes close
/// when the clock ends.
caf::expected<ntp_clock_actor> spawn_ntp_clock(caf::actor_system& sys, ntp_clock_spec spec);

} // namespace p2pd
