#include "p2pd/node/node_actor.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/actors/punch/tcp_punch.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/node/node_state.hpp"
#include "p2pd/proto/envelope_codec.hpp"

namespace p2pd {

namespace node {

namespace {

void idle_timer(node_actor_ptr self) {
  auto& st = self->state;
  if (st.spec.idle_timeout.count() <= 0)
    return;
  // A weak timer: a node nobody holds ends; a delayed_send would keep it.
  st.idle_timer = actors::start_weak_timer(self->home_system(), caf::weak_actor_ptr{self->ctrl()},
                                           st.spec.idle_timeout / 4,
                                           caf::make_message(idle_tick_atom::value));
}

// Closes every connection, the listeners, the signal node and the interface
// actors, in that order, then answers every close request and ends.
void close_node(node_actor_ptr self) {
  auto& st = self->state;
  if (st.idle_timer) {
    // The timer is an actor of its own; the system would wait for it.
    self->send_exit(st.idle_timer, caf::exit_reason::user_shutdown);
    st.idle_timer = nullptr;
  }
  for (auto& kvp : st.jobs) {
    kvp.second->done = true;
    for (auto& w : kvp.second->waiters)
      w.deliver(make_error(errc::pipe_closed, "the node is closing"));
    for (auto& p : kvp.second->pipes)
      caf::anon_send(p, caf::close_atom::value);
  }
  st.jobs.clear();
  end_punches(self);
  end_names(self);
  // Our links' own pipes are waited for, not only told: a datagram link
  // sends its peer a sealed close through its socket, which for a relayed
  // link is a TURN pipe that ends with us; ended first, it took the close
  // with it and the peer waited out its idle timeout (seen in the lab
  // matrix under load).
  std::vector<pipe_actor> own;
  for (auto& kvp : st.links)
    if (!kvp.second.conn.inbound
        && std::find(own.begin(), own.end(), kvp.second.conn.pipe) == own.end())
      own.push_back(kvp.second.conn.pipe);
  st.links.clear();
  st.hellos.clear();
  for (auto& w : st.ready_waiters)
    w.deliver(make_error(errc::pipe_closed, "the node closed before it was ready"));
  st.ready_waiters.clear();
  auto left = std::make_shared<int>(3 + static_cast<int>(own.size()));
  auto done = [=]() mutable {
    if (--*left > 0)
      return;
    auto& st = self->state;
    for (auto& c : st.children)
      if ((c.kind == child_kind::interface || c.kind == child_kind::clock) && c.hdl)
        self->send_exit(c.hdl, caf::exit_reason::user_shutdown);
    st.children.clear();
    st.life.closed();
    self->quit();
  };
  auto close = [=](caf::actor hdl) mutable {
    if (!hdl)
      return done(); // down and not restarted yet
    self->request(hdl, timeouts::node_close, caf::close_atom::value)
      .then([=](caf::ok_atom) mutable { done(); },
            [=](caf::error&) mutable {
              // It hangs: it ends anyway.
              self->send_exit(hdl, caf::exit_reason::kill);
              done();
            });
  };
  for (auto& p : own)
    close(caf::actor_cast<caf::actor>(p));
  close(caf::actor_cast<caf::actor>(st.daemon));
  close(caf::actor_cast<caf::actor>(st.signal));
  close_port_mapping(self, [=]() mutable { done(); }); // each mapper deletes its mappings
}

} // namespace

void fail_node(node_actor_ptr self, caf::error err) {
  auto& st = self->state;
  for (auto& rp : st.ready_waiters)
    rp.deliver(err);
  st.ready_waiters.clear();
  for (auto& kvp : st.jobs)
    for (auto& w : kvp.second->waiters)
      w.deliver(err);
  self->quit(std::move(err));
}

node_state::~node_state() {
  if (idle_timer)
    caf::anon_send_exit(idle_timer, caf::exit_reason::user_shutdown);
  // Empty after an orderly close; after a failure, what the node started
  // ends with it (children are monitored, not linked).
  for (auto& c : children)
    if (c.hdl)
      caf::anon_send_exit(c.hdl, caf::exit_reason::user_shutdown);
  if (names)
    caf::anon_send_exit(names, caf::exit_reason::user_shutdown);
  for (auto& kvp : held)
    if (kvp.second.timer)
      caf::anon_send_exit(kvp.second.timer, caf::exit_reason::user_shutdown);
}

} // namespace node

caf::expected<node_actor> spawn_node(caf::actor_system& sys, node_spec spec) {
  using namespace node;
  auto ready = std::make_shared<node_state>();
  if (auto err = prepare_node(spec, *ready, sys))
    return err;
  ready->spec = std::move(spec);
  // The prepared state goes in as a spawn argument, not a capture: CAF
  // 0.17 binds a spawn without arguments to a null tuple pointer, which
  // UBSan reports (reference binding to null) in init_fun_factory.
  auto hdl = sys.spawn([](caf::stateful_actor<node_state>* self,
                          std::shared_ptr<node_state> ready) -> caf::behavior {
    auto& st = self->state;
    auto me = st.self;
    st = std::move(*ready);
    st.self = me;
    ready->children.clear();
    self->set_down_handler([self](caf::down_msg& dm) { on_child_down(self, dm); });
    start_node(self);
    idle_timer(self);
    // Sends to pipes and the signal node are anonymous, so no answer comes
    // back; should one (or anything unexpected) arrive anyway, it is
    // dropped: CAF 0.17's defaults would answer an error, which ends an
    // actor that does not expect it, and a stray error would end the node.
    self->set_default_handler(caf::drop);
    self->set_error_handler([](caf::error&) {});
    return {
      // The typed interface (node_actor).
      [=](ready_atom) -> caf::result<node_info> {
        auto& st = self->state;
        auto rp = self->make_response_promise<node_info>();
        st.ready_waiters.push_back(rp);
        st.check_ready();
        return rp;
      },
      [=](info_atom) { return self->state.info(); },
      [=](connect_atom, std::string& address) -> caf::result<node_connection> {
        auto rp = self->make_response_promise<node_connection>();
        connect(self, address, connect_options{}, rp);
        return rp;
      },
      [=](connect_atom, std::string& address,
          connect_options& opts) -> caf::result<node_connection> {
        auto rp = self->make_response_promise<node_connection>();
        connect(self, address, std::move(opts), rp);
        return rp;
      },
      [=](send_atom, std::string& peer, bytes& data) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        auto* l = st.link_to(peer);
        if (l == nullptr)
          return make_error(errc::unknown_peer, "no connection to node " + peer);
        if (data.size() > st.spec.max_message)
          return make_error(errc::message_too_large,
                            std::to_string(data.size()) + " bytes are above max_message ("
                              + std::to_string(st.spec.max_message) + ")");
        ++st.stats.messages_out;
        st.stats.bytes_out += data.size();
        l->last_activity = self->clock().now();
        caf::anon_send(l->conn.pipe, send_atom::value, std::move(data), l->conn.remote);
        return caf::ok_atom::value;
      },
      [=](caf::subscribe_atom, caf::actor& sub) {
        auto& subs = self->state.subscribers;
        if (std::find(subs.begin(), subs.end(), sub) == subs.end())
          subs.push_back(sub);
        return caf::ok_atom::value;
      },
      [=](caf::unsubscribe_atom, caf::actor& sub) {
        auto& subs = self->state.subscribers;
        subs.erase(std::remove(subs.begin(), subs.end(), sub), subs.end());
        return caf::ok_atom::value;
      },
      [=](stats_atom) { return self->state.stats; },
      [=](metrics_atom) { return answer_metrics(self); },
      [=](children_atom) {
        std::vector<node_child> out;
        for (auto& c : self->state.children)
          out.push_back(node_child{c.name, c.hdl, c.restarts});
        return out;
      },
      [=](name_register_atom, std::string& name) -> caf::result<name_publish> {
        auto rp = self->make_response_promise<name_publish>();
        register_name(self, name, rp);
        return rp;
      },
      [=](name_delete_atom, std::string& name) -> caf::result<name_publish> {
        auto rp = self->make_response_promise<name_publish>();
        delete_name(self, name, rp);
        return rp;
      },
      [=](name_lookup_atom, std::string& name) -> caf::result<name_lookup> {
        auto rp = self->make_response_promise<name_lookup>();
        lookup_for(self, name, rp);
        return rp;
      },
      [=](caf::close_atom, std::string& peer) {
        close_peer(self, peer);
        return caf::ok_atom::value;
      },
      [=](caf::close_atom) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        auto rp = st.life.wait_close(self);
        if (st.life.begin_close())
          close_node(self);
        return rp;
      },
      // Events of our pipes and listeners.
      [=](pipe_up& up) {
        if (!punch_pipe_event(self, up))
          on_pipe_up(self, up);
      },
      [=](pipe_msg& msg) {
        if (!punch_pipe_event(self, msg))
          on_pipe_msg(self, msg);
      },
      [=](pipe_end& end) {
        if (!punch_pipe_event(self, end))
          on_pipe_end(self, end);
      },
      [=](pipe_error&) {},
      // A refresh of an interface actor we subscribed to once it loaded
      // (sent anonymously: known by its interface's name).
      [=](interface_snapshot& snap) {
        auto& st = self->state;
        if (st.life.closing())
          return;
        for (size_t i = 0; i < st.snaps.size(); ++i)
          if (st.loaded[i] && st.snaps[i].name == snap.name)
            return interface_loaded(self, i, snap);
      },
      // Answers of pipes to our fire-and-forget sends.
      [=](caf::ok_atom) {},
      // Signalling.
      [=](signal_message& msg) {
        switch (msg.type) {
          case wire::PAYLOAD_TYPE_CONNECT_REQUEST: return serve_reverse(self, msg);
          case wire::PAYLOAD_TYPE_ADDRESS_REQUEST: return answer_address_request(self, msg);
          case wire::PAYLOAD_TYPE_ADDRESS_REPLY: return on_address_reply(self, msg);
          case wire::PAYLOAD_TYPE_HOLE_PUNCH_REQUEST: return on_punch_message(self, msg);
          default:
            self->state.refuse(&node_stats::refused_requests, "request", msg.sender,
                               make_error(errc::invalid_argument,
                                          "payload type " + std::to_string(msg.type)
                                            + " is not served"));
        }
      },
      // Timers.
      [=](hello_tmo_atom, std::string& k) { on_hello_timeout(self, k); },
      [=](budget_tmo_atom, std::string& peer, uint64_t round) {
        on_budget_timeout(self, peer, round);
      },
      [=](punch_tmo_atom, std::string& peer, uint64_t id, uint8_t step) {
        on_punch_timeout(self, peer, id, step);
      },
      [=](punch_go_atom, std::string& peer, uint64_t id) { on_punch_go(self, peer, id); },
      [=](clock_fetch_atom) { fetch_clock(self); },
      [=](portmap_note_atom, uint64_t slot, portmap_event& ev) {
        on_portmap_event(self, slot, ev);
      },
      [=](tcp_punch_tick& t) { on_punch_tick(self, t); },
      [=](name_refresh_atom, std::string& name, uint64_t generation) {
        on_name_refresh(self, name, generation);
      },
      [=](restart_atom, uint64_t which) { restart_child(self, static_cast<size_t>(which)); },
      [=](idle_tick_atom) {
        if (self->state.life.closing())
          return;
        sweep_idle(self);
        idle_timer(self);
      },
    };
  }, ready);
  return caf::actor_cast<node_actor>(hdl);
}

} // namespace p2pd
