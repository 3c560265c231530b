#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "caf/actor.hpp"
#include "caf/actor_cast.hpp"
#include "caf/send.hpp"
#include "caf/weak_intrusive_ptr.hpp"

namespace p2pd {

/// A bound on the datagrams a pipe's handler has handed to an actor and the
/// actor has not handled yet: the handler runs on the I/O thread and must
/// not let a flood grow the actor's mailbox without end. The handler calls
/// enter() before it sends and drops (counted) when it is refused; the actor
/// calls leave() for each one it takes out of its mailbox.
struct bounded_inbox {
  explicit bounded_inbox(size_t max_queued) : limit(max_queued) {}

  /// True when one more may be queued (it then counts as queued); false,
  /// and counted in `dropped`, when `limit` are queued already.
  bool enter() {
    if (queued.fetch_add(1) >= limit) {
      queued.fetch_sub(1);
      dropped.fetch_add(1);
      return false;
    }
    return true;
  }

  /// One queued datagram was taken (or will never be: its send failed).
  void leave() { queued.fetch_sub(1); }

  const size_t limit;
  std::atomic<size_t> queued{0};
  std::atomic<uint64_t> dropped{0};
};

/// From a pipe's inline handler: sends `xs` to `to` (held weakly, so the
/// handler does not keep its actor alive) when `inbox` has room; the
/// receiver calls inbox.leave() as it takes each one.
template <class... Ts>
void tell_bounded(const caf::weak_actor_ptr& to, bounded_inbox& inbox, Ts&&... xs) {
  if (!inbox.enter())
    return;
  auto hdl = caf::actor_cast<caf::actor>(to.lock());
  if (!hdl) {
    inbox.leave();
    return;
  }
  caf::anon_send(hdl, std::forward<Ts>(xs)...);
}

} // namespace p2pd
