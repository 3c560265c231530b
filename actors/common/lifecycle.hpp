#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "caf/type_id.hpp"
#include "caf/response_promise.hpp"

namespace p2pd::actors {

/// Where an actor that opens and closes stands. One that is open from its
/// start (a daemon, a channel, the signal node) starts at `open`; a pipe
/// goes through every phase.
enum class life_phase : uint8_t {
  idle,    ///< not opened yet
  opening, ///< an open is under way
  open,
  closing, ///< a close is under way: new work is refused
  closed,  ///< closed; the actor quits, or stays for queued messages
};

/// Requests that wait for one event (the actor opened, it closed): each is
/// answered exactly once, all at once when the event comes.
class waiters {
public:
  /// Keeps the request `self` is handling now. Returns its promise, which
  /// the handler returns (the answer comes with deliver_all()).
  template <class Self>
  caf::response_promise add(Self* self) {
    auto rp = self->make_response_promise();
    rps_.push_back(rp);
    return rp;
  }

  /// Answers every kept request with `xs` (a value or an error) and forgets
  /// them; requests kept meanwhile wait for the next call.
  template <class... Ts>
  void deliver_all(const Ts&... xs) {
    auto rps = std::move(rps_);
    rps_.clear();
    for (auto& rp : rps)
      rp.deliver(xs...);
  }

  bool empty() const { return rps_.empty(); }

private:
  std::vector<caf::response_promise> rps_;
};

/// The close of an actor that answers `close` requests only once it has
/// closed (pipes, daemons, MQTT channels, the signal node): every close
/// request waits, the first one starts the close, and all are answered ok
/// together. In a close handler:
///
///     auto rp = st.life.wait_close(self); // answered by closed()
///     if (!st.life.begin_close())
///       return rp;                        // a close is under way already
///     ...                                 // close: now, or after messages
///     return rp;
///
/// and once closed, `st.life.closed(); self->quit();`.
class lifecycle {
public:
  explicit lifecycle(life_phase start = life_phase::open) : phase_(start) {}

  life_phase phase() const { return phase_; }

  /// Moves to `p` (an actor with phases of its own, such as a pipe that
  /// drains its writes, moves by itself).
  void enter(life_phase p) { phase_ = p; }

  /// A close has begun, or is done: new work is refused.
  bool closing() const { return phase_ == life_phase::closing || phase_ == life_phase::closed; }

  /// Keeps the close request `self` is handling now; returns its promise.
  template <class Self>
  caf::response_promise wait_close(Self* self) {
    return close_waiters_.add(self);
  }

  /// Moves to closing; true when it was not closing yet, so the caller
  /// starts the close now, false when one is under way (or done).
  bool begin_close() {
    if (closing())
      return false;
    phase_ = life_phase::closing;
    return true;
  }

  /// Moves to closed and answers every waiting close request with ok.
  void closed() {
    phase_ = life_phase::closed;
    close_waiters_.deliver_all(caf::ok_atom::value);
  }

private:
  life_phase phase_;
  waiters close_waiters_;
};

} // namespace p2pd::actors
