// The NTP responder: a UDP pipe whose handler stamps each datagram's
// arrival on the pipe's thread and hands it to the actor, which answers.
#include "p2pd/actors/ntp/ntp_responder.hpp"

#include <chrono>
#include <memory>
#include <optional>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/common/bounded_inbox.hpp"
#include "p2pd/actors/common/open_once.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/names/rate_limiter.hpp"
#include "p2pd/net/ntp/ntp_packet.hpp"

namespace p2pd {

caf::error ntp_responder_spec::check() const {
  auto bad = [](std::string what) {
    return make_error(errc::invalid_argument, "ntp_responder_spec: " + std::move(what));
  };
  if (stratum < 1 || stratum > 15)
    return bad("stratum " + std::to_string(stratum) + " is not a server's (1..15)");
  if (max_queued == 0)
    return bad("max_queued must be at least 1");
  return {};
}

// Named, not anonymous: a unity build puts this file in one translation unit
// with others of namespace p2pd.
namespace actors::ntp_responder_detail {

using ntp_query_atom = caf::atom_constant<caf::atom("p2ntpq")>;

using responder_impl = ntp_responder_actor::extend<
  caf::reacts_to<ntp_query_atom, bytes, endpoint, int64_t>>;

struct responder_state {
  ntp_responder_spec spec;
  const net_stack* stack = nullptr;
  std::shared_ptr<bounded_inbox> inbox;
  std::optional<net::names::rate_limiter> rate;
  pipe_actor pipe;
  open_once opening;
  ntp_responder_stats stats;
};

using responder_ptr = responder_impl::stateful_pointer<responder_state>;

// Runs on the pipe's thread for each datagram: T2 is read here, before the
// hop to the actor, and at most max_queued wait in its mailbox. It holds
// the stack by its shared pointer: the pipe may outlive the actor's state.
msg_handler query_handler(responder_ptr self) {
  return [weak = caf::weak_actor_ptr{self->ctrl()}, inbox = self->state.inbox,
          stack = self->state.spec.stack](pipe_io&, std::string_view data, const endpoint& from) {
    auto t2 = stack->unix_ns();
    tell_bounded(weak, *inbox, ntp_query_atom::value, bytes(data.begin(), data.end()), from, t2);
  };
}

void answer(responder_ptr self, const bytes& data, const endpoint& from, int64_t t2) {
  auto& st = self->state;
  auto req = net::decode_ntp(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (!req) {
    ++st.stats.dropped_malformed;
    return;
  }
  if (req->mode != net::ntp_mode::client) {
    ++st.stats.dropped_mode;
    return;
  }
  if (st.rate) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      self->clock().now().time_since_epoch());
    if (!st.rate->allow({}, now.count())) {
      ++st.stats.dropped_rate;
      return;
    }
  }
  net::ntp_packet x;
  x.version = req->version;
  x.mode = net::ntp_mode::server;
  x.stratum = st.spec.stratum;
  x.poll = req->poll;
  x.precision = st.spec.precision;
  x.reference_id = st.spec.reference_id;
  x.origin = req->transmit;
  x.receive = net::ntp_timestamp::from_unix_ns(t2 + st.spec.skew_ns);
  auto t3 = st.stack->unix_ns() + st.spec.skew_ns;
  // "Last set" a while ago: a clock that is kept, not one just stepped.
  x.reference = net::ntp_timestamp::from_unix_ns(t3 - 64'000'000'000);
  x.transmit = net::ntp_timestamp::from_unix_ns(t3);
  auto w = net::encode_ntp(x);
  if (!st.pipe) {
    ++st.stats.dropped_send;
    return;
  }
  self->send(st.pipe, send_atom::value, bytes(w.begin(), w.end()), from);
  ++st.stats.answered;
}

void open_pipe_of(responder_ptr self) {
  auto& st = self->state;
  auto ps = server_spec(udp, st.spec.local, query_handler(self));
  st.pipe = st.stack->spawn_pipe(self->home_system(), std::move(ps));
  self->monitor(st.pipe);
  // A UDP server pipe answers open at once (bound or the bind's error); a
  // timeout would only hold the responder alive after its end (CAF 0.17).
  self->request(st.pipe, timeouts::until_answered, caf::open_atom::value)
    .then(
      [self](pipe_info& i) { self->state.opening.opened(i); },
      [self](caf::error& err) {
        self->state.opening.failed(err);
        self->quit(err);
      });
}

responder_impl::behavior_type responder_fn(responder_ptr self, ntp_responder_spec spec) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.stack = &stack_or_os(st.spec.stack);
  if (!st.spec.stack)
    st.spec.stack = os_stack();
  st.inbox = std::make_shared<bounded_inbox>(st.spec.max_queued);
  if (st.spec.max_answers_per_s > 0)
    st.rate.emplace(st.spec.max_answers_per_s, st.spec.max_answers_per_s, 1);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.opening.owned_by(dm.source))
      self->quit(caf::exit_reason::user_shutdown);
    else if (dm.source == st.pipe.address())
      self->quit(dm.reason);
  });
  return {
    [self](caf::open_atom) {
      return self->state.opening.open(self, [self] { open_pipe_of(self); });
    },
    [self](stats_atom) {
      auto out = self->state.stats;
      out.dropped_flood = self->state.inbox->dropped.load();
      return out;
    },
    [self](caf::close_atom) {
      auto& st = self->state;
      if (st.pipe)
        caf::anon_send(st.pipe, caf::close_atom::value);
      self->quit(caf::exit_reason::user_shutdown);
      return caf::ok_atom::value;
    },
    [self](ntp_query_atom, const bytes& data, const endpoint& from, int64_t t2) {
      self->state.inbox->leave();
      answer(self, data, from, t2);
    },
  };
}

} // namespace actors::ntp_responder_detail

caf::expected<ntp_responder_actor> spawn_ntp_responder(caf::actor_system& sys,
                                                       ntp_responder_spec spec) {
  if (auto err = spec.check())
    return err;
  return caf::actor_cast<ntp_responder_actor>(
    sys.spawn(actors::ntp_responder_detail::responder_fn, std::move(spec)));
}

} // namespace p2pd
