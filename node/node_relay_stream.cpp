// Relayed streams (strategy::relay for transport::stream): two TCP
// allocations (RFC 6062) on one TURN server, joined by the server.
//
//   initiator: allocate TCP on our server -> offer (server, credentials,
//              our relayed address)                         (node_relay.cpp)
//   responder: allocate TCP there with those credentials, permit the
//              initiator's relayed address -> answer (its relayed address)
//   initiator: Connect to the responder's relayed address: the server
//              connects our allocation to the peer's, and each side binds a
//              data connection to its end (ConnectionBind)
//   both:      TLS with node certificates inside the data connections, each
//              side checking that the other is the node it expects; the
//              initiator's hello names the punch, and the responder keeps
//              the connection it came on.
//
// Both allocations are on one server, so the pair needs nothing of either
// NAT but a TCP connection out to the server. The server relays TLS
// records only.
#include "p2pd/node/node_state.hpp"

#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/node/link/hello.hpp"

namespace p2pd::node {

namespace {

using session_ptr = std::shared_ptr<punch_session>;

// The link a relayed stream gives: its messages come from the TURN server
// (the data connection's far end), which is the link's remote; the report
// names the relayed addresses.
node_connection relayed_connection(const punch_session& s, const pipe_actor& pipe,
                                   const endpoint& from) {
  auto conn = punch_connection(s, pipe, s.relayed, from);
  conn.report.remote = s.theirs && s.theirs->relay ? s.theirs->relay->relayed : from;
  return conn;
}

} // namespace

turn_stream_relay_actor spawn_stream_relay(node_actor_ptr self, const punch_session& s,
                                           turn_server server) {
  auto& st = self->state;
  turn_stream_relay_spec t;
  server.transport = net::protocol::tcp;
  t.server = std::move(server);
  t.relay_family = s.fam;
  t.local = s.bind;
  t.timing = st.spec.turn_timing;
  t.stack = st.spec.stack;
  // One peer per session: its connection, and one more for a stranger's
  // attempt that TLS will refuse.
  t.max_pending = 2;
  auto& d = t.data;
  d.proto = net::protocol::tcp;
  d.tls_context = s.initiator ? st.tls_client : st.tls_server;
  d.tls_as = s.initiator ? tls_role::client : tls_role::server;
  if (auto peer = net::node_id::parse(s.peer_id))
    d.expect_node = *peer; // parsed when the peer's address or signalling was accepted
  d.length_prefixed = true;
  d.conf = punch_link_conf(st);
  d.conf.con_timeout = st.spec.direct_budget; // the data connection to the server
  auto me = caf::actor_cast<caf::actor>(self);
  if (s.initiator) {
    // Our connect's answer gives us the stream; no pipe_up is needed.
    d.subscribers.push_back({me, events::msgs | events::end});
  } else {
    // Like a listener's connection: up (the hello wait starts), then
    // messages; the hello says which connection is the peer's.
    d.subscribers.push_back({me, events::up | events::msgs | events::end});
  }
  return spawn_turn_stream_relay(self->home_system(), std::move(t));
}

void join_relayed_stream(node_actor_ptr self, session_ptr s) {
  auto target = s->theirs->relay->relayed;
  s->at = punch_session::step::punching;
  if (s->job)
    report(self, *s->job, s->plan,
           "answered: connecting our relayed address " + s->relayed.to_string() + " to "
             + target.to_string());
  auto relay = s->stream_relay;
  auto failed = [=](std::string what) {
    return [=](caf::error& err) {
      punch_done(self, s, std::nullopt,
                 make_error(code_of(err) == errc::none ? errc::connect_failed : code_of(err),
                            what + target.to_string() + " through the relay: " + render(err)));
    };
  };
  // Permitted first: RFC 6062 lets a server refuse a Connect to a peer
  // without a permission (coturn does not, others may).
  self->request(relay, timeouts::until_answered, permit_atom::value, target)
    .then(
      [=](caf::ok_atom) {
        if (s->at != punch_session::step::punching)
          return;
        self->request(relay, timeouts::until_answered, turn_connect_atom::value, target)
          .then(
            [=](turn_stream& ts) {
              if (s->at != punch_session::step::punching) {
                caf::anon_send(ts.pipe, caf::close_atom::value);
                return;
              }
              hello h;
              h.purpose = link_purpose::punch;
              h.request_id = s->id;
              auto msg = encode_hello(h);
              caf::anon_send(ts.pipe, send_atom::value, bytes(msg.begin(), msg.end()));
              punch_done(self, s, relayed_connection(*s, ts.pipe, ts.info.remote), caf::error{});
            },
            failed("no stream to "));
      },
      failed("no permission for "));
}

void relay_stream_hello(node_actor_ptr self, session_ptr s, const pipe_actor& pipe,
                        const endpoint& remote) {
  // TLS proved the peer, and its hello names this punch. The connection
  // must also be one of our allocation's: a data connection's far end is
  // the TURN server itself, where no connection to a listener of ours
  // comes from (the server connects out from relayed ports). Kept at once:
  // the peer's next message may be right behind its hello.
  const auto& server = s->theirs->relay->server;
  if (remote != server) {
    self->state.refuse(&node_stats::refused_hello, "hello", s->peer_id,
                       make_error(errc::invalid_argument,
                                  "a hello for relayed punch " + std::to_string(s->id) + " from "
                                    + remote.to_string() + ", not through TURN server "
                                    + server.to_string()));
    caf::anon_send(pipe, caf::close_atom::value, remote);
    return;
  }
  punch_done(self, s, relayed_connection(*s, pipe, remote), caf::error{});
}

} // namespace p2pd::node
