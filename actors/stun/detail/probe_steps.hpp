#pragma once

#include <utility>

#include "caf/expected.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/stun/stun_client.hpp"
#include "p2pd/messages/pipe.hpp"

// The two steps the STUN probers (nat_prober, external_prober) are made of,
// as continuations on an event-based actor: each is one request with its own
// deadline on the actor clock, so a prober never blocks a thread and runs on
// a simulated network's virtual time as on the OS.
namespace p2pd::detail {

using binding_result = caf::expected<stun_binding>;

/// Spawns a pipe of `spec` on `stack`, opens it from `self` (its owner), and
/// calls `k` with the pipe_info or the error, within open_timeout(spec).
template <class Self, class K>
void open_then(Self* self, const net_stack& stack, pipe_spec spec, K k) {
  auto timeout = open_timeout(spec);
  auto pipe = stack.spawn_pipe(self->home_system(), std::move(spec));
  self->request(pipe, timeout, caf::open_atom::value)
    .then([k](pipe_info& info) mutable { k(caf::expected<pipe_info>{std::move(info)}); },
          [k, pipe](caf::error& err) mutable {
            // Not opened in time (or refused): the pipe must not open later
            // and hold its socket while the probe goes on without it.
            caf::anon_send_exit(pipe, caf::exit_reason::user_shutdown);
            k(caf::expected<pipe_info>{std::move(err)});
          });
}

/// One binding request `q` through `client`; `k` gets the binding or the
/// error, within stun_deadline(timing, proto).
template <class Self, class K>
void ask_then(Self* self, const stun_client_actor& client, const stun_timing& timing,
              net::protocol proto, stun_query q, K k) {
  self->request(client, stun_deadline(timing, proto), stun_atom::value, std::move(q))
    .then([k](stun_binding& b) mutable { k(binding_result{std::move(b)}); },
          [k](caf::error& err) mutable { k(binding_result{std::move(err)}); });
}

/// Closes a pipe a prober opened (its owner; the pipe ends with it anyway).
inline void close_probe_pipe(const pipe_info& p) {
  caf::anon_send(p.pipe, caf::close_atom::value);
}

} // namespace p2pd::detail
