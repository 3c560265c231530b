// The punch's schedule and its pipes: a listener on the local port and, each
// round, a client pipe bound to the same port toward every remote that has
// none under way. What comes up and ends, and keep(), are in
// tcp_punch_conns.cpp; the book-keeping and the failure's reason in
// tcp_punch_report.cpp.
#include "p2pd/actors/punch/tcp_punch.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/punch/detail/tcp_punch_core.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd {

using clock_point = caf::actor_clock::time_point;

tcp_punch::core::core(caf::event_based_actor* self, uint64_t id, tcp_punch_spec spec,
                      tcp_punch_callbacks cbs)
  : self(self), id(id), spec(std::move(spec)), cbs(std::move(cbs)), local(this->spec.local) {}

caf::error tcp_punch::core::start() {
  auto bad = [](std::string what) { return make_error(errc::invalid_argument, std::move(what)); };
  if (ph != phase::idle)
    return bad("the TCP punch was started already");
  if (spec.remotes.empty())
    return bad("a TCP punch needs at least one remote endpoint");
  // Each remote once, in the order given (likeliest first).
  std::vector<endpoint> remotes;
  for (auto& r : spec.remotes) {
    if (r.fam() != spec.local.fam())
      return bad("cannot punch from " + spec.local.to_string() + " to " + r.to_string()
                 + ": the families differ");
    if (r.port == 0)
      return bad("the remote " + r.to_string() + " has no port");
    if (std::find(remotes.begin(), remotes.end(), r) == remotes.end())
      remotes.push_back(r);
  }
  spec.remotes = std::move(remotes);
  if (spec.expect_node && !spec.tls)
    return bad("expect_node needs a node TLS context (tls)");
  if (spec.interval.count() <= 0 || spec.window.count() <= 0 || spec.max_attempts == 0)
    return bad("a TCP punch needs a positive interval, window and max_attempts");
  if (!spec.listen && spec.local.port == 0)
    return bad("a TCP punch without a listener needs the local port to connect from");
  auto now = self->clock().now();
  auto from = spec.start == clock_point{} ? now : spec.start;
  first = std::max(from, now);
  deadline = from + spec.window;
  if (deadline <= now)
    return bad("the TCP punch's window ended before it started");
  ph = phase::running;
  if (spec.listen)
    start_listener(); // the rounds begin once it is open (its port is theirs)
  else
    begin();
  return caf::none;
}

// -- the schedule ----------------------------------------------------------------

void tcp_punch::core::arm(clock_point t) {
  // One tick pending at a time; an older one comes with a stale seq. It holds
  // the owner until it fires, at most an interval away: a bounded wait.
  auto msg = caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                       tcp_punch_tick{id, ++seq_});
  self->clock().schedule_message(t, caf::actor_cast<caf::strong_actor_ptr>(self),
                                 std::move(msg));
}

void tcp_punch::core::begin() {
  begun_ = true;
  arm(std::max(first, self->clock().now()));
}

void tcp_punch::core::tick(const tcp_punch_tick& t) {
  if (t.seq != seq_ || ph != phase::running)
    return;
  auto now = self->clock().now();
  if (now >= deadline)
    return window_over();
  round(now);
}

void tcp_punch::core::round(clock_point now) {
  ++stats.rounds;
  if (spec.listen && !listener_)
    start_listener(); // it ended (its connection was lost): catch SYNs again
  // While a connection is up, the owner is choosing: no more sockets.
  if (!any_up())
    for (auto& r : spec.remotes) {
      if (stats.attempts >= spec.max_attempts)
        break;
      bool live = std::any_of(clients_.begin(), clients_.end(),
                              [&](const attempt& a) { return a.remote == r; });
      if (!live) // a refused one is answered by now: its remote goes again
        start_attempt(r, now);
    }
  // Rounds keep their phase to `first`, as the peer's do.
  auto next = first + spec.interval * static_cast<int64_t>(stats.rounds);
  while (next <= now)
    next += spec.interval;
  arm(std::min(next, deadline));
}

void tcp_punch::core::window_over() {
  ph = phase::ending;
  check_over();
}

void tcp_punch::core::check_over() {
  // A connection up waits for keep(); connects under way are answered by
  // their own timers (the window's end, then the TLS handshake's).
  if (ph != phase::ending || any_up() || !clients_.empty())
    return;
  fail(failure());
}

void tcp_punch::core::fail(caf::error err) {
  close_all();
  if (cbs.on_failed)
    cbs.on_failed(err); // last: it may destroy the punch
}

// -- pipes -----------------------------------------------------------------------

pipe_spec tcp_punch::core::base_spec() const {
  pipe_spec ps;
  ps.proto = net::protocol::tcp;
  ps.local = local;
  ps.conf = spec.conf;
  ps.conf.reuse_addr = true; // the listener and every connect share the port
  ps.tls_context = spec.tls;
  if (spec.tls)
    ps.tls_as = spec.tls->config().server ? tls_role::server : tls_role::client;
  ps.expect_node = spec.expect_node;
  ps.length_prefixed = spec.length_prefixed;
  ps.subscribers.push_back(
    {caf::actor_cast<caf::actor>(self), static_cast<uint8_t>(events::up | events::end | spec.events)});
  return ps;
}

void tcp_punch::core::start_listener() {
  auto ps = base_spec();
  ps.listen_until_up = true; // the connection kept leaves no listener behind
  ps.conf.max_clients = static_cast<uint32_t>(spec.max_attempts);
  auto l = stack_or_os(spec.stack).spawn_pipe(self->home_system(), std::move(ps));
  listener_ = l;
  listener_open_ = false;
  std::weak_ptr<core> weak = shared_from_this();
  // A pipe always answers its open (or bounces it once closed).
  self->request(l, timeouts::until_answered, caf::open_atom::value)
    .then(
      [weak, l](pipe_info& info) {
        if (auto c = weak.lock())
          c->listener_opened(l, info);
      },
      [weak, l](caf::error& err) {
        if (auto c = weak.lock())
          c->listener_failed(l, err);
      });
}

void tcp_punch::core::listener_opened(const pipe_actor& l, const pipe_info& info) {
  if (l != listener_ || ph == phase::done)
    return;
  listener_open_ = true;
  local = info.local; // the kernel's port, for port 0
  if (!begun_)
    begin();
}

void tcp_punch::core::listener_failed(const pipe_actor& l, const caf::error& err) {
  if (l != listener_)
    return;
  listener_ = nullptr;
  retire(l.address());
  if (!begun_ && ph == phase::running)
    return fail(make_error(code_of(err) != errc::none ? code_of(err) : errc::listen_failed,
                           "TCP punch cannot listen on " + local.to_string() + ": "
                             + render(err)));
  note(err); // a later round tries again
}

void tcp_punch::core::listener_gone(const caf::error& reason) {
  retire(listener_.address());
  listener_ = nullptr;
  listener_open_ = false;
  auto lost = std::move(accepted_);
  accepted_.clear();
  auto hold = shared_from_this();
  for (auto& conn : lost) {
    if (ph == phase::done)
      return;
    lose(conn, reason);
  }
  check_over();
}

void tcp_punch::core::start_attempt(const endpoint& remote, clock_point now) {
  auto left = deadline - now;
  if (left.count() <= 0)
    return;
  auto ps = base_spec();
  ps.host = remote.ip.to_string();
  ps.port = remote.port;
  // Unanswered, a connect waits for the window's end: the peer's SYN may
  // still come through the NAT mapping it opened (a simultaneous open).
  ps.conf.con_timeout = std::chrono::duration_cast<caf::timespan>(left);
  auto pipe = stack_or_os(spec.stack).spawn_pipe(self->home_system(), std::move(ps));
  ++stats.attempts;
  clients_.push_back({pipe, remote, false, {}});
  std::weak_ptr<core> weak = shared_from_this();
  self->request(pipe, timeouts::until_answered, caf::open_atom::value)
    .then(
      [weak, pipe](pipe_info& info) {
        if (auto c = weak.lock())
          c->client_opened(pipe, info);
        else
          caf::anon_send(pipe, caf::close_atom::value); // the punch is gone
      },
      [weak, pipe](caf::error& err) {
        if (auto c = weak.lock())
          c->client_failed(pipe, err);
      });
}

void tcp_punch::core::client_opened(const pipe_actor& pipe, const pipe_info& info) {
  auto i = find_client(pipe.address());
  if (i == clients_.end() || ph == phase::done) {
    close_pipe(pipe); // closed meanwhile, or the punch is over
    return;
  }
  i->up = true;
  i->conn = tcp_punch_conn{pipe, info.local, info.remote, info.peer_node, false};
  ++stats.connected;
  auto conn = i->conn;
  if (cbs.on_connected)
    cbs.on_connected(conn); // last: it may keep, cancel or destroy the punch
}

void tcp_punch::core::client_failed(const pipe_actor& pipe, const caf::error& err) {
  auto i = find_client(pipe.address());
  if (i == clients_.end())
    return; // closed by the punch
  clients_.erase(i);
  retire(pipe.address());
  count(err);
  check_over();
}

// -- tcp_punch -------------------------------------------------------------------

tcp_punch::tcp_punch(caf::event_based_actor* self, uint64_t id, tcp_punch_spec spec,
                     tcp_punch_callbacks callbacks)
  : core_(std::make_shared<core>(self, id, std::move(spec), std::move(callbacks))) {}

tcp_punch::~tcp_punch() {
  if (core_)
    core_->cancel();
}

tcp_punch::tcp_punch(tcp_punch&&) noexcept = default;

tcp_punch& tcp_punch::operator=(tcp_punch&& other) noexcept {
  if (this != &other) {
    if (core_)
      core_->cancel();
    core_ = std::move(other.core_);
  }
  return *this;
}

caf::error tcp_punch::start() {
  return core_->start();
}

bool tcp_punch::owns(const pipe_actor& pipe) const {
  return core_->owns(pipe.address());
}

bool tcp_punch::owns(const caf::actor_addr& pipe) const {
  return core_->owns(pipe);
}

bool tcp_punch::on_up(const pipe_up& x) {
  auto c = core_; // the callback may destroy *this
  return c->up(x);
}

bool tcp_punch::on_end(const pipe_end& x) {
  auto c = core_;
  return c->end(x);
}

bool tcp_punch::on_tick(const tcp_punch_tick& x) {
  if (x.punch != core_->id)
    return false;
  auto c = core_;
  c->tick(x);
  return true;
}

caf::error tcp_punch::keep(const pipe_actor& pipe, const endpoint& remote) {
  return core_->keep(pipe, remote);
}

void tcp_punch::cancel() {
  core_->cancel();
}

uint64_t tcp_punch::id() const {
  return core_->id;
}

bool tcp_punch::done() const {
  return core_->ph == core::phase::done;
}

endpoint tcp_punch::local() const {
  return core_->local;
}

const tcp_punch_stats& tcp_punch::stats() const {
  return core_->stats;
}

} // namespace p2pd
