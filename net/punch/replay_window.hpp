#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace p2pd::net {

// The sliding replay window of RFC 6479: which of the most recent frame
// counters of a session were accepted, in a ring of 1024 bits. Counters
// may arrive out of order (UDP reorders) but never twice. The ring is
// cleared a 64-bit block at a time as the highest counter moves on, so it
// tracks the `replay_window_size` (960) counters up to the highest; older
// ones are refused whether or not they came. Constant memory and time per
// frame whatever the counters: a jump of 2^63 clears the ring once.
//
// Check before decrypting (cheap), accept only after the frame proved
// authentic: a forged frame must not move the window.

/// The counters behind the highest accepted one that the window tracks.
inline constexpr uint64_t replay_window_size = 1024 - 64;

class replay_window {
public:
  /// Whether `counter` may be accepted: above the highest accepted, or
  /// within the window and not yet accepted.
  bool fresh(uint64_t counter) const;

  /// Records `counter` as accepted (fresh(counter) must hold).
  void accept(uint64_t counter);

  /// The highest accepted counter (0 before any).
  uint64_t highest() const { return top_; }

  /// Whether any counter was accepted.
  bool any() const { return any_; }

private:
  static constexpr size_t blocks = 1024 / 64;
  std::array<uint64_t, blocks> bits_{};
  uint64_t top_ = 0;
  bool any_ = false;
};

} // namespace p2pd::net
