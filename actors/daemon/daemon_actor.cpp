#include "p2pd/actors/daemon/daemon_actor.hpp"

#include <memory>

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/daemon/detail/daemon_state.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/util/data_dir.hpp"

namespace p2pd::actors {

namespace {

using restart_atom = caf::atom_constant<caf::atom("p2restart")>;

std::string describe(const listen_addr& a) {
  return std::string{net::to_string(a.proto)} + " " + a.local.to_string();
}

pipe_spec listener_spec(const daemon_spec& d, const listen_addr& a) {
  pipe_spec s;
  s.proto = a.proto;
  s.local = a.local;
  s.conf = d.conf;
  // No SO_REUSEPORT unless the user asked for it: with it, a second daemon
  // (another data directory, so another set of port locks) would bind the
  // same port silently and the kernel would split the clients between them.
  // A restart binds at once all the same: TCP listeners set SO_REUSEADDR,
  // and UDP has no TIME_WAIT.
  s.on_msg = d.on_msg;
  s.subscribers = d.subscribers;
  if (a.proto == net::protocol::tcp) {
    s.tls = d.tls;
    s.tls_context = d.tls_context;
    s.length_prefixed = d.length_prefixed;
  } else
    s.conf.use_ssl = false; // TLS is for the TCP listeners
  return s;
}

// Opens one listener pipe owned by the daemon; `done` gets its info or error.
template <class F>
void open_listener(daemon_ptr self, const listen_addr& a, F done) {
  auto spec = listener_spec(self->state.spec, a);
  auto timeout = open_timeout(spec);
  auto& stack = self->state.spec.stack;
  auto p = stack ? stack->spawn_pipe(self->home_system(), std::move(spec))
                 : spawn_pipe(self->home_system(), std::move(spec));
  self->request(p, timeout, caf::open_atom::value)
    .then([done](pipe_info& info) mutable { done(std::move(info), caf::error{}); },
          [done, a](caf::error& err) mutable {
            done(pipe_info{}, make_error(code_of(err) != errc::none ? code_of(err)
                                                                     : errc::io_failed,
                                         "listener " + describe(a) + ": " + render(err)));
          });
}

// Closes pipes and calls `done` once all have answered.
template <class F>
void close_all(daemon_ptr self, const std::vector<pipe_actor>& pipes, F done) {
  if (pipes.empty()) {
    done();
    return;
  }
  auto left = std::make_shared<size_t>(pipes.size());
  for (auto& p : pipes)
    self->request(p, timeouts::listener_close, caf::close_atom::value)
      .then([left, done](caf::ok_atom) mutable {
              if (--*left == 0)
                done();
            },
            [left, done](caf::error&) mutable {
              if (--*left == 0)
                done(); // gone already
            });
}

using lock_ptr = std::shared_ptr<net::port_lock>;

// Locks one listen address; port 0 is locked once bound.
net::result<lock_ptr> lock_port(daemon_ptr self, const listen_addr& a) {
  auto& st = self->state;
  if (!st.spec.lock_ports || a.local.port == 0)
    return lock_ptr{};
  if (!st.lock_dir)
    return st.lock_dir.error();
  auto lk = net::port_lock::acquire_in(*st.lock_dir, a.local.fam(), a.proto, a.local.ip,
                                       a.local.port);
  if (!lk)
    return lk.error();
  return std::make_shared<net::port_lock>(std::move(*lk));
}

void add_listener(daemon_ptr self, const listen_addr& requested, const pipe_info& info,
                  lock_ptr lock) {
  auto& st = self->state;
  auto id = st.next_id++;
  auto& l = st.listeners.emplace(id, daemon_state::listener{id, requested, info.pipe,
                                                             restart_budget{st.spec.policy},
                                                             false, 0, {}, std::move(lock)})
              .first->second;
  l.addr.local = info.local; // the real port: a restart binds it again
  st.by_pipe[info.pipe.address()] = id;
  self->monitor(info.pipe);
}

void finish_if_closed(daemon_ptr self) {
  auto& st = self->state;
  if (!st.life.closing() || !st.listeners.empty())
    return;
  st.life.closed();
  self->quit();
}

void on_failure(daemon_ptr self, daemon_state::listener& l) {
  auto& st = self->state;
  if (st.life.closing() || l.stopping)
    return;
  auto delay = l.budget.on_failure(self->clock().now());
  if (!delay) {
    auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.policy.period);
    self->quit(make_error(errc::listener_failed,
                          "listener " + describe(l.addr) + " failed more than "
                            + std::to_string(st.spec.policy.intensity) + " times within "
                            + std::to_string(secs.count()) + " ms (last: "
                            + render(l.last_failure) + "); the daemon gives up"));
    return;
  }
  // A plain delayed message, though it holds the daemon until it fires: the
  // wait is at most restart_policy::max_backoff.
  self->delayed_send(self, *delay, restart_atom::value, l.id);
}

void restart(daemon_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.listeners.find(id);
  if (st.life.closing() || i == st.listeners.end() || i->second.stopping)
    return;
  open_listener(self, i->second.addr, [self, id](pipe_info info, caf::error err) {
    auto& st = self->state;
    auto j = st.listeners.find(id);
    if (j == st.listeners.end() || j->second.stopping || st.life.closing()) {
      if (!err)
        self->send_exit(info.pipe, caf::exit_reason::user_shutdown);
      return;
    }
    auto& l = j->second;
    if (err) {
      l.last_failure = err;
      on_failure(self, l);
      return;
    }
    l.pipe = info.pipe;
    ++l.restarts;
    st.by_pipe[info.pipe.address()] = id;
    self->monitor(info.pipe);
  });
}

} // namespace

listener_info daemon_state::info(const listener& l) const {
  return listener_info{l.id, l.addr.proto, l.addr.local, l.pipe, l.restarts};
}

std::vector<listener_info> daemon_state::infos() const {
  std::vector<listener_info> out;
  for (auto& kvp : listeners)
    if (!kvp.second.stopping)
      out.push_back(info(kvp.second));
  return out;
}

caf::behavior daemon_behavior(daemon_ptr self, daemon_spec spec) {
  self->state.spec = std::move(spec);
  if (self->state.spec.lock_ports) {
    // The directory is checked once; each lock is then one open() + flock().
    auto dir = net::open_data_dir(self->state.spec.data_dir);
    self->state.lock_dir = dir ? net::port_lock::open_lock_dir(*dir) : dir;
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.by_pipe.find(dm.source);
    if (i == st.by_pipe.end())
      return;
    auto id = i->second;
    st.by_pipe.erase(i);
    auto& l = st.listeners.at(id);
    l.last_failure = dm.reason ? dm.reason
                               : make_error(errc::io_failed, "the listener ended by itself");
    on_failure(self, l);
  });
  return {
    [self](listen_atom, std::vector<listen_addr>& addrs)
      -> caf::result<std::vector<listener_info>> {
      auto& st = self->state;
      if (st.life.closing())
        return make_error(errc::pipe_closed, "the daemon is closing");
      if (auto err = net::check_listen_specific(addrs))
        return make_error(err);
      struct batch {
        std::vector<listen_addr> addrs;
        std::vector<pipe_info> opened;
        std::vector<lock_ptr> locks;
        size_t pending;
        caf::error err;
        caf::response_promise rp;
      };
      auto b = std::make_shared<batch>();
      b->addrs = std::move(addrs);
      b->opened.resize(b->addrs.size());
      // Fixed ports are locked before binding, so that a process of the same
      // data directory holding one is named (with reuse_addr, SO_REUSEPORT
      // would even let it bind).
      for (auto& a : b->addrs) {
        auto lk = lock_port(self, a);
        if (!lk)
          return make_error(lk.error()); // the locks taken so far go with `b`
        b->locks.push_back(std::move(*lk));
      }
      b->pending = b->addrs.size();
      b->rp = self->make_response_promise();
      for (size_t i = 0; i < b->addrs.size(); ++i)
        open_listener(self, b->addrs[i], [self, b, i](pipe_info info, caf::error err) {
          if (err && !b->err)
            b->err = std::move(err);
          else if (!err)
            b->opened[i] = std::move(info);
          if (--b->pending > 0)
            return;
          if (b->err || self->state.life.closing()) {
            // All or nothing: no half-started set of listeners stays behind.
            std::vector<pipe_actor> started;
            for (auto& o : b->opened)
              if (o.pipe)
                started.push_back(o.pipe);
            auto err = b->err ? b->err : make_error(errc::pipe_closed, "the daemon is closing");
            close_all(self, started, [b, err] {
              b->locks.clear(); // released before the caller learns of the failure
              b->rp.deliver(err);
            });
            return;
          }
          // Ports the kernel chose are locked now that they are known.
          for (size_t k = 0; k < b->addrs.size(); ++k) {
            if (b->locks[k])
              continue;
            auto lk = lock_port(self, listen_addr{b->addrs[k].proto, b->opened[k].local});
            if (!lk) {
              std::vector<pipe_actor> started;
              for (auto& o : b->opened)
                started.push_back(o.pipe);
              auto err = make_error(lk.error());
              close_all(self, started, [b, err] {
              b->locks.clear(); // released before the caller learns of the failure
              b->rp.deliver(err);
            });
              return;
            }
            b->locks[k] = std::move(*lk);
          }
          std::vector<listener_info> out;
          for (size_t k = 0; k < b->addrs.size(); ++k) {
            add_listener(self, b->addrs[k], b->opened[k], std::move(b->locks[k]));
            out.push_back(self->state.info(self->state.listeners.rbegin()->second));
          }
          b->rp.deliver(std::move(out));
        });
      return b->rp;
    },
    [self](listeners_atom) { return self->state.infos(); },
    [self](caf::delete_atom, uint64_t id) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      auto i = st.listeners.find(id);
      if (i == st.listeners.end() || i->second.stopping)
        return make_error(errc::unknown_peer, "no listener " + std::to_string(id));
      i->second.stopping = true;
      st.by_pipe.erase(i->second.pipe.address());
      auto rp = self->make_response_promise();
      close_all(self, {i->second.pipe}, [self, id, rp]() mutable {
        self->state.listeners.erase(id);
        rp.deliver(caf::ok_atom::value);
        finish_if_closed(self);
      });
      return rp;
    },
    [self](caf::close_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      auto rp = st.life.wait_close(self); // answered once closed
      if (!st.life.begin_close())
        return rp; // a close is under way
      std::vector<pipe_actor> pipes;
      for (auto& kvp : st.listeners) {
        if (kvp.second.stopping)
          continue; // its delete is under way
        kvp.second.stopping = true;
        st.by_pipe.erase(kvp.second.pipe.address());
        pipes.push_back(kvp.second.pipe);
      }
      close_all(self, pipes, [self] {
        auto& st = self->state;
        for (auto i = st.listeners.begin(); i != st.listeners.end();)
          i = i->second.stopping ? st.listeners.erase(i) : std::next(i);
        finish_if_closed(self);
      });
      return rp;
    },
    [self](restart_atom, uint64_t id) { restart(self, id); },
  };
}

} // namespace p2pd::actors

namespace p2pd {

daemon_actor spawn_daemon(caf::actor_system& sys, daemon_spec spec) {
  return caf::actor_cast<daemon_actor>(sys.spawn(actors::daemon_behavior, std::move(spec)));
}

} // namespace p2pd
