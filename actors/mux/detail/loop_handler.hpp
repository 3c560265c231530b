#pragma once

#include "caf/intrusive_ptr.hpp"
#include "caf/io/network/default_multiplexer.hpp"
#include "caf/io/network/event_handler.hpp"

namespace p2pd::actors::mux {

/// The event handler of one of our servants: forwards socket events to
/// `Parent::on_event(operation)` and keeps the parent alive while the
/// multiplexer may still reference the handler.
///
/// default_multiplexer::add/del only queue a change that is applied after
/// the current epoll batch, when removed_from_loop() is called; an add and a
/// del of one operation within a batch cancel out without that call. So the
/// reference is dropped on either path, and only in the next loop iteration,
/// never while a member of the parent is running.
template <class Parent>
class loop_handler final : public caf::io::network::event_handler {
public:
  using operation = caf::io::network::operation;

  loop_handler(caf::io::network::default_multiplexer& dm, int fd, Parent& parent)
    : event_handler(dm, fd), parent_(parent) {}

  void handle_event(operation op) override { parent_.on_event(op); }
  void removed_from_loop(operation) override { release_if_idle(); }
  void graceful_shutdown() override { want(operation::read, false); }

  /// Registers for `op` or unregisters from it.
  void want(operation op, bool on) {
    bool& flag = op == operation::read ? read_ : write_;
    if (flag == on)
      return;
    flag = on;
    if (on) {
      if (!keep_alive_)
        keep_alive_.reset(&parent_);
      backend().add(op, fd(), this);
    } else {
      backend().del(op, fd(), this);
      release_if_idle();
    }
  }

  bool wants(operation op) const { return op == operation::read ? read_ : write_; }

  /// After EPOLLERR/EPOLLHUP the multiplexer unregisters the socket itself.
  void forget() { read_ = write_ = false; }

private:
  void release_if_idle() {
    if (!keep_alive_ || read_ || write_ || eventbf() != 0)
      return;
    auto ref = std::move(keep_alive_);
    backend().post([ref] {});
  }

  Parent& parent_;
  bool read_ = false;
  bool write_ = false;
  caf::intrusive_ptr<Parent> keep_alive_;
};

} // namespace p2pd::actors::mux
