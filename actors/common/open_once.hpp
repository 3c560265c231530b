#pragma once

#include <optional>
#include <utility>

#include "caf/actor_addr.hpp"
#include "caf/actor_cast.hpp"
#include "caf/error.hpp"
#include "caf/result.hpp"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd::actors {

/// The open of a server actor that serves on a pipe it opens on the first
/// `open` request (the NTP responder, the TURN server), as a pipe's own
/// open works: the first sender becomes the owner (monitored: the actor
/// ends with it) and the open starts; opens meanwhile wait; all are
/// answered together by opened() or failed(), later ones at once.
class open_once {
public:
  /// For an open request `self` handles now: the info once open, else a
  /// promise answered later; the first call runs `start`.
  template <class Self, class Start>
  caf::result<pipe_info> open(Self* self, Start start) {
    if (info_)
      return *info_;
    if (!started_) {
      started_ = true;
      // Read before the promise is made: making it takes the sender from
      // the message being handled.
      if (auto sender = self->current_sender()) {
        owner_ = caf::actor_cast<caf::actor_addr>(sender);
        self->monitor(sender);
      }
      auto rp = waiters_.add(self);
      start();
      return rp;
    }
    return waiters_.add(self);
  }

  void opened(const pipe_info& info) {
    info_ = info;
    waiters_.deliver_all(info);
  }

  void failed(const caf::error& err) { waiters_.deliver_all(err); }

  const std::optional<pipe_info>& info() const { return info_; }

  /// Whether `a` is the owner (the first opener).
  bool owned_by(const caf::actor_addr& a) const { return owner_ && a == owner_; }

private:
  bool started_ = false;
  std::optional<pipe_info> info_;
  waiters waiters_;
  caf::actor_addr owner_;
};

} // namespace p2pd::actors
