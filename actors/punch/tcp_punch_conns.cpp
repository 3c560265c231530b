// A TCP punch's connections: what comes up and ends on its pipes, and
// keep(), which gives one to the owner and closes the rest.
#include <algorithm>

#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/punch/detail/tcp_punch_core.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd {

bool tcp_punch::core::up(const pipe_up& x) {
  auto a = x.pipe.address();
  if (kept_listener_ && x.pipe == kept_listener_) {
    if (x.peer == kept_remote_)
      return false;
    caf::anon_send(x.pipe, caf::close_atom::value, x.peer); // came up after keep()
    return true;
  }
  if (retired(a))
    return true;
  if (listener_ && x.pipe == listener_) {
    if (ph == phase::done)
      return true;
    ++stats.accepted;
    ++stats.connected;
    tcp_punch_conn conn{listener_, local, x.peer, x.peer_node, true};
    accepted_.push_back(conn);
    if (cbs.on_connected)
      cbs.on_connected(conn); // last
    return true;
  }
  return find_client(a) != clients_.end(); // reported by its open's answer
}

bool tcp_punch::core::end(const pipe_end& x) {
  auto a = x.pipe.address();
  if (kept_listener_ && x.pipe == kept_listener_)
    return !x.whole && x.peer != kept_remote_; // the others keep() closed
  if (retired(a))
    return true;
  auto hold = shared_from_this();
  if (listener_ && x.pipe == listener_) {
    if (x.whole) {
      listener_gone(x.reason);
      return true;
    }
    auto j = std::find_if(accepted_.begin(), accepted_.end(),
                          [&](const tcp_punch_conn& c) { return c.remote == x.peer; });
    if (j == accepted_.end()) {
      // Never up: its handshake failed (a wrong node is counted) or the
      // peer gave it up.
      auto code = code_of(x.reason);
      if (code == errc::tls_verify_failed || code == errc::tls_failed)
        count(x.reason);
      return true;
    }
    auto conn = *j;
    accepted_.erase(j);
    lose(conn, x.reason);
    if (ph != phase::done)
      check_over();
    return true;
  }
  auto i = find_client(a);
  if (i == clients_.end())
    return false;
  if (x.whole && i->up) {
    auto conn = i->conn;
    clients_.erase(i);
    retire(a);
    lose(conn, x.reason);
    if (ph != phase::done)
      check_over();
  }
  return true; // one still opening is counted by its open's answer
}

void tcp_punch::core::lose(const tcp_punch_conn& conn, const caf::error& reason) {
  ++stats.lost;
  note(reason);
  if (cbs.on_lost)
    cbs.on_lost(conn, reason);
}

caf::error tcp_punch::core::keep(const pipe_actor& pipe, const endpoint& remote) {
  if (ph == phase::done)
    return make_error(errc::pipe_closed, "the TCP punch is over");
  auto i = find_client(pipe.address());
  bool client = i != clients_.end() && i->up;
  bool accepted = !client && listener_ && pipe == listener_
                  && std::any_of(accepted_.begin(), accepted_.end(),
                                 [&](const tcp_punch_conn& c) { return c.remote == remote; });
  if (!client && !accepted)
    return make_error(errc::unknown_peer, "the TCP punch has no connection up to "
                                            + remote.to_string() + " on that pipe");
  ph = phase::done;
  ++seq_; // no more rounds
  for (auto& a : clients_)
    if (a.pipe != pipe)
      close_pipe(a.pipe);
  clients_.clear();
  if (accepted) {
    // The listener holds the connection: its other connections go, those up
    // and (asked for, since they never said so) those still in a handshake.
    for (auto& c : accepted_)
      if (c.remote != remote) {
        caf::anon_send(listener_, caf::close_atom::value, c.remote);
        ++stats.closed;
      }
    kept_listener_ = listener_;
    kept_remote_ = remote;
    auto l = listener_;
    self->request(l, timeouts::until_answered, clients_atom::value)
      .then(
        [l, remote](std::vector<endpoint>& peers) {
          for (auto& p : peers)
            if (p != remote)
              caf::anon_send(l, caf::close_atom::value, p);
        },
        [](caf::error&) {}); // the pipe ended: nothing left to close
    listener_ = nullptr;
  } else if (listener_) {
    close_pipe(listener_);
    listener_ = nullptr;
  }
  accepted_.clear();
  return caf::none;
}

void tcp_punch::core::cancel() {
  close_all();
}

void tcp_punch::core::close_pipe(const pipe_actor& pipe) {
  // anon_send: the pipe's ok must not come back as an unexpected message.
  caf::anon_send(pipe, caf::close_atom::value);
  retire(pipe.address());
  ++stats.closed;
}

void tcp_punch::core::close_all() {
  ph = phase::done;
  ++seq_;
  for (auto& a : clients_)
    close_pipe(a.pipe);
  clients_.clear();
  if (listener_)
    close_pipe(listener_);
  listener_ = nullptr;
  accepted_.clear();
}

} // namespace p2pd
