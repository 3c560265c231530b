#pragma once

// A small actor that holds a tcp_punch in its state, as the node will: it
// hands the punch its ticks and its pipes' events, keeps the first
// connection that comes up (if told to), and reports every callback to an
// observer (the test's scoped actor) as a probe_event.

#include <dirent.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/all.hpp"

#include "p2pd/actors/punch/tcp_punch.hpp"
#include "p2pd/messages/errors.hpp"

#include "support/actors.hpp"

namespace p2pd::test {

/// What a probe tells its observer.
struct probe_event {
  std::string what; ///< "connected", "kept", "failed", "lost", "start", "msg", "end"
  tcp_punch_conn conn;
  caf::error err;
  tcp_punch_stats stats;
  std::string data; ///< "msg": what arrived on the kept connection
};

} // namespace p2pd::test

// Local messages of the tests only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::test::probe_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::tcp_punch_stats)

namespace p2pd::test {

struct probe_state {
  std::unique_ptr<tcp_punch> punch;
  std::optional<tcp_punch_conn> kept;
  std::vector<tcp_punch_conn> ups; ///< as on_connected told them
  static inline const char* name = "tcp_punch_probe";
};

/// Which connection a probe keeps: none, the first up (the TLS client's
/// rule), or the one the first message comes on (the TLS server's).
enum class keep_rule { never, first_up, first_message };

/// Sends `text` on the probe's kept connection.
using say_atom = caf::atom_constant<caf::atom("p2tsay")>;
/// Calls keep(pipe, remote) and answers with what it returned, rendered.
using keep_atom = caf::atom_constant<caf::atom("p2tkeep")>;

inline caf::behavior punch_probe(caf::stateful_actor<probe_state>* self, caf::actor observer,
                                 tcp_punch_spec spec, keep_rule rule) {
  auto tell = [self, observer](probe_event e) {
    if (self->state.punch)
      e.stats = self->state.punch->stats();
    self->send(observer, std::move(e));
  };
  spec.events = events::msgs;
  tcp_punch_callbacks cbs;
  auto keep = [self, tell](const tcp_punch_conn& c) {
    auto err = self->state.punch->keep(c.pipe, c.remote);
    if (!err)
      self->state.kept = c;
    tell({"kept", c, err, {}, {}});
  };
  cbs.on_connected = [self, tell, keep, rule](const tcp_punch_conn& c) {
    tell({"connected", c, {}, {}, {}});
    self->state.ups.push_back(c);
    if (rule == keep_rule::first_up && !self->state.kept)
      keep(c);
  };
  cbs.on_failed = [tell](const caf::error& err) { tell({"failed", {}, err, {}, {}}); };
  cbs.on_lost = [tell](const tcp_punch_conn& c, const caf::error& err) {
    tell({"lost", c, err, {}, {}});
  };
  self->state.punch = std::make_unique<tcp_punch>(self, 1, std::move(spec), std::move(cbs));
  if (auto err = self->state.punch->start())
    tell({"start", {}, err, {}, {}});
  self->set_default_handler(caf::drop);
  return {
    [self](const tcp_punch_tick& t) { self->state.punch->on_tick(t); },
    [self](const pipe_up& x) { self->state.punch->on_up(x); },
    [self, tell](const pipe_end& x) {
      if (!self->state.punch->on_end(x))
        tell({"end", {}, x.reason, {}, {}}); // the kept connection's
    },
    [self, tell, keep, rule](const pipe_msg& m) {
      if (self->state.punch->owns(m.pipe)) {
        // A message on a connection not kept: the peer's choice.
        if (rule != keep_rule::first_message || self->state.kept)
          return;
        auto& ups = self->state.ups;
        auto i = std::find_if(ups.begin(), ups.end(), [&](const tcp_punch_conn& c) {
          return c.pipe == m.pipe && c.remote == m.from;
        });
        if (i != ups.end())
          keep(*i);
      }
      tell({"msg", self->state.kept.value_or(tcp_punch_conn{}), {}, {}, to_string(m.data)});
    },
    [self](say_atom, const std::string& text) {
      auto& k = self->state.kept;
      if (!k)
        return;
      if (k->accepted)
        caf::anon_send(k->pipe, send_atom::value, to_bytes(text), k->remote);
      else
        caf::anon_send(k->pipe, send_atom::value, to_bytes(text));
    },
    [self](stats_atom) { return caf::make_message(self->state.punch->stats()); },
    [self](caf::close_atom) { self->state.punch->cancel(); },
    [self](keep_atom, const pipe_actor& pipe, const endpoint& remote) {
      return render(self->state.punch->keep(pipe, remote));
    },
  };
}

/// Whether a socket of this process is bound to `local`, in any state. A
/// closed listener stops listening at once but its descriptor goes a loop
/// round later: counting descriptors waits for this instead.
inline bool socket_bound_to(const net::endpoint& local) {
  bool found = false;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (auto* e = ::readdir(dir)) {
      if (e->d_name[0] == '.')
        continue;
      int type = 0;
      socklen_t len = sizeof(type);
      int fd = std::atoi(e->d_name);
      if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        continue;
      if (auto ep = net::local_endpoint(fd); ep && *ep == local)
        found = true;
    }
    ::closedir(dir);
  }
  return found;
}

/// Waits up to `timeout` for a probe_event `what` on `self`, skipping others.
inline std::optional<probe_event> next_event(caf::scoped_actor& self, const std::string& what,
                                             caf::timespan timeout = std::chrono::seconds(10)) {
  std::optional<probe_event> out;
  receive_until<probe_event>(self, timeout, [&](probe_event& e) {
    if (e.what != what)
      return false;
    out = std::move(e);
    return true;
  });
  return out;
}

} // namespace p2pd::test
