// The NTP clock actor: answers with the latest estimate, measures at the
// start, on request and on its weak ticker (detail/ntp_round.cpp measures).
#include "p2pd/actors/ntp/ntp_clock.hpp"

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/actors/ntp/detail/ntp_clock_state.hpp"

namespace p2pd {

namespace actors::ntp_detail {

namespace {

ntp_clock_impl::behavior_type ntp_clock_fn(clock_ptr self, ntp_clock_spec spec) {
  self->state.spec = std::move(spec);
  if (self->state.spec.refresh_interval > caf::timespan{0}) {
    // A weak ticker: the periodic measurement must not keep the clock
    // alive; stopped when the clock ends, so that shutdown does not wait
    // for the next tick.
    auto t = start_weak_ticker(self->home_system(), caf::weak_actor_ptr{self->ctrl()},
                               self->state.spec.refresh_interval,
                               caf::make_message(ntp_tick_atom::value));
    self->attach_functor([t] { caf::anon_send_exit(t, caf::exit_reason::user_shutdown); });
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& pipes = self->state.pipes;
    for (auto it = pipes.begin(); it != pipes.end(); ++it)
      if (it->second.address() == dm.source) {
        pipes.erase(it);
        return;
      }
  });
  start_round(self);
  return {
    [self](caf::get_atom) -> caf::result<clock_offset> {
      auto& st = self->state;
      if (st.last)
        return *st.last;
      auto rp = self->make_response_promise<clock_offset>();
      st.waiters.push_back(rp);
      start_round(self);
      return rp;
    },
    [self](refresh_atom) -> caf::result<clock_offset> {
      auto rp = self->make_response_promise<clock_offset>();
      self->state.waiters.push_back(rp);
      start_round(self);
      return rp;
    },
    [self](stats_atom) -> ntp_clock_stats {
      auto out = self->state.stats;
      out.dropped_flood = self->state.inbox->dropped.load();
      return out;
    },
    [self](ntp_dgram_atom, const bytes& data, const endpoint& from, int64_t t4) {
      on_datagram(self, data, from, t4);
    },
    [self](ntp_wait_atom, uint64_t round, uint32_t i, uint32_t send) {
      on_reply_wait(self, round, i, send);
    },
    [self](ntp_next_atom, uint64_t round, uint32_t i) { on_next(self, round, i); },
    [self](ntp_tick_atom) { start_round(self); },
  };
}

} // namespace

} // namespace actors::ntp_detail

caf::expected<ntp_clock_actor> spawn_ntp_clock(caf::actor_system& sys, ntp_clock_spec spec) {
  if (auto err = spec.check())
    return err;
  if (!spec.stack)
    spec.stack = os_stack();
  return caf::actor_cast<ntp_clock_actor>(sys.spawn(actors::ntp_detail::ntp_clock_fn, std::move(spec)));
}

} // namespace p2pd
