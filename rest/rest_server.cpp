#include "p2pd/rest/rest_server.hpp"

#include <algorithm>
#include <utility>

#include "caf/scoped_actor.hpp"

#include "p2pd/actors/common/clock.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/actors/daemon/daemon_actor.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/util/data_dir.hpp"
#include "p2pd/rest/detail/rest_state.hpp"
#include "p2pd/rest/rest_token.hpp"

namespace p2pd::rest {

namespace detail {

namespace {

using namespace net::http;

void send_bytes(server_actor* self, const http_conn& c, std::string_view text) {
  self->send(c.pipe, send_atom::value, bytes(text.begin(), text.end()), c.peer);
}

void close_conn(server_actor* self, uint64_t id) {
  auto& st = self->state;
  auto i = st.by_id.find(id);
  if (i == st.by_id.end())
    return;
  auto j = st.conns.find(i->second);
  if (j != st.conns.end()) {
    // After the answer queued on the same pipe: the pipe flushes it first.
    self->send(j->second.pipe, caf::close_atom::value, j->second.peer);
    st.conns.erase(j);
  }
  st.by_id.erase(i);
  forget_waiters(self, id);
}

// Parses and serves what connection `id` has buffered, one request at a
// time: while one is answered later, the rest wait (in order).
void pump(server_actor* self, uint64_t id) {
  auto& st = self->state;
  if (auto* c = st.conn(id); c == nullptr || c->pumping)
    return;
  st.conn(id)->pumping = true;
  for (;;) {
    auto* c = st.conn(id);
    if (c == nullptr)
      return;
    if (c->busy) {
      c->pumping = false;
      return;
    }
    switch (c->parser.next()) {
      case parse_status::need_more:
        c->pumping = false;
        return;
      case parse_status::continue_needed:
        send_bytes(self, *c, continue_response());
        continue;
      case parse_status::error: {
        ++st.stats.malformed;
        auto r = error_response(c->parser.error_status(), c->parser.error_text());
        c->keep_alive = false;
        c->busy = true;
        c->pumping = false;
        answer(self, id, std::move(r));
        return;
      }
      case parse_status::complete: {
        auto req = c->parser.take();
        c->request_ms = st.now_ms(); // the next one's, if it began
        ++st.stats.requests;
        c->keep_alive = req.keep_alive;
        c->busy = true;
        route(self, id, req);
        continue; // route() answered at once, or left the connection busy
      }
    }
  }
}

void on_up(server_actor* self, pipe_up& up) {
  auto& st = self->state;
  auto key = std::make_pair(up.pipe.id(), up.peer);
  if (auto old = st.conns.find(key); old != st.conns.end()) {
    // A new client on the endpoint of one whose end did not come: the old
    // one's id goes, so that an answer made for it later (a node's, a
    // receive's) finds no connection instead of the new client. Not closed:
    // a close names the endpoint, which is the new client's now.
    auto old_id = old->second.id;
    st.conns.erase(old);
    st.by_id.erase(old_id);
    forget_waiters(self, old_id);
  }
  if (st.conns.size() >= st.spec.limits.max_connections) {
    ++st.stats.connections_refused;
    auto r = error_response(503, "too many connections to the REST API (at most "
                                   + std::to_string(st.spec.limits.max_connections) + ")");
    auto text = serialize(r, false);
    self->send(up.pipe, send_atom::value, bytes(text.begin(), text.end()), up.peer);
    self->send(up.pipe, caf::close_atom::value, up.peer);
    return;
  }
  ++st.stats.connections;
  http_conn c{st.next_id++, up.pipe, up.peer, request_parser{st.spec.limits.http()}};
  st.by_id[c.id] = key;
  st.conns.emplace(key, std::move(c));
}

void on_msg(server_actor* self, pipe_msg& m) {
  auto& st = self->state;
  auto i = st.conns.find(std::make_pair(m.pipe.id(), m.from));
  if (i == st.conns.end())
    return; // refused at the cap, or closed: its bytes mean nothing now
  if (!i->second.parser.mid_request())
    i->second.request_ms = st.now_ms();
  i->second.parser.feed(std::string_view{m.data.data(), m.data.size()});
  pump(self, i->second.id);
}

// Requests not whole within request_deadline: 408 and closed. A request
// being answered (a receive's wait) is not the client's delay.
void sweep(server_actor* self) {
  auto& st = self->state;
  auto now = st.now_ms();
  auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.limits.request_deadline).count();
  std::vector<uint64_t> late;
  for (const auto& [key, c] : st.conns)
    if (!c.busy && c.parser.mid_request() && now - c.request_ms > limit)
      late.push_back(c.id);
  for (auto id : late) {
    ++st.stats.timed_out;
    auto* c = st.conn(id);
    c->keep_alive = false;
    c->busy = true;
    answer(self, id, error_response(408, "the request was not whole within "
                                           + std::to_string(limit) + " ms"));
  }
}

void on_end(server_actor* self, pipe_end& e) {
  auto& st = self->state;
  if (e.whole)
    return; // a listener ended: the daemon restarts it
  auto i = st.conns.find(std::make_pair(e.pipe.id(), e.peer));
  if (i == st.conns.end())
    return;
  auto id = i->second.id;
  st.conns.erase(i);
  st.by_id.erase(id);
  forget_waiters(self, id);
}

} // namespace

caf::behavior rest_server(server_actor* self, node_actor node, rest_spec spec, std::string token) {
  auto& st = self->state;
  st.node = node;
  st.spec = std::move(spec);
  st.token = std::move(token);
  // The node's end is ours: the API would only answer errors.
  self->monitor(node);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.node.address())
      self->quit(dm.reason);
  });
  self->send(node, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(self));
  // However the server ends, the node stops sending it its events.
  self->attach_functor([self, node](const caf::error&) {
    caf::anon_send(node, caf::unsubscribe_atom::value, caf::actor_cast<caf::actor>(self));
  });
  auto tick = std::min<caf::timespan>(std::chrono::seconds(1), st.spec.limits.request_deadline / 2);
  st.sweeper = actors::start_weak_ticker(self->home_system(), self->ctrl(), tick,
                                         caf::make_message(rest_sweep_atom::value));
  return {
    [self](pipe_up& up) { on_up(self, up); },
    [self](pipe_msg& m) { on_msg(self, m); },
    [self](pipe_end& e) { on_end(self, e); },
    [](pipe_error&) {},
    // From start_rest_server once it listens: the port the Host and Origin
    // checks name (until then every request is refused, 503).
    [self](daemon_actor& d, uint16_t port) {
      self->state.daemon = std::move(d);
      self->state.port = port;
    },
    [self](node_msg& m) { on_node_msg(self, m); },
    [self](node_peer_up& up) { on_peer_up(self, up); },
    [self](node_peer_end& e) { on_peer_end(self, e); },
    [](node_refused&) {},
    [](node_progress&) {},
    [](caf::ok_atom) {}, // the node's answer to our subscription
    [self](rest_sweep_atom) { sweep(self); },
    [self](rest_tmo_atom, const std::string& peer, uint64_t waiter_id) {
      on_receive_timeout(self, peer, waiter_id);
    },
    [self](stats_atom) {
      auto s = self->state.stats;
      s.open_connections = static_cast<uint32_t>(self->state.conns.size());
      return s;
    },
    [self](caf::close_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      auto rp = self->make_response_promise<caf::ok_atom>();
      if (!st.daemon) {
        self->quit();
        rp.deliver(caf::ok_atom::value);
        return rp;
      }
      self->request(st.daemon, timeouts::until_answered, caf::close_atom::value)
        .then([self, rp](caf::ok_atom) mutable {
                rp.deliver(caf::ok_atom::value);
                self->quit();
              },
              [self, rp](caf::error& err) mutable {
                rp.deliver(err);
                self->quit(err);
              });
      return rp;
    },
  };
}

state::~state() {
  for (auto& [peer, ps] : peers)
    for (auto& w : ps.waiting)
      w.cancel();
  if (sweeper)
    caf::anon_send_exit(sweeper, caf::exit_reason::user_shutdown);
  if (daemon)
    caf::anon_send_exit(daemon, caf::exit_reason::user_shutdown);
}

http_conn* state::conn(uint64_t id) {
  auto i = by_id.find(id);
  if (i == by_id.end())
    return nullptr;
  auto j = conns.find(i->second);
  return j == conns.end() ? nullptr : &j->second;
}

int64_t state::now_ms() const {
  return system_clock_ms();
}

void answer(server_actor* self, uint64_t id, net::http::response r) {
  auto& st = self->state;
  auto* c = st.conn(id);
  if (c == nullptr)
    return; // the client went away while its answer was made
  r.set("Cache-Control", "no-store");
  r.set("X-Content-Type-Options", "nosniff");
  send_bytes(self, *c, serialize(r, c->keep_alive));
  if (!c->keep_alive) {
    close_conn(self, id);
    return;
  }
  c->busy = false;
  pump(self, id);
}

net::http::response json_response(int status, const std::string& json_text) {
  net::http::response r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = json_text;
  r.body += '\n';
  return r;
}

caf::actor arm_receive_timeout(server_actor* self, caf::timespan t, const std::string& peer,
                               uint64_t waiter_id) {
  // Not a delayed_send to self, which would hold the server up to
  // max_receive_timeout after it ended (its node gone, say).
  return actors::start_weak_timer(self->home_system(), self->ctrl(), t,
                                  caf::make_message(rest_tmo_atom::value, peer, waiter_id));
}

void waiter::cancel() {
  if (timer)
    caf::anon_send_exit(timer, caf::exit_reason::user_shutdown);
  timer = nullptr;
}

} // namespace detail

std::string rest_server_info::page_url() const {
  return "http://127.0.0.1:" + std::to_string(port) + "/#token=" + token;
}

caf::expected<rest_server_info> start_rest_server(caf::actor_system& sys, const node_actor& node,
                                                  const rest_spec& spec) {
  if (!node)
    return make_error(errc::invalid_argument, "the REST API needs a node");
  std::vector<net::ip_address> addrs = spec.bind;
  if (addrs.empty())
    addrs = {net::ip_address::loopback(net::family::v4), net::ip_address::loopback(net::family::v6)};
  for (const auto& a : addrs)
    if (!a.is_loopback())
      return make_error(errc::invalid_argument,
                        "the REST API listens on loopback only, not on " + a.to_string()
                          + ": it has no TLS, and its token is all that guards the node");
  auto dir = net::open_data_dir(spec.data_dir);
  if (!dir)
    return make_error(dir.error());
  auto tok = load_or_create_token(*dir);
  if (!tok)
    return make_error(tok.error());

  daemon_spec ds;
  ds.data_dir = *dir;
  ds.conf.max_clients = static_cast<uint32_t>(spec.limits.max_connections + 16);
  // Longer than the longest receive, during which a client sends nothing.
  ds.conf.idle_timeout = spec.limits.idle_timeout + spec.limits.max_receive_timeout;
  ds.conf.reader_limit = 64 * 1024;

  auto server = sys.spawn(detail::rest_server, node, spec, tok->token);
  ds.subscribers.push_back(subscriber{server, events::msgs | events::up | events::end});
  auto d = spawn_daemon(sys, std::move(ds));
  auto stop = [&](caf::error err) -> caf::expected<rest_server_info> {
    caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
    return err;
  };
  // Every address on one port (the Host and Origin checks name it): the
  // first listener picks it when spec.port is 0, the others take it. The
  // default ::1 is left out on a host without IPv6 loopback.
  caf::scoped_actor self{sys};
  rest_server_info info;
  info.port = spec.port;
  for (size_t i = 0; i < addrs.size(); ++i) {
    std::vector<listen_addr> one{listen_addr{net::protocol::tcp, {addrs[i], info.port}}};
    caf::error err;
    self->request(d, timeouts::listen, listen_atom::value, one)
      .receive(
        [&](std::vector<listener_info>& ls) {
          for (auto& l : ls) {
            info.port = l.local.port;
            info.endpoints.push_back(l.local);
          }
        },
        [&](caf::error& e) { err = std::move(e); });
    if (err && (i == 0 || !spec.bind.empty()))
      return stop(std::move(err));
  }
  caf::anon_send(server, d, info.port);
  info.token_file = tok->path;
  info.token = tok->token;
  info.server = server;
  return info;
}

} // namespace p2pd::rest
