#pragma once

// The test thread among actors: its scoped_actor as an actor handle, and
// waiting for messages, each wait bounded by a timeout (tests wait on
// messages, they never sleep).

#include <chrono>
#include <optional>
#include <utility>

#include "caf/all.hpp"

namespace p2pd::test {

using namespace std::chrono_literals;

inline caf::actor as_actor(caf::scoped_actor& self) {
  return caf::actor_cast<caf::actor>(self.ptr());
}

/// Waits up to `timeout` for a message of type T; nullopt if none came.
template <class T>
std::optional<T> next(caf::scoped_actor& self, caf::timespan timeout = 5s) {
  std::optional<T> out;
  self->receive([&](T& x) { out = std::move(x); },
                caf::after(timeout) >> [] {});
  return out;
}

/// Receives messages of type T, calling `done` on each, until it returns true
/// or `timeout` has passed in all. False on timeout.
template <class T, class F>
bool receive_until(caf::scoped_actor& self, caf::timespan timeout, F done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= left.zero())
      return false;
    auto m = next<T>(self, std::chrono::duration_cast<caf::timespan>(left));
    if (!m)
      return false;
    if (done(*m))
      return true;
  }
}

} // namespace p2pd::test
