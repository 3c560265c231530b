#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

// When both sides of a punch start. The initiator measured the round trip
// over signalling (offer -> answer); its sync message reaches the responder
// about half a round trip after it leaves, so the initiator starts half a
// round trip (plus a margin for jitter) after sending it, and the responder
// as the sync arrives (plus the same margin): libp2p DCUtR's timing. When
// both clocks are NTP-corrected, the sync also carries the meeting time on
// the shared clock, and the responder aims at that instead, which also
// absorbs an asymmetric path (half the round trip is then wrong).

namespace p2pd::node {

using millis = std::chrono::milliseconds;

/// The longest a meeting may lie ahead; a sync further out is refused
/// (a peer could otherwise park our sockets for minutes).
inline constexpr millis max_meeting_ahead{10000};

/// The initiator's meeting, decided as it sends the sync.
struct meeting {
  /// Unix ms on the initiator's clock, NTP-corrected when `synced`.
  int64_t start_unix_ms = 0;
  bool synced = false;
  /// How long the initiator waits from now.
  millis wait{0};
};

/// `now_unix_ms`: the initiator's clock; `offset_ms`: true time minus that
/// clock when it is NTP-corrected (none otherwise); `rtt`: offer to answer.
meeting plan_meeting(int64_t now_unix_ms, std::optional<int64_t> offset_ms, millis rtt,
                     millis margin);

/// How long the responder waits from the sync's arrival, or nothing when the
/// meeting is further ahead than max_meeting_ahead (refused). A meeting in
/// the past starts at once. Without both clocks NTP-corrected the meeting
/// time says nothing on our clock: the margin alone.
std::optional<millis> responder_wait(int64_t start_unix_ms, bool sender_synced,
                                     int64_t now_unix_ms, std::optional<int64_t> offset_ms,
                                     millis margin);

} // namespace p2pd::node
