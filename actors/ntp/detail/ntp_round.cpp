// One measurement of the NTP clock: the servers chosen (names resolved off
// the actor), a UDP pipe per family, requests spaced and bounded per
// server, answers checked (origin, sender, RFC 5905's checks) and the
// estimate made from the samples (net/ntp/).
#include "p2pd/actors/ntp/detail/ntp_clock_state.hpp"

#include <algorithm>
#include <utility>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/messages/errors.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::net::resolved_servers)

namespace p2pd::actors::ntp_detail {

namespace {

void send_request(clock_ptr self, uint32_t i);
void finish_round(clock_ptr self);

void count(clock_ptr self, net::ntp_reject r) {
  ++self->state.stats.rejected[static_cast<size_t>(r)];
}

// The server at `from`, if this measurement asks it.
server_run* server_at(clock_ptr self, const endpoint& from) {
  for (auto& s : self->state.servers)
    if (s.ep == from)
      return &s;
  return nullptr;
}

void forget_requests(clock_ptr self, uint32_t i) {
  auto& sent = self->state.sent;
  for (auto it = sent.begin(); it != sent.end();)
    it = it->second.server == i ? sent.erase(it) : std::next(it);
}

void server_done(clock_ptr self, uint32_t i) {
  auto& s = self->state.servers[i];
  if (s.done)
    return;
  s.done = true;
  s.waiting = 0;
  forget_requests(self, i);
  auto& all = self->state.servers;
  if (std::all_of(all.begin(), all.end(), [](const server_run& x) { return x.done; }))
    finish_round(self);
}

// After an answer (or a wait that ended without one): the next request,
// after `pause`, or the end of this server's part.
void next_request(clock_ptr self, uint32_t i, caf::timespan pause) {
  auto& st = self->state;
  auto& s = st.servers[i];
  if (s.samples.size() >= st.spec.samples || s.sends >= st.spec.samples + st.spec.retries)
    return server_done(self, i);
  if (pause <= caf::timespan{0})
    return send_request(self, i);
  // A bounded wait, due anyway: the delayed message keeps the clock alive
  // for at most `spacing`.
  self->delayed_send(self, pause, ntp_next_atom::value, st.round, i);
}

void send_request(clock_ptr self, uint32_t i) {
  auto& st = self->state;
  auto& s = st.servers[i];
  auto pipe = st.pipes.find(s.ep.fam());
  if (pipe == st.pipes.end()) {
    if (s.why.empty()) // else why it could not be opened
      s.why = "its " + std::string{net::to_string(s.ep.fam())} + " socket closed";
    return server_done(self, i);
  }
  auto nonce = net::ntp_timestamp::random();
  while (st.sent.count(nonce.raw) != 0)
    nonce = net::ntp_timestamp::random();
  auto wire = net::encode_ntp(net::ntp_request(nonce));
  ++s.sends;
  s.waiting = s.sends;
  ++st.stats.requests;
  // T1 as late as the actor can read it: what lies between here and the
  // socket only adds to the delay, and so to the error bound.
  st.sent[nonce.raw] = sent_request{i, s.sends, st.spec.stack->unix_ns()};
  caf::anon_send(pipe->second, send_atom::value, bytes(wire.begin(), wire.end()), s.ep);
  // Bounded and due anyway, like the spacing.
  self->delayed_send(self, st.spec.reply_timeout, ntp_wait_atom::value, st.round, i, s.sends);
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : "; ") + x;
  return out;
}

void finish_round(clock_ptr self) {
  auto& st = self->state;
  st.running = false;
  st.sent.clear(); // late answers now match nothing
  std::vector<std::vector<net::ntp_sample>> per_server;
  // Why nothing came of it: every server refused, some sent what could
  // not be used, or all were silent.
  bool all_refused = !st.servers.empty();
  bool any_answer = false;
  for (auto& s : st.servers) {
    per_server.push_back(s.samples);
    if (s.samples.empty()) {
      st.notes.push_back(s.ep.to_string() + ": " + s.failure(st.spec.reply_timeout));
      all_refused = all_refused && s.refused;
      any_answer = any_answer || !s.why.empty();
    }
  }
  auto est = net::estimate_clock(per_server, st.spec.estimator);
  auto waiters = std::move(st.waiters);
  st.waiters.clear();
  if (!est) {
    ++st.stats.rounds_failed;
    auto err = st.servers.empty()
                 ? make_error(errc::invalid_argument, "no NTP server to ask: " + join(st.notes))
                 : make_error(all_refused  ? errc::server_refused
                              : any_answer ? errc::malformed
                                           : errc::recv_timeout,
                              "no NTP server gave a usable answer: " + join(st.notes));
    for (auto& w : waiters)
      w.deliver(err);
    return;
  }
  clock_offset out;
  out.offset_ns = est->offset_ns;
  out.error_ns = est->error_ns;
  out.delay_ns = est->delay_ns;
  out.at_ms = st.spec.stack->unix_ms();
  out.servers = static_cast<uint32_t>(est->used.size());
  out.outliers = static_cast<uint32_t>(est->outliers.size());
  out.asked = static_cast<uint32_t>(st.servers.size());
  out.round = st.round;
  for (auto i : est->outliers)
    st.notes.push_back(st.servers[i].ep.to_string() + ": dropped as an outlier (offset "
                       + ms_text(net::least_delay(per_server[i])->offset_ns) + ")");
  out.notes = std::move(st.notes);
  st.notes.clear();
  ++st.stats.rounds;
  st.stats.outliers += est->outliers.size();
  st.last = out;
  for (auto& w : waiters)
    w.deliver(out);
}

void start_sending(clock_ptr self) {
  auto& st = self->state;
  if (st.servers.empty())
    return finish_round(self);
  auto round = st.round;
  for (uint32_t i = 0; i < st.servers.size() && st.running && st.round == round; ++i)
    send_request(self, i);
}

// Datagrams from the pipes reach the actor through this handler, which runs
// on the I/O thread as each arrives: T4 is read there, before the hop to
// the actor's mailbox, and at most timeouts::ntp_inbox wait in it.
msg_handler inbox_handler(clock_ptr self) {
  return [weak = caf::weak_actor_ptr{self->ctrl()}, inbox = self->state.inbox,
          stack = self->state.spec.stack](pipe_io&, std::string_view data, const endpoint& from) {
    auto t4 = stack->unix_ns();
    if (inbox->queued.fetch_add(1) >= timeouts::ntp_inbox) {
      inbox->queued.fetch_sub(1);
      inbox->dropped.fetch_add(1);
      return;
    }
    auto hdl = weak.lock();
    if (!hdl) {
      inbox->queued.fetch_sub(1);
      return;
    }
    caf::anon_send(caf::actor_cast<caf::actor>(std::move(hdl)), ntp_dgram_atom::value,
                   bytes(data.begin(), data.end()), from, t4);
  };
}

void opened(clock_ptr self, uint64_t round) {
  auto& st = self->state;
  if (--st.opening == 0 && st.round == round && st.running)
    start_sending(self);
}

// Opens a pipe for each family the servers need and has none yet, then
// starts the requests.
void open_pipes(clock_ptr self) {
  auto& st = self->state;
  std::set<net::family> need;
  for (auto& s : st.servers)
    if (st.pipes.count(s.ep.fam()) == 0)
      need.insert(s.ep.fam());
  if (need.empty())
    return start_sending(self);
  st.opening = need.size();
  auto round = st.round;
  for (auto fam : need) {
    endpoint local{net::ip_address::any(fam), 0};
    for (const auto& l : st.spec.local)
      if (l.fam() == fam)
        local = l;
    auto spec = server_spec(udp, local, inbox_handler(self));
    auto pipe = st.spec.stack->spawn_pipe(self->home_system(), std::move(spec));
    // The pipe answers its open at once (a UDP bind) and bounces it if it
    // dies first.
    self->request(pipe, timeouts::until_answered, caf::open_atom::value)
      .then(
        [self, fam, pipe, round](pipe_info&) {
          self->monitor(pipe);
          self->state.pipes[fam] = pipe;
          opened(self, round);
        },
        [self, fam, local, round](caf::error& err) {
          // Its servers find no pipe and end with this reason.
          for (auto& s : self->state.servers)
            if (s.ep.fam() == fam)
              s.why = "cannot open a UDP socket on " + local.to_string() + ": " + render(err);
          opened(self, round);
        });
  }
}

// The servers of this measurement: resolved names, then the endpoints given,
// without repeats, without servers that denied us, at most max_servers.
void choose_servers(clock_ptr self, const std::vector<endpoint>& resolved) {
  auto& st = self->state;
  std::vector<endpoint> all = resolved;
  all.insert(all.end(), st.spec.endpoints.begin(), st.spec.endpoints.end());
  std::set<endpoint> seen;
  size_t over = 0;
  for (auto& ep : all) {
    if (!seen.insert(ep).second)
      continue;
    if (st.denied.count(ep) != 0) {
      st.notes.push_back(ep.to_string() + ": not asked: it refused us (DENY or RSTR) before");
      continue;
    }
    if (st.servers.size() >= st.spec.max_servers) {
      ++over;
      continue;
    }
    server_run s;
    s.ep = ep;
    st.servers.push_back(std::move(s));
  }
  if (over > 0)
    st.notes.push_back(std::to_string(over) + " servers beyond max_servers ("
                       + std::to_string(st.spec.max_servers) + ") not asked");
  open_pipes(self);
}

} // namespace

void start_round(clock_ptr self) {
  auto& st = self->state;
  if (st.running)
    return;
  st.running = true;
  ++st.round;
  st.servers.clear();
  st.notes.clear();
  st.sent.clear();
  if (st.spec.servers.empty())
    return choose_servers(self, {});
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.dns_timeout);
  // Blocking (getaddrinfo), so a job; it answers within about dns_timeout.
  run_blocking(self, timeouts::until_answered,
               [entries = st.spec.servers, timeout] {
                 return net::resolve_servers(entries, timeout, {net::server_kind::ntp});
               })
    .then(
      [self](net::resolved_servers& rs) {
        for (const auto& u : rs.unresolved)
          self->state.notes.push_back(u.to_string());
        choose_servers(self, rs.of(net::server_kind::ntp));
      },
      [self](caf::error& err) {
        self->state.notes.push_back("resolving NTP server names: " + render(err));
        choose_servers(self, {});
      });
}

// A refused answer: what it means for the server.
static void refused(clock_ptr self, uint32_t i, uint32_t send, net::ntp_reject why,
                    const net::ntp_packet& pkt, std::string what) {
  auto& st = self->state;
  auto& s = st.servers[i];
  s.why = std::move(what);
  if (why == net::ntp_reject::kiss_of_death) {
    s.refused = true;
    switch (net::kiss_action(pkt.kiss_code())) {
      case net::ntp_kiss_action::stop:
        st.denied.insert(s.ep);
        ++st.stats.denied;
        return server_done(self, i);
      case net::ntp_kiss_action::slow_down:
        return server_done(self, i);
      case net::ntp_kiss_action::skip:
        break;
    }
  } else if (why == net::ntp_reject::unsynchronised) {
    // It will not know the time a second later either.
    s.refused = true;
    return server_done(self, i);
  }
  // A broken answer is an answer: the request is spent.
  if (s.waiting == send) {
    s.waiting = 0;
    next_request(self, i, st.spec.spacing);
  }
}

void on_datagram(clock_ptr self, const bytes& data, const endpoint& from, int64_t t4) {
  auto& st = self->state;
  st.inbox->queued.fetch_sub(1);
  auto* p = reinterpret_cast<const uint8_t*>(data.data());
  net::ntp_reject why{};
  auto pkt = net::decode_ntp(p, data.size(), &why);
  if (!pkt) {
    count(self, why);
    if (auto* s = server_at(self, from))
      s->why = pkt.error().what; // its answer, or a spoof of it: keep waiting
    return;
  }
  auto it = st.sent.find(pkt->origin.raw);
  if (it == st.sent.end()) {
    count(self, net::ntp_reject::origin_mismatch);
    if (auto* s = server_at(self, from))
      s->why = "an answer whose origin matches no request outstanding";
    return;
  }
  auto req = it->second;
  auto& s = st.servers[req.server];
  if (from != s.ep) {
    // Not the server asked (a spoof, a reflector, a misrouted answer): the
    // request stays open for the real answer.
    count(self, net::ntp_reject::wrong_sender);
    s.why = "an answer from " + from.to_string() + ", not from the address asked";
    return;
  }
  st.sent.erase(it);
  if (auto err = net::check_ntp_reply(*pkt, pkt->origin, &why)) {
    count(self, why);
    return refused(self, req.server, req.send, why, *pkt, err.what);
  }
  auto sample = net::make_ntp_sample(req.t1_ns, *pkt, t4);
  if (!sample) {
    count(self, net::ntp_reject::bad_timestamps);
    return refused(self, req.server, req.send, net::ntp_reject::bad_timestamps, *pkt,
                   sample.error().what);
  }
  ++st.stats.samples;
  s.samples.push_back(*sample);
  // A late answer to an earlier send is as good as one to the latest (each
  // has its own T1); the others of this server are spent with it.
  forget_requests(self, req.server);
  s.waiting = 0;
  next_request(self, req.server, st.spec.spacing);
}

void on_reply_wait(clock_ptr self, uint64_t round, uint32_t i, uint32_t send) {
  auto& st = self->state;
  if (round != st.round || !st.running || i >= st.servers.size())
    return;
  auto& s = st.servers[i];
  if (s.done || s.waiting != send)
    return; // answered meanwhile
  ++st.stats.timeouts;
  ++s.unanswered;
  s.waiting = 0;
  // The wait was part of the spacing.
  next_request(self, i, st.spec.spacing - st.spec.reply_timeout);
}

void on_next(clock_ptr self, uint64_t round, uint32_t i) {
  auto& st = self->state;
  if (round == st.round && st.running && i < st.servers.size() && !st.servers[i].done)
    send_request(self, i);
}

} // namespace p2pd::actors::ntp_detail
