// The node as a supervisor: its interface actors, signal node and daemon are
// monitored (not linked: a child killed outright must not take the node with
// it), restarted one-for-one with backoff within the spec's restart budget,
// and past the budget the node ends with a reason that names the child.
#include "p2pd/node/node_state.hpp"

#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/daemon/daemon_actor.hpp"
#include "p2pd/actors/interface/interface_actor.hpp"
#include "p2pd/actors/ntp/ntp_clock.hpp"
#include "p2pd/actors/signal/node/signal_node.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::node {

namespace {

// Requests to our own children answer at once; this only bounds a lost one.
constexpr auto child_timeout = timeouts::node_child;

child* find_child(node_state& st, const caf::actor_addr& who) {
  for (auto& c : st.children)
    if (c.hdl && c.hdl.address() == who)
      return &c;
  return nullptr;
}

// Registers a freshly started child (or its restart) and watches it.
size_t adopt(node_actor_ptr self, child_kind kind, size_t index, std::string name,
             caf::actor hdl) {
  auto& st = self->state;
  if (hdl)
    self->monitor(hdl);
  for (size_t i = 0; i < st.children.size(); ++i) {
    auto& c = st.children[i];
    if (c.kind == kind && c.index == index) {
      c.hdl = std::move(hdl);
      return i;
    }
  }
  child c;
  c.kind = kind;
  c.index = index;
  c.name = std::move(name);
  c.hdl = std::move(hdl);
  c.budget = actors::restart_budget{st.spec.policy};
  st.children.push_back(std::move(c));
  return st.children.size() - 1;
}

// Child `which` failed: restarted after its backoff, or, past its budget,
// the node ends with a reason that names it.
void child_failed(node_actor_ptr self, size_t which, const caf::error& reason) {
  auto& st = self->state;
  auto& c = st.children[which];
  // An interface that is not there at start is the spec's mistake, not a
  // fault a restart could mend: the start fails at once with the reason.
  if (c.kind == child_kind::interface && c.index < st.loaded.size() && !st.loaded[c.index]
      && code_of(reason) == errc::interface_not_found)
    return fail_node(self, make_error(errc::interface_not_found,
                                      "the node cannot start its " + c.name + ": "
                                        + render(reason)));
  auto delay = c.budget.on_failure(self->clock().now());
  if (!delay) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.policy.period);
    return fail_node(self, make_error(errc::child_failed,
                                 "the node's " + c.name + " failed more than "
                                   + std::to_string(st.spec.policy.intensity)
                                   + " times within " + std::to_string(ms.count())
                                   + " ms (last: " + render(reason) + ")"));
  }
  ++st.stats.child_restarts;
  st.progress(c.name + " failed (" + render(reason) + "); restarting it");
  // A plain delayed message, though it holds the node until it fires: the
  // wait is at most restart_policy::max_backoff.
  self->delayed_send(self, *delay, restart_atom::value, static_cast<uint64_t>(which));
}

// Our signal node learns about us and comes online; offline signalling is
// no reason to stop (direct connects work), so it only shows in progress.
void join_signal(node_actor_ptr self) {
  auto& st = self->state;
  auto sig = st.signal;
  self->request(sig, child_timeout, caf::subscribe_atom::value,
                caf::actor_cast<caf::actor>(self))
    .then([](caf::ok_atom) {},
          [=](caf::error& err) {
            // The child is watched: if it died, the down message restarts it.
            self->state.progress("signal node refused our subscription: " + render(err));
          });
  self->request(sig, child_timeout, online_atom::value, uint32_t{1})
    .then(
      [=](caf::ok_atom) {
        self->state.signal_online = true;
        self->state.progress("signalling online");
        self->state.check_ready();
      },
      [=](caf::error& err) {
        self->state.progress("signalling offline: " + render(err));
        self->state.signal_online = true;
        self->state.check_ready();
      });
}

} // namespace

void start_signal(node_actor_ptr self) {
  auto& st = self->state;
  if (!st.signal) {
    auto sig = spawn_signal_node(self->home_system(), st.signal_spec);
    if (!sig) {
      auto which = adopt(self, child_kind::signal, 0, "signal node", caf::actor{});
      return child_failed(self, which, sig.error());
    }
    st.signal = *sig;
  }
  adopt(self, child_kind::signal, 0, "signal node", caf::actor_cast<caf::actor>(st.signal));
  join_signal(self);
}

void start_daemon(node_actor_ptr self) {
  auto& st = self->state;
  auto& spec = st.spec;
  daemon_spec d;
  d.tls_context = st.tls_server;
  d.length_prefixed = true;
  d.stack = spec.stack;
  d.conf.reader_limit = static_cast<uint32_t>(spec.max_message + 4);
  d.conf.max_clients = spec.max_connections;
  d.conf.keep_alive = spec.keep_alive;
  d.policy = spec.policy;
  d.subscribers.push_back({caf::actor_cast<caf::actor>(self),
                           events::up | events::msgs | events::end});
  d.lock_ports = false; // many nodes of one process may share a data directory
  d.data_dir = spec.data_dir;
  st.daemon = spawn_daemon(self->home_system(), std::move(d));
  adopt(self, child_kind::daemon, 0, "daemon", caf::actor_cast<caf::actor>(st.daemon));
}

void start_interface(node_actor_ptr self, size_t i, std::string name) {
  auto& st = self->state;
  auto is = st.spec.iface;
  is.name = name;
  is.stack = st.spec.stack;
  auto hdl = spawn_interface(self->home_system(), std::move(is));
  st.ifaces[i] = hdl;
  auto which = adopt(self, child_kind::interface, i,
                     "interface " + (name.empty() ? std::string{"(default)"} : name),
                     caf::actor_cast<caf::actor>(hdl));
  st.children[which].iface = name;
  // No timeout: the first load waits for NAT tests, which have their own.
  self->request(hdl, caf::infinite, ready_atom::value)
    .then([=](interface_snapshot& snap) {
            interface_loaded(self, i, snap);
            // Its later refreshes too: the address follows the external
            // addresses and NATs it finds, and the names the node holds
            // follow the address (node_names.cpp).
            caf::anon_send(hdl, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(self));
          },
          [=](caf::error& err) {
            // A failed load ends the interface actor: its down message
            // counts the failure and restarts it.
            self->state.progress("interface " + name + " failed to load: " + render(err));
            self->send_exit(hdl, err);
          });
}

void start_clock(node_actor_ptr self) {
  auto& st = self->state;
  if (!st.spec.clock || (st.spec.clock->servers.empty() && st.spec.clock->endpoints.empty()))
    return;
  auto cs = *st.spec.clock;
  cs.stack = st.spec.stack;
  auto clk = spawn_ntp_clock(self->home_system(), std::move(cs));
  if (!clk) {
    auto which = adopt(self, child_kind::clock, 0, "NTP clock", caf::actor{});
    return child_failed(self, which, clk.error());
  }
  st.clock = *clk;
  st.clock_estimate.reset(); // a restarted clock measures anew
  adopt(self, child_kind::clock, 0, "NTP clock", caf::actor_cast<caf::actor>(st.clock));
  fetch_clock(self);
}

void fetch_clock(node_actor_ptr self) {
  auto& st = self->state;
  if (!st.clock || !st.spec.clock)
    return;
  auto clk = st.clock;
  // The first answer comes once the first measurement is done.
  auto wait = st.spec.clock->measurement_time() + st.spec.clock->reply_timeout;
  self->request(clk, wait, caf::get_atom::value)
    .then(
      [=](clock_offset& c) {
        auto& st = self->state;
        if (st.clock != clk)
          return; // restarted meanwhile
        st.clock_estimate = c;
        // Cheap (answered from the clock's last estimate); often enough to
        // follow its refreshes closely.
        self->delayed_send(self, clock_fetch_interval, clock_fetch_atom::value);
      },
      [=](caf::error&) {
        // The clock is down (its supervision restarts it) or measured
        // nothing yet: ask again later; punches go without NTP time.
        if (self->state.clock == clk)
          self->delayed_send(self, clock_fetch_interval, clock_fetch_atom::value);
      });
}

void on_child_down(node_actor_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto* c = find_child(st, dm.source);
  if (c == nullptr || st.life.closing())
    return;
  auto which = static_cast<size_t>(c - st.children.data());
  auto reason = dm.reason ? dm.reason
                          : make_error(errc::io_failed, "it ended by itself");
  c->hdl = nullptr;
  switch (c->kind) {
    case child_kind::signal:
      st.signal = nullptr;
      break;
    case child_kind::daemon: {
      // Its listeners (and the peers connected to them) went with it.
      st.daemon = nullptr;
      st.listeners.clear();
      std::vector<node_connection> gone;
      for (auto i = st.links.begin(); i != st.links.end();)
        if (i->second.conn.inbound) {
          gone.push_back(i->second.conn);
          i = st.links.erase(i);
        } else {
          ++i;
        }
      for (auto i = st.hellos.begin(); i != st.hellos.end();)
        if (st.own_clients.count(i->second.pipe.address()) == 0)
          i = st.hellos.erase(i);
        else
          ++i;
      st.stats.connections = static_cast<uint32_t>(st.links.size());
      for (auto& g : gone)
        st.notify(caf::make_message(node_peer_end{g.peer, g.pipe, g.remote, reason}));
      break;
    }
    case child_kind::interface:
      st.ifaces[c->index] = nullptr;
      break;
    case child_kind::clock:
      st.clock = nullptr;
      break;
  }
  child_failed(self, which, reason);
}

void restart_child(node_actor_ptr self, size_t which) {
  auto& st = self->state;
  if (st.life.closing() || which >= st.children.size() || st.children[which].hdl)
    return;
  auto& c = st.children[which];
  ++c.restarts;
  switch (c.kind) {
    case child_kind::signal:
      start_signal(self);
      break;
    case child_kind::daemon:
      start_daemon(self);
      // Back on the node's port, not a new one: peers hold our address.
      if (st.listening)
        listen(self, st.port, false);
      break;
    case child_kind::interface:
      start_interface(self, c.index, c.iface);
      break;
    case child_kind::clock:
      start_clock(self);
      break;
  }
  if (st.children[which].hdl)
    st.progress(st.children[which].name + " restarted");
}

} // namespace p2pd::node
