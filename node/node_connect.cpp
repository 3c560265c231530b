// Connects: a plan of attempts from both addresses, one strategy at a time,
// the attempts of a strategy raced within its budget; the first
// authenticated connection wins and the others are closed.
#include "p2pd/node/node_state.hpp"

#include <algorithm>

#include "caf/send.hpp"

#include "p2pd/messages/errors.hpp"
#include "p2pd/net/names/name_rules.hpp"
#include "p2pd/node/link/hello.hpp"
#include "p2pd/proto/envelope_codec.hpp"

namespace p2pd::node {

namespace {

int64_t ms_since(node_actor_ptr self, caf::actor_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now() - t).count();
}

caf::timespan budget_of(const node_spec& spec, strategy how) {
  return how == strategy::reverse ? spec.reverse_budget : spec.direct_budget;
}


void fail_job(node_actor_ptr self, connect_job& job) {
  auto& st = self->state;
  job.done = true;
  std::string why = "no connection to node " + job.peer_id + ":";
  for (auto& r : job.reports)
    why += " [" + r.attempt + ": " + r.outcome + "]";
  if (job.reports.empty())
    why += " no attempt was possible (no common family, no route, no signalling)";
  auto err = make_error(errc::connect_failed, why);
  for (auto& rp : job.waiters)
    rp.deliver(err);
  if (!job.serving) {
    ++st.stats.connects_failed;
    st.connects.failed(job.next > 0 ? &job.plan[job.next - 1].how : nullptr);
  }
  else
    --st.serving;
  for (auto i = st.reverse_asked.begin(); i != st.reverse_asked.end();)
    i = i->second == job.peer_id && i->first == job.id ? st.reverse_asked.erase(i) : std::next(i);
  st.jobs.erase(job.peer_id);
}

void start_round(node_actor_ptr self, std::shared_ptr<connect_job> job);

void start_direct(node_actor_ptr self, std::shared_ptr<connect_job> job, const attempt& a) {
  auto& st = self->state;
  pipe_spec spec;
  spec.proto = net::protocol::tcp;
  spec.host = a.target.ip.to_string();
  spec.port = a.target.port;
  spec.local = endpoint{a.bind, 0};
  spec.tls_context = st.tls_client;
  auto expect = net::node_id::parse(job->peer_id);
  if (expect)
    spec.expect_node = *expect;
  spec.length_prefixed = true;
  spec.conf.reader_limit = static_cast<uint32_t>(st.spec.max_message + 4);
  spec.conf.con_timeout = budget_of(st.spec, strategy::direct);
  spec.conf.ssl_handshake = budget_of(st.spec, strategy::direct);
  spec.conf.keep_alive = st.spec.keep_alive;
  spec.subscribers.push_back({caf::actor_cast<caf::actor>(self), events::msgs | events::end});
  auto pipe = st.spec.stack->spawn_pipe(self->home_system(), std::move(spec));
  job->pipes.push_back(pipe);
  st.own_clients.insert(pipe.address());
  auto round = job->round;
  // The open bounds itself (con_timeout, ssl_handshake); this only catches a lost answer.
  self->request(pipe, budget_of(st.spec, strategy::direct) * 3, caf::open_atom::value)
    .then(
      [=](pipe_info& info) {
        if (job->done) {
          // Lost the race; its hello was never sent, so the peer drops it.
          caf::anon_send(pipe, caf::close_atom::value);
          return report(self, *job, a, "cancelled: another attempt won");
        }
        report(self, *job, a, "won");
        hello h;
        h.purpose = job->serving ? link_purpose::reverse : link_purpose::direct;
        h.request_id = job->id;
        auto msg = encode_hello(h);
        caf::anon_send(pipe, send_atom::value, bytes(msg.begin(), msg.end()));
        node_connection conn;
        conn.pipe = pipe;
        conn.remote = info.remote;
        conn.peer = info.peer_node;
        conn.inbound = false;
        conn.report.how = strategy::direct;
        conn.report.path = a.path;
        conn.report.fam = a.fam;
        conn.report.local = info.local;
        conn.report.remote = info.remote;
        job_won(self, *job, conn);
      },
      [=](caf::error& err) {
        report(self, *job, a, render(err));
        attempt_lost(self, job, round);
      });
}

void start_reverse(node_actor_ptr self, std::shared_ptr<connect_job> job, const attempt& a) {
  auto& st = self->state;
  wire::connect_request req;
  req.set_request_id(job->id);
  req.set_protocol(wire::TRANSPORT_TCP);
  req.add_strategies(wire::STRATEGY_REVERSE);
  req.set_peer_address(st.address_text);
  auto payload = wire::encode_payload(req);
  st.reverse_asked[job->id] = job->peer_id;
  auto round = job->round;
  self->request(st.signal, budget_of(st.spec, strategy::reverse), send_atom::value,
                job->peer.keys, static_cast<uint32_t>(wire::PAYLOAD_TYPE_CONNECT_REQUEST),
                bytes(payload.begin(), payload.end()))
    .then(
      [=](net::message_id) {
        // Sent: now the peer connects back, within the budget (on_budget_timeout).
      },
      [=](caf::error& err) {
        report(self, *job, a, "the request did not go out: " + render(err));
        attempt_lost(self, job, round);
      });
}

// Every attempt failed: a peer we can signal may have moved since its address
// was made; ask it once for its current one (its answer re-plans the job).
// With job->refresh_first, the same request goes out before the first
// attempt, and whatever becomes of it the plan starts.
bool ask_for_address(node_actor_ptr self, std::shared_ptr<connect_job> job) {
  auto& st = self->state;
  if (job->serving || job->refresh_id != 0 || job->peer.channels.empty() || !st.signal)
    return false;
  job->refresh_id = st.next_request++;
  job->awaiting_address = true;
  wire::address_request req;
  req.set_request_id(job->refresh_id);
  auto payload = wire::encode_payload(req);
  ++job->round;
  auto round = job->round;
  self->request(st.signal, st.spec.reverse_budget, send_atom::value, job->peer.keys,
                static_cast<uint32_t>(wire::PAYLOAD_TYPE_ADDRESS_REQUEST),
                bytes(payload.begin(), payload.end()))
    .then([](net::message_id) {},
          [=](caf::error& err) {
            if (job->done || job->round != round)
              return;
            job->reports.push_back({"address request", "did not go out: " + render(err),
                                    ms_since(self, job->started)});
            if (job->refresh_first) {
              job->refresh_first = false;
              job->awaiting_address = false;
              return start_round(self, job);
            }
            fail_job(self, *job);
          });
  self->delayed_send(self, st.spec.reverse_budget, budget_tmo_atom::value, job->peer_id, round);
  return true;
}

// Starts the attempts of the next strategy, or fails the job when none is left.
void start_round(node_actor_ptr self, std::shared_ptr<connect_job> job) {
  if (job->done)
    return;
  if (job->next >= job->plan.size()) {
    if (ask_for_address(self, job))
      return;
    return fail_job(self, *job);
  }
  auto how = job->plan[job->next].how;
  // A punch through the peer's mapping runs in a round of its own, before
  // the predicted punch: two punches with one peer at once could both
  // complete on the peer's side, whose second link would replace the one
  // we kept.
  auto mapped_punch = [](const attempt& a) {
    return a.how == strategy::punch && a.path == path_kind::mapped;
  };
  bool mapped = mapped_punch(job->plan[job->next]);
  ++job->round;
  job->running = 0;
  auto& st = self->state;
  while (job->next < job->plan.size() && job->plan[job->next].how == how
         && mapped_punch(job->plan[job->next]) == mapped) {
    auto a = job->plan[job->next++];
    ++job->running;
    if (how == strategy::direct)
      start_direct(self, job, a);
    else if (how == strategy::reverse && !job->serving)
      start_reverse(self, job, a);
    else if (how == strategy::punch && !job->serving)
      start_punch(self, job, a);
    else if (how == strategy::relay && !job->serving)
      start_relay(self, job, a);
    else
      --job->running;
  }
  if (job->running == 0)
    return start_round(self, job);
  // Direct attempts bound themselves (connect, then handshake, each within
  // the budget); the timer only catches a lost answer. A reverse request
  // has nothing else: the budget is its deadline.
  auto limit = how == strategy::reverse  ? budget_of(st.spec, how)
               : how == strategy::punch || how == strategy::relay ? st.spec.punch_budget
                                        : budget_of(st.spec, how) * 3;
  self->delayed_send(self, limit, budget_tmo_atom::value, job->peer_id, job->round);
}

} // namespace

void report(node_actor_ptr self, connect_job& job, const attempt& a, std::string outcome) {
  job.reports.push_back({a.to_string(), std::move(outcome), ms_since(self, job.started)});
}

void attempt_lost(node_actor_ptr self, std::shared_ptr<connect_job> job, uint64_t round) {
  if (job->done || round != job->round)
    return;
  if (--job->running == 0)
    start_round(self, job);
}

void job_won(node_actor_ptr self, connect_job& job, const node_connection& won) {
  auto& st = self->state;
  job.done = true;
  cancel_punches(self, job, "cancelled: another attempt won");
  auto conn = won;
  conn.report.peer = job.peer_id;
  conn.report.kind = job.opts.kind;
  conn.report.ms = ms_since(self, job.started);
  conn.report.attempts = job.reports;
  for (auto& p : job.pipes)
    if (p != conn.pipe)
      caf::anon_send(p, caf::close_atom::value);
  add_link(self, conn);
  for (auto& rp : job.waiters)
    rp.deliver(conn);
  if (job.serving)
    --st.serving;
  else {
    ++st.stats.connects;
    st.connects.won(conn.report.how, conn.report.ms);
  }
  st.jobs.erase(job.peer_id); // last: it owns `job`
}

void on_budget_timeout(node_actor_ptr self, const std::string& peer, uint64_t round) {
  auto& st = self->state;
  auto i = st.jobs.find(peer);
  if (i == st.jobs.end() || i->second->done || i->second->round != round)
    return;
  auto job = i->second;
  if (job->awaiting_address) {
    if (job->refresh_first) {
      job->reports.push_back({"address request",
                              "no answer within the budget: connecting to the address found",
                              ms_since(self, job->started)});
      job->refresh_first = false;
      job->awaiting_address = false;
      return start_round(self, job);
    }
    job->reports.push_back({"address request", "no answer within the budget",
                            ms_since(self, job->started)});
    return fail_job(self, *job);
  }
  const auto& last = job->plan[job->next - 1];
  if (last.how == strategy::reverse)
    report(self, *job, last, "the peer did not connect back within the budget");
  if (last.how == strategy::punch || last.how == strategy::relay)
    cancel_punches(self, *job, "no connection within punch_budget");
  job->running = 0;
  start_round(self, job);
}

void connect(node_actor_ptr self, const std::string& text, connect_options opts,
             caf::response_promise rp) {
  auto& st = self->state;
  // Not an address but a name: looked up first (node_names.cpp).
  if (text.rfind(peer_address_prefix, 0) != 0 && !net::names::check_name(text)
      && !net::node_id::parse(text)) // an id is 32 base32 letters, a name too
    return connect_by_name(self, text, std::move(opts), std::move(rp));
  auto peer = parse_peer_address(text);
  if (!peer) {
    st.refuse(&node_stats::refused_addresses, "address", "", make_error(peer.error()));
    rp.deliver(make_error(peer.error()));
    return;
  }
  connect_peer(self, std::move(*peer), std::move(opts), std::move(rp), {}, false,
               self->clock().now());
}

void connect_peer(node_actor_ptr self, peer_address peer, connect_options opts,
                  caf::response_promise rp, std::vector<attempt_report> prelude,
                  bool refresh_first, caf::actor_clock::time_point started) {
  auto& st = self->state;
  auto id = peer.id().to_string();
  if (id == st.my_id) {
    rp.deliver(make_error(errc::invalid_argument, "that address is this node's own"));
    return;
  }
  if (auto* l = st.link_to(id)) {
    auto conn = l->conn;
    conn.report.shared = true;
    rp.deliver(conn);
    return;
  }
  if (auto i = st.jobs.find(id); i != st.jobs.end()) {
    i->second->waiters.push_back(std::move(rp));
    return;
  }
  auto job = std::make_shared<connect_job>();
  job->id = st.next_request++;
  job->peer = std::move(peer);
  job->peer_id = id;
  job->started = started;
  job->reports = std::move(prelude);
  job->opts = std::move(opts);
  job->plan = plan_connect(st.view(), job->peer, job->opts);
  job->waiters.push_back(std::move(rp));
  st.jobs[id] = job;
  job->refresh_first = refresh_first;
  if (refresh_first && ask_for_address(self, job))
    return;
  job->refresh_first = false;
  start_round(self, job);
}

void answer_address_request(node_actor_ptr self, const signal_message& msg) {
  auto& st = self->state;
  auto req = wire::decode_payload<wire::address_request>(
    reinterpret_cast<const uint8_t*>(msg.plaintext.data()), msg.plaintext.size());
  if (!req) {
    st.refuse(&node_stats::refused_requests, "request", msg.sender,
              make_error(errc::malformed, "an address request that does not decode"));
    return;
  }
  wire::address_reply rep;
  rep.set_request_id(req->request_id());
  rep.set_peer_address(st.address_text);
  auto payload = wire::encode_payload(rep);
  // The signal node seals it to the asker, who proved its keys. Anonymous:
  // a lost answer is the asker's to time out.
  caf::anon_send(st.signal, send_atom::value, msg.sender_keys,
             static_cast<uint32_t>(wire::PAYLOAD_TYPE_ADDRESS_REPLY),
             bytes(payload.begin(), payload.end()));
}

void on_address_reply(node_actor_ptr self, const signal_message& msg) {
  auto& st = self->state;
  auto rep = wire::decode_payload<wire::address_reply>(
    reinterpret_cast<const uint8_t*>(msg.plaintext.data()), msg.plaintext.size());
  auto i = st.jobs.find(msg.sender);
  if (!rep || i == st.jobs.end() || i->second->done
      || i->second->refresh_id != rep->request_id() || i->second->refresh_id == 0) {
    st.refuse(&node_stats::refused_requests, "request", msg.sender,
              make_error(errc::invalid_argument, "an address reply to nothing we asked"));
    return;
  }
  auto job = i->second;
  if (!job->awaiting_address) {
    // Its budget ran out and the job went on without it: a late answer
    // must not fail or re-plan the attempts now running.
    st.refuse(&node_stats::refused_requests, "request", msg.sender,
              make_error(errc::invalid_argument, "an address reply after its budget ran out"));
    return;
  }
  auto fresh = parse_peer_address(rep->peer_address());
  if (!fresh || fresh->id().to_string() != job->peer_id) {
    st.refuse(&node_stats::refused_addresses, "address", msg.sender,
              fresh ? make_error(errc::forged, "an address reply with another node's address")
                    : make_error(fresh.error()));
    return;
  }
  job->awaiting_address = false;
  if (job->refresh_first) {
    // Before the first attempt: the newer of the two addresses is tried.
    job->refresh_first = false;
    bool newer = fresh->issued_ms >= job->peer.issued_ms;
    bool same = fresh->routes == job->peer.routes && fresh->channels == job->peer.channels;
    job->reports.push_back({"address request",
                            !newer ? "answered with an older address: the one found is kept"
                            : same ? "answered: the address is unchanged"
                                   : "answered: a newer address",
                            ms_since(self, job->started)});
    if (newer) {
      job->peer = std::move(*fresh);
      job->plan = plan_connect(st.view(), job->peer, job->opts);
    }
    job->next = 0;
    return start_round(self, job);
  }
  if (fresh->routes == job->peer.routes && fresh->channels == job->peer.channels) {
    // The same ways in: the attempts that failed would fail again.
    job->reports.push_back({"address request", "answered: the address is unchanged",
                            ms_since(self, job->started)});
    return fail_job(self, *job);
  }
  job->reports.push_back({"address request", "answered", ms_since(self, job->started)});
  job->peer = std::move(*fresh);
  job->plan = plan_connect(st.view(), job->peer, job->opts);
  job->next = 0;
  start_round(self, job);
}

void serve_reverse(node_actor_ptr self, const signal_message& msg) {
  auto& st = self->state;
  auto req = wire::decode_payload<wire::connect_request>(
    reinterpret_cast<const uint8_t*>(msg.plaintext.data()), msg.plaintext.size());
  auto refuse = [&](errc code, std::string why) {
    st.refuse(&node_stats::refused_requests, "request", msg.sender,
              make_error(code, "connect request: " + std::move(why)));
  };
  if (!req)
    return refuse(errc::malformed, "it does not decode");
  bool reverse = std::any_of(req->strategies().begin(), req->strategies().end(),
                             [](int s) { return s == wire::STRATEGY_REVERSE; });
  if (!reverse || req->protocol() != wire::TRANSPORT_TCP)
    return refuse(errc::invalid_argument, "only reverse over TCP is served");
  auto peer = parse_peer_address(req->peer_address());
  // The address must be the sender's own: signalling proved who sent it.
  if (!peer || peer->id().to_string() != msg.sender || peer->keys != msg.sender_keys) {
    st.refuse(&node_stats::refused_addresses, "address", msg.sender,
              peer ? make_error(errc::forged, "a connect request carrying another node's address")
                   : make_error(peer.error()));
    return refuse(errc::invalid_argument, "its address is not the sender's");
  }
  if (st.serving >= st.spec.max_pending_requests)
    return refuse(errc::queue_full, std::to_string(st.spec.max_pending_requests)
                                      + " requests are served already (max_pending_requests)");
  if (st.jobs.count(msg.sender) > 0)
    return refuse(errc::invalid_argument, "a connect with this node is under way");
  ++st.serving;
  auto job = std::make_shared<connect_job>();
  job->id = req->request_id();
  job->peer = std::move(*peer);
  job->peer_id = msg.sender;
  job->serving = true;
  job->started = self->clock().now();
  job->opts.strategies = {strategy::direct};
  job->plan = plan_connect(st.view(), job->peer, job->opts);
  st.jobs[msg.sender] = job;
  start_round(self, job);
}

} // namespace p2pd::node
