#include "p2pd/net/punch/replay_window.hpp"

namespace p2pd::net {

namespace {

size_t block_of(uint64_t counter) {
  return static_cast<size_t>((counter / 64) % (1024 / 64));
}

uint64_t bit_of(uint64_t counter) {
  return uint64_t{1} << (counter % 64);
}

} // namespace

bool replay_window::fresh(uint64_t counter) const {
  if (!any_ || counter > top_)
    return true;
  if (top_ - counter >= replay_window_size)
    return false;
  return (bits_[block_of(counter)] & bit_of(counter)) == 0;
}

void replay_window::accept(uint64_t counter) {
  if (!any_ || counter > top_) {
    // Clear the blocks the window moves into (all of them after a jump
    // past the whole ring), then move the top.
    uint64_t from = any_ ? top_ / 64 : 0;
    uint64_t to = counter / 64;
    if (!any_ || to - from >= blocks) {
      bits_.fill(0);
    } else {
      for (uint64_t b = from + 1; b <= to; ++b)
        bits_[static_cast<size_t>(b % blocks)] = 0;
    }
    top_ = counter;
    any_ = true;
  }
  bits_[block_of(counter)] |= bit_of(counter);
}

} // namespace p2pd::net
