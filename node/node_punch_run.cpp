// The punch mechanisms, from the meeting time on: TCP (connect while
// listening, actors/punch/tcp_punch) or UDP (sealed probes that become a
// datagram pipe, actors/punch/udp_punch), with what the exchange agreed
// (node_punch.cpp). Either way the connection is authenticated: TLS with
// node certificates, or AEAD keys from ephemeral keys that only the two
// nodes saw (they travel in signed and sealed signalling).
#include "p2pd/node/node_state.hpp"

#include <algorithm>

#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/punch/tcp_punch.hpp"
#include "p2pd/actors/punch/udp_punch.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/addr/ip_class.hpp"
#include "p2pd/net/crypto/session_key.hpp"
#include "p2pd/node/link/hello.hpp"

namespace p2pd::node {

namespace {

using session_ptr = std::shared_ptr<punch_session>;

// The TCP punch of a session, with the node-wide id its ticks carry.
struct tcp_runner {
  explicit tcp_runner(tcp_punch p) : punch(std::move(p)) {}
  tcp_punch punch;
};

tcp_punch* tcp_of(punch_session& s) {
  if (s.proto != net::protocol::tcp || !s.runner)
    return nullptr;
  return &static_cast<tcp_runner*>(s.runner.get())->punch;
}

net::ephemeral_key* key_of(punch_session& s) {
  return static_cast<net::ephemeral_key*>(s.key.get());
}

std::string targets_text(const std::vector<endpoint>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ", ") + x.to_string();
  return out.empty() ? "none" : out;
}

void run_tcp(node_actor_ptr self, session_ptr s) {
  auto& st = self->state;
  auto peer = net::node_id::parse(s->peer_id);
  if (!peer)
    return punch_done(self, s, std::nullopt, make_error(peer.error()));
  tcp_punch_spec t;
  t.stack = st.spec.stack;
  t.local = endpoint{s->bind, s->ours.local_ports.empty() ? uint16_t{0} : s->ours.local_ports.front()};
  t.remotes = s->theirs->predictions;
  t.start = self->clock().now();
  t.interval = std::chrono::milliseconds(s->ours.interval_ms);
  t.window = std::chrono::milliseconds(s->ours.window_ms);
  bool client = tcp_punch_role(st.me->id(), *peer) == tls_role::client;
  t.tls = client ? st.tls_client : st.tls_server;
  t.expect_node = *peer;
  t.conf = punch_link_conf(st);
  t.length_prefixed = true;
  t.events = events::msgs; // the hello that names the kept connection
  tcp_punch_callbacks cb;
  cb.on_connected = [=](const tcp_punch_conn& c) {
    if (s->at != punch_session::step::punching)
      return;
    auto* p = tcp_of(*s);
    if (!client) {
      // The peer names the connection both keep, with its hello on it.
      s->awaiting.emplace_back(c.pipe, c.remote);
      return await_hello(self, c.peer_node, c.pipe, c.remote);
    }
    hello h;
    h.purpose = link_purpose::punch;
    h.request_id = s->id;
    auto msg = encode_hello(h);
    caf::anon_send(c.pipe, send_atom::value, bytes(msg.begin(), msg.end()), c.remote);
    if (p != nullptr)
      p->keep(c.pipe, c.remote);
    punch_done(self, s, punch_connection(*s, c.pipe, c.local, c.remote), caf::error{});
  };
  cb.on_failed = [=](const caf::error& err) { punch_done(self, s, std::nullopt, err); };
  auto id = ++st.next_request;
  s->runner = std::make_shared<tcp_runner>(tcp_punch{self, id, std::move(t), std::move(cb)});
  s->runner_id = id;
  if (s->job)
    report(self, *s->job, s->plan,
           "TCP punch from port " + std::to_string(s->ours.local_ports.empty() ? 0 : s->ours.local_ports.front())
             + " to " + targets_text(s->theirs->predictions) + (client ? " (TLS client)" : " (TLS server)"));
  if (auto err = tcp_of(*s)->start())
    punch_done(self, s, std::nullopt, err);
}

void run_udp(node_actor_ptr self, session_ptr s) {
  auto& st = self->state;
  auto peer = net::node_id::parse(s->peer_id);
  if (!peer)
    return punch_done(self, s, std::nullopt, make_error(peer.error()));
  auto* key = key_of(*s);
  if (key == nullptr || !s->theirs->ephemeral_key)
    return punch_done(self, s, std::nullopt,
                      make_error(errc::crypto_failed, "no key pair for the punch"));
  auto me = st.me->id();
  const auto& init = s->initiator ? me : *peer;
  const auto& resp = s->initiator ? *peer : me;
  auto keys = net::derive_session(*key, *s->theirs->ephemeral_key,
                                  net::byte_view{init.bytes.data(), init.bytes.size()},
                                  net::byte_view{resp.bytes.data(), resp.bytes.size()}, s->id,
                                  s->initiator);
  if (!keys)
    return punch_done(self, s, std::nullopt, make_error(keys.error()));
  udp_punch_spec u;
  u.stack = st.spec.stack;
  if (s->relay) {
    // The TURN pipe is the punch's one socket, aimed at the other relayed
    // address; the punch owns it from now on.
    if (!s->turn || !s->theirs->relay)
      return punch_done(self, s, std::nullopt,
                        make_error(errc::invalid_argument, "a relayed punch without relays"));
    u.relays.push_back(punch_relay{std::move(s->turn), s->relayed});
    s->turn = nullptr;
    u.targets.push_back(s->theirs->relay->relayed);
  } else {
    for (auto p : s->ours.local_ports)
      u.local.push_back(endpoint{s->bind, p});
    if (u.local.empty())
      u.local.push_back(endpoint{s->bind, 0});
    u.targets = s->theirs->predictions;
    if (s->mapped && s->initiator) {
      // The mapping the peer's signed address names, and the one its
      // answer names (a renewal may have moved it): both are the peer's.
      if (std::find(u.targets.begin(), u.targets.end(), s->plan.target) == u.targets.end())
        u.targets.push_back(s->plan.target);
    } else if (s->mapped) {
      u.targets.clear(); // node_punch_mapped.cpp: the node port only answers
      u.answer_only = true;
    }
  }
  // The spraying side predicts no port, only its address.
  auto spray_ip = !s->theirs->predictions.empty() ? std::optional<net::ip_address>{s->theirs->predictions.front().ip}
                                                  : s->theirs->external_ip;
  if (s->ours.spray_probes > 0 && spray_ip) {
    u.spray_probes = s->ours.spray_probes;
    u.spray_ip = *spray_ip;
    u.spray_port_min = min_punch_port;
    u.spray_seed = st.spec.stack->rng_seed();
  }
  u.start = self->clock().now();
  u.interval = std::chrono::milliseconds(s->ours.interval_ms);
  u.window = std::chrono::milliseconds(s->ours.window_ms);
  u.controlling = s->initiator;
  u.keys = *keys;
  // The node port behind a mapping is the punch's alone (prepare_mapped).
  u.conf.reuse_addr = !(s->mapped && !s->initiator);
  u.subscribers.push_back({caf::actor_cast<caf::actor>(self), events::msgs | events::end});
  auto u_targets = u.targets;
  auto pipe = spawn_udp_punch(self->home_system(), std::move(u));
  s->pipes.push_back(pipe);
  if (s->job && s->relay)
    report(self, *s->job, s->plan,
           "relayed punch from " + s->relayed.to_string() + " to " + targets_text(u_targets));
  else if (s->job && s->mapped)
    report(self, *s->job, s->plan, "UDP punch to the peer's mapping " + targets_text(u_targets));
  else if (s->job)
    report(self, *s->job, s->plan,
           "UDP punch from " + std::to_string(s->ours.local_ports.size()) + " socket(s) to "
             + targets_text(s->theirs->predictions)
             + (s->ours.spray_probes > 0 ? " and " + std::to_string(s->ours.spray_probes) + " random ports" : ""));
  // The punch bounds itself (its window); this only catches a lost answer.
  self->request(pipe, st.spec.punch_window * 3, caf::open_atom::value)
    .then(
      [=](pipe_info& info) {
        self->state.datagram_links.insert(pipe.address());
        punch_done(self, s, punch_connection(*s, pipe, info.local, info.remote), caf::error{});
      },
      [=](caf::error& err) { punch_done(self, s, std::nullopt, err); });
}

} // namespace

std::array<uint8_t, 32> make_punch_key(punch_session& s) {
  auto k = net::ephemeral_key::generate();
  if (!k) // OpenSSL without randomness: the punch fails when it derives keys
    return {};
  auto pub = k->pub();
  s.key = std::make_shared<net::ephemeral_key>(std::move(*k));
  return pub;
}

void prime_mappings(node_actor_ptr self, std::shared_ptr<punch_session> s) {
  auto& st = self->state;
  // UDP only. A low-TTL SYN was tried: the ICMP error it draws leaves the
  // NAT's connection tracking in a state in which the next SYN of that
  // four-tuple goes out untranslated (seen in the lab), so TCP punches
  // fail that would work without it.
  // Nor for a mapped punch: the answerer's node port must send nothing first
  // (node_punch_mapped.cpp), and the offerer has nothing to open.
  if (st.spec.punch_prime_ttl == 0 || s->proto != net::protocol::udp || !s->theirs || s->mapped
      || s->ours.local_ports.size() != 1 || s->ours.local_ports.front() == 0)
    return; // a spraying side's many sockets have no port to prime
  // Only across the Internet: on a LAN or one host the packet would arrive.
  std::vector<endpoint> targets;
  for (auto& p : s->theirs->predictions) {
    auto scope = net::classify(p.ip);
    if (scope != net::ip_scope::loopback && scope != net::ip_scope::private_v4
        && scope != net::ip_scope::link_local && scope != net::ip_scope::unique_local)
      targets.push_back(p);
  }
  if (targets.empty())
    return;
  pipe_spec base;
  base.proto = net::protocol::udp;
  base.local = endpoint{s->bind, s->ours.local_ports.front()};
  base.conf.reuse_addr = true;
  base.conf.ttl = st.spec.punch_prime_ttl;
  auto pipe = st.spec.stack->spawn_pipe(self->home_system(), base);
  s->pipes.push_back(pipe);
  self->request(pipe, timeouts::listen, caf::open_atom::value)
    .then(
      [=](pipe_info&) {
        for (auto& t : targets)
          caf::anon_send(pipe, send_atom::value, bytes{'\0'}, t);
        caf::anon_send(pipe, caf::close_atom::value); // after the sends, in order
      },
      [](caf::error&) {}); // no head start: the punch goes on without it
}

node_connection punch_connection(const punch_session& s, const pipe_actor& pipe,
                                 const endpoint& local, const endpoint& remote) {
  node_connection conn;
  conn.pipe = pipe;
  conn.remote = remote;
  conn.peer = s.peer_id;
  // The pipe is the punch's alone (a client pipe, a listener that stopped
  // listening, a datagram pipe): closing the link closes the whole pipe.
  conn.inbound = false;
  conn.report.how = s.relay ? strategy::relay : strategy::punch;
  conn.report.path = s.plan.path;
  conn.report.fam = s.fam;
  conn.report.kind = s.proto == net::protocol::tcp ? transport::stream : transport::datagram;
  conn.report.local = local;
  conn.report.remote = remote;
  return conn;
}

net_conf punch_link_conf(const node_state& st) {
  net_conf c;
  c.reader_limit = static_cast<uint32_t>(st.spec.max_message + 4);
  c.keep_alive = st.spec.keep_alive;
  c.ssl_handshake = st.spec.punch_window;
  return c;
}

void run_punch(node_actor_ptr self, std::shared_ptr<punch_session> s) {
  if (s->proto == net::protocol::tcp)
    run_tcp(self, s);
  else
    run_udp(self, s);
}

bool punch_kept(node_actor_ptr self, const std::string& peer, uint64_t id, const pipe_actor& pipe,
                const endpoint& remote) {
  auto& st = self->state;
  auto i = st.punches.find({peer, id});
  // Whichever side started the punch: the TLS server keeps the connection
  // the client's hello names.
  if (i == st.punches.end())
    return false;
  auto s = i->second;
  if (s->relay && s->proto == net::protocol::tcp && !s->initiator && s->stream_relay) {
    relay_stream_hello(self, s, pipe, remote);
    return true;
  }
  auto* p = tcp_of(*s);
  if (p == nullptr || !p->owns(pipe) || p->keep(pipe, remote))
    return false;
  punch_done(self, s, punch_connection(*s, pipe, p->local(), remote), caf::error{});
  return true;
}

bool on_punch_tick(node_actor_ptr self, const tcp_punch_tick& t) {
  for (auto& kvp : self->state.punches)
    if (kvp.second->runner_id == t.punch)
      if (auto* p = tcp_of(*kvp.second))
        return p->on_tick(t);
  return false;
}

bool punch_pipe_event(node_actor_ptr self, const pipe_up& ev) {
  for (auto& kvp : self->state.punches)
    if (auto* p = tcp_of(*kvp.second); p != nullptr && p->owns(ev.pipe)) {
      auto s = kvp.second; // the callback may end the session
      p->on_up(ev);
      return true;
    }
  return false;
}

bool punch_pipe_event(node_actor_ptr self, pipe_msg& ev) {
  auto& st = self->state;
  if (st.datagram_links.count(ev.pipe.address()) == 0)
    return false;
  // A datagram link follows the peer to a new source (NAT rebinding): its
  // messages are its link's whatever endpoint they come from.
  for (auto& kvp : st.links)
    if (kvp.second.conn.pipe == ev.pipe) {
      ev.from = kvp.second.conn.remote;
      return false;
    }
  return false;
}

bool punch_pipe_event(node_actor_ptr self, const pipe_end& ev) {
  auto& st = self->state;
  if (ev.whole)
    st.datagram_links.erase(ev.pipe.address());
  for (auto& kvp : st.punches)
    if (auto* p = tcp_of(*kvp.second); p != nullptr && p->owns(ev.pipe)) {
      auto s = kvp.second;
      if (p->on_end(ev))
        return true;
    }
  return false;
}

} // namespace p2pd::node
