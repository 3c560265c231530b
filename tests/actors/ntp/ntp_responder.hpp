#pragma once

// NTP servers for the clock's tests: a responder whose clock is a known
// offset ahead of ours and whose path takes a known time, and that can
// misbehave one way at a time; and a stack whose clock lags the system's.
// The responder stamps both of its timestamps at the midpoint of the time it
// held the request (arrival and answer), plus its offset: to the client that
// is a path of `hold` split evenly, so the offset it measures is the
// responder's to within the loopback's own asymmetry (microseconds), however
// late the hold's timer fires.

#include <chrono>
#include <string>

#include "support/actors.hpp"
#include "support/pipes.hpp"
#include "support/values.hpp"

#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/net/ntp/ntp_packet.hpp"

namespace p2pd::test {

/// One way to answer badly.
enum class ntp_fault {
  none,
  short_packet,   ///< the first 47 bytes of a good answer
  kiss_rate,      ///< stratum 0, "RATE"
  kiss_deny,      ///< stratum 0, "DENY"
  stratum_zero,   ///< stratum 0 without a code
  leap3,          ///< leap indicator 3 (not synchronised)
  wrong_origin,   ///< the origin is not the request's transmit timestamp
  zero_transmit,  ///< no transmit timestamp
  client_mode,    ///< mode 3, as if our request came back
  other_address,  ///< the answer comes from `other`, another address
  spoof_first,    ///< `other` answers first with offset + 10 s, then the real answer
  silent,         ///< no answer
};

struct responder_config {
  int64_t offset_ns = 250'000'000;
  caf::timespan hold{0};
  ntp_fault fault = ntp_fault::none;
  pipe_actor other; ///< the pipe the faults other_address and spoof_first answer from
  caf::actor notify; ///< if set, sent the atom ok for every request that arrives
};

/// A responder `offset_ns` ahead of us behind a path of `hold`, with `fault`.
inline responder_config answering(int64_t offset_ns, caf::timespan hold,
                                  ntp_fault fault = ntp_fault::none) {
  responder_config cfg;
  cfg.offset_ns = offset_ns;
  cfg.hold = hold;
  cfg.fault = fault;
  return cfg;
}

inline int64_t now_ns() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

using arrive_atom = caf::atom_constant<caf::atom("ntparrive")>;
using hold_atom = caf::atom_constant<caf::atom("ntphold")>;

// A request as it arrived: bytes, sender, the pipe to answer on, and when.
struct ntp_arrival {
  bytes data;
  endpoint from;
  pipe_actor pipe;
  int64_t at_ns = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ntp_arrival& x) {
  return f(caf::meta::type_name("p2pd::test::ntp_arrival"), x.data, x.from, x.pipe, x.at_ns);
}

inline void answer_ntp(const responder_config& cfg, const ntp_arrival& m) {
  auto req = net::decode_ntp(reinterpret_cast<const uint8_t*>(m.data.data()), m.data.size());
  if (!req || cfg.fault == ntp_fault::silent)
    return;
  net::ntp_packet x;
  x.version = req->version;
  x.mode = net::ntp_mode::server;
  x.stratum = 2;
  x.precision = -20;
  x.reference_id = 0xc0000201;
  x.origin = req->transmit;
  auto mid = (m.at_ns + now_ns()) / 2;
  x.reference = net::ntp_timestamp::from_unix_ns(mid + cfg.offset_ns - 60'000'000'000);
  x.receive = x.transmit = net::ntp_timestamp::from_unix_ns(mid + cfg.offset_ns);
  auto via = m.pipe;
  switch (cfg.fault) {
    case ntp_fault::kiss_rate:
      x.stratum = 0;
      x.leap = net::ntp_leap::unsynchronised;
      x.reference_id = 0x52415445;
      break;
    case ntp_fault::kiss_deny:
      x.stratum = 0;
      x.leap = net::ntp_leap::unsynchronised;
      x.reference_id = 0x44454e59;
      break;
    case ntp_fault::stratum_zero:
      x.stratum = 0;
      x.reference_id = 0;
      break;
    case ntp_fault::leap3: x.leap = net::ntp_leap::unsynchronised; break;
    case ntp_fault::wrong_origin: x.origin.raw ^= 1; break;
    case ntp_fault::zero_transmit: x.transmit = {}; break;
    case ntp_fault::client_mode: x.mode = net::ntp_mode::client; break;
    case ntp_fault::other_address: via = cfg.other; break;
    case ntp_fault::spoof_first: {
      auto spoof = x;
      spoof.receive = spoof.transmit = net::ntp_timestamp::from_unix_ns(mid + cfg.offset_ns
                                                                        + 10'000'000'000);
      auto w = net::encode_ntp(spoof);
      caf::anon_send(cfg.other, send_atom::value, bytes(w.begin(), w.end()), m.from);
      break;
    }
    default: break;
  }
  auto w = net::encode_ntp(x);
  bytes out(w.begin(), w.end());
  if (cfg.fault == ntp_fault::short_packet)
    out.resize(47);
  caf::anon_send(via, send_atom::value, std::move(out), m.from);
}

/// The responder's actor: its pipe's handler hands it each request.
inline caf::behavior ntp_responder(caf::event_based_actor* self, responder_config cfg) {
  return {
    [self, cfg](arrive_atom, ntp_arrival& m) {
      if (cfg.notify)
        caf::anon_send(cfg.notify, caf::ok_atom::value);
      if (cfg.hold > caf::timespan{0})
        self->delayed_send(self, cfg.hold, hold_atom::value, std::move(m));
      else
        answer_ntp(cfg, m);
    },
    [cfg](hold_atom, const ntp_arrival& m) { answer_ntp(cfg, m); },
  };
}

/// A UDP pipe on `ip` with a responder behind it; both live as long as the
/// runtime, or the pipe until closed.
struct responder {
  pipe_handle pipe;
  endpoint addr() const { return pipe.local(); }
};

inline caf::expected<responder> start_responder(runtime& rt, responder_config cfg,
                                                const char* ip = "127.0.0.1") {
  auto a = rt.system().spawn(ntp_responder, std::move(cfg));
  // The arrival is read on the I/O thread, as the clock reads its T4: the
  // two legs of the path then have one actor hop each (the send).
  auto p = rt.listen(udp, any_port(ip), [a](pipe_io& io, std::string_view data, const endpoint& from) {
    caf::anon_send(a, arrive_atom::value,
                   ntp_arrival{bytes(data.begin(), data.end()), from, io.pipe(), now_ns()});
  });
  if (!p) {
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    return p.error();
  }
  return responder{*p};
}

/// The system's stack with a clock `shift_ns` off (negative: lagging).
class shifted_stack : public net_stack {
public:
  explicit shifted_stack(int64_t shift_ns) : shift_(shift_ns) {}
  std::string name() const override { return "os shifted"; }
  pipe_actor spawn_pipe(caf::actor_system& sys, pipe_spec spec) const override {
    return os_stack()->spawn_pipe(sys, std::move(spec));
  }
  net::result<net::interface_table> interfaces() const override {
    return os_stack()->interfaces();
  }
  int64_t unix_ms() const override { return os_stack()->unix_ms() + shift_ / 1'000'000; }
  int64_t unix_ns() const override { return os_stack()->unix_ns() + shift_; }
  uint64_t rng_seed() const override { return os_stack()->rng_seed(); }

private:
  int64_t shift_;
};

} // namespace p2pd::test
