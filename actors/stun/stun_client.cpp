#include "p2pd/actors/stun/stun_client.hpp"

#include <memory>

#include "caf/actor_cast.hpp"
#include "caf/actor_clock.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/stun/stun_builder.hpp"

namespace p2pd {

namespace {


// Requests to the pipe carry no timeout of their own: the pipe answers at
// once (recv: within its wait, by its own timer), and a closed pipe bounces
// them (see timeouts::until_answered).
constexpr auto pipe_timeout = timeouts::until_answered;

struct transaction {
  stun_query q;
  stun_timing timing;
  net::stun_txid id;
  bytes wire;
  bool tcp = false;
  uint64_t queue = 0;
  uint32_t sends = 0;
  caf::timespan wait{};
  caf::actor_clock::time_point sent_at;
  std::vector<uint8_t> stream; // TCP: what came so far
  uint32_t ignored = 0;        // UDP answers from an unexpected address
  caf::response_promise rp;
};

using txn_ptr = std::shared_ptr<transaction>;
using client_ptr = caf::typed_event_based_actor<
  caf::replies_to<stun_atom, stun_query>::with<stun_binding>>*;

void finish(const txn_ptr& t, caf::expected<stun_binding> res) {
  if (t->queue != 0) // no answer wanted: anonymous
    caf::anon_send(t->q.pipe, caf::unsubscribe_atom::value, t->queue);
  if (res)
    t->rp.deliver(std::move(*res));
  else
    t->rp.deliver(res.error());
}

// An answer, decoded: a binding, an error response, or garbage.
caf::expected<stun_binding> read_answer(client_ptr self, const txn_ptr& t, const uint8_t* data,
                                        size_t size, const endpoint& from) {
  net::stun_decode_options opts;
  opts.allow_rfc3489 = t->id.rfc3489();
  opts.expect_txid = t->id;
  auto msg = net::decode_stun(data, size, opts);
  if (!msg)
    return make_error(msg.error());
  if (auto ec = msg->error_code(); ec || msg->cls() == net::stun_class::error)
    return make_error(errc::invalid_argument,
                      "STUN server " + from.to_string() + " answered with error "
                        + (ec ? std::to_string(ec->code) + " " + ec->reason : "?"));
  stun_binding b;
  auto mapped = msg->xor_mapped_address();
  if (!mapped)
    mapped = msg->mapped_address();
  if (!mapped)
    return make_error(errc::invalid_argument,
                      "STUN server " + from.to_string() + " answered without an address");
  b.mapped = *mapped;
  b.responder = from;
  b.response_origin = msg->response_origin().value_or(msg->source_address().value_or(endpoint{}));
  b.other_address = msg->other_address().value_or(msg->changed_address().value_or(endpoint{}));
  b.rtt = self->clock().now() - t->sent_at;
  b.sends = t->sends;
  return b;
}

// Where a UDP binding may come from: the server itself, or for a change
// request the address and port it was asked to change to. Anything else is
// not this server's answer (a spoofed or stray packet that guessed the
// transaction id) and is ignored.
bool expected_responder(const stun_query& q, const endpoint& from) {
  bool same_ip = from.ip == q.server.ip;
  bool same_port = from.port == q.server.port;
  return same_ip != q.change.change_ip && same_port != q.change.change_port;
}

void receive(client_ptr self, txn_ptr t);

void send_binding(client_ptr self, const txn_ptr& t) {
  ++t->sends;
  t->sent_at = self->clock().now();
  if (t->tcp)
    self->send(t->q.pipe, send_atom::value, t->wire);
  else
    self->send(t->q.pipe, send_atom::value, t->wire, t->q.server);
  receive(self, t);
}

void receive(client_ptr self, txn_ptr t) {
  self->request(t->q.pipe, pipe_timeout, recv_atom::value, t->queue, t->wait)
    .then(
      [self, t](pipe_msg& m) {
        if (t->tcp) {
          t->stream.insert(t->stream.end(), m.data.begin(), m.data.end());
          auto need = net::stun_message_size(t->stream.data(), t->stream.size());
          if (!need || t->stream.size() < *need)
            return receive(self, t); // more of the answer is on its way
          return finish(t, read_answer(self, t, t->stream.data(), *need, m.from));
        }
        auto b = read_answer(self, t, reinterpret_cast<const uint8_t*>(m.data.data()), m.data.size(),
                             m.from);
        if (!b && code_of(b.error()) != errc::invalid_argument)
          return receive(self, t); // garbage that happened to match: keep waiting
        // A binding must come from where it was asked to; an error response
        // (e.g. 420 to a change request) from the server itself.
        if (b ? !expected_responder(t->q, m.from) : m.from != t->q.server) {
          ++t->ignored;
          return receive(self, t);
        }
        finish(t, std::move(b));
      },
      [self, t](caf::error& err) {
        if (code_of(err) != errc::recv_timeout || t->tcp)
          return finish(t, std::move(err));
        const auto& timing = t->timing;
        if (t->sends >= timing.max_sends)
          return finish(t, make_error(errc::recv_timeout,
                                            "no answer from STUN server "
                                              + t->q.server.to_string() + " after "
                                              + std::to_string(t->sends) + " sends"
                                              + (t->ignored == 0 ? std::string{}
                                                 : " (" + std::to_string(t->ignored)
                                                     + " answers from unexpected addresses ignored)")));
        t->wait = t->sends + 1 == timing.max_sends ? timing.rto * timing.last_wait_factor
                                                     : t->wait * 2;
        send_binding(self, t);
      });
}

} // namespace

stun_client_actor spawn_stun_client(caf::actor_system& sys, stun_timing timing) {
  return sys.spawn(
    [](caf::typed_event_based_actor<caf::replies_to<stun_atom, stun_query>::with<stun_binding>>*
         self,
       stun_timing timing) -> stun_client_actor::behavior_type {
      return {
        [self, timing](stun_atom, stun_query& q) -> caf::result<stun_binding> {
          auto t = std::make_shared<transaction>();
          t->q = std::move(q);
          t->timing = timing;
          t->id = net::stun_txid::random(t->q.rfc3489);
          net::stun_builder b{net::stun_class::request, net::stun_method::binding, t->id};
          if (t->q.change.change_ip || t->q.change.change_port)
            b.add_change_request(t->q.change);
          if (!t->q.rfc3489)
            b.add_fingerprint();
          auto wire = b.finish();
          if (!wire)
            return make_error(wire.error());
          t->wire.assign(wire->begin(), wire->end());
          t->rp = self->make_response_promise();
          self->request(t->q.pipe, pipe_timeout, info_atom::value)
            .then(
              [self, t, timing](pipe_info& info) {
                t->tcp = info.proto == net::protocol::tcp;
                t->wait = t->tcp ? timing.tcp_timeout : timing.rto;
                // UDP answers are told apart by their transaction id; a TCP
                // pipe to a server carries this transaction only.
                auto f = t->tcp ? msg_filter::any()
                                : msg_filter{bytes(t->id.data(), t->id.data() + t->id.size()),
                                             {}, false, {}};
                self->request(t->q.pipe, pipe_timeout, queue_atom::value, f)
                  .then(
                    [self, t](uint64_t queue) {
                      t->queue = queue;
                      send_binding(self, t);
                    },
                    [t](caf::error& err) { t->rp.deliver(err); });
              },
              [t](caf::error& err) { t->rp.deliver(err); });
          return t->rp;
        },
      };
    },
    timing);
}

caf::timespan stun_deadline(const stun_timing& timing, net::protocol proto) {
  if (proto == net::protocol::tcp)
    return timing.tcp_timeout + timeouts::stun_margin;
  caf::timespan total = timing.rto * timing.last_wait_factor;
  auto wait = timing.rto;
  for (uint32_t i = 1; i + 1 < timing.max_sends; ++i, wait *= 2)
    total += wait;
  return total + timing.rto + timeouts::stun_margin;
}

} // namespace p2pd
