#include "p2pd/node/metrics/detail/metrics_gather.hpp"

#include <memory>

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "p2pd/actors/common/timeouts.hpp"

namespace p2pd::node {

namespace {

using metrics_deadline_atom = caf::atom_constant<caf::atom("p2mdeadln")>;

struct metrics_gather_state {
  static inline const char* name = "p2pd.metrics_gather";
  node_metrics m;
  caf::response_promise rp;
  size_t pending = 0;  ///< answers still out (daemon, pipes, signal node)
  bool signal_waiting = false;  ///< the signal node's answer is one of them
  bool answered = false;
};

using gather_ptr = caf::stateful_actor<metrics_gather_state>*;

void finish_gather(gather_ptr self) {
  auto& st = self->state;
  if (st.answered)
    return;
  st.answered = true;
  // What has not answered by now (the signal node aside) is a pipe or the
  // daemon: counted, so a scrape tells "missing" from "zero".
  if (st.signal_waiting)
    --st.pending; // reported by has_signal, not as a pipe
  st.m.pipes_unanswered += static_cast<uint32_t>(st.pending);
  st.rp.deliver(std::move(st.m));
  self->quit();
}

void one_answered(gather_ptr self) {
  auto& st = self->state;
  if (st.pending > 0 && --st.pending == 0)
    finish_gather(self);
}

void ask_pipe(gather_ptr self, std::string role, std::string name, pipe_actor pipe,
              uint64_t restarts) {
  // No timeout of its own: the deadline bounds the whole gathering (and a
  // request's timeout would keep this actor alive until it fired).
  self->request(pipe, timeouts::until_answered, stats_atom::value)
    .then(
      [=](pipe_stats& s) {
        self->state.m.pipes.push_back(pipe_metrics{role, name, s, restarts});
        one_answered(self);
      },
      [=](caf::error&) {
        // Gone since it was listed: no counters to add.
        ++self->state.m.pipes_unanswered;
        one_answered(self);
      });
}

caf::behavior metrics_gather(gather_ptr self, node_metrics base, daemon_actor daemon,
                             std::vector<named_pipe> links, signal_node_actor signal,
                             caf::timespan bound) {
  self->state.m = std::move(base);
  self->set_default_handler(caf::drop);
  return {
    [=](metrics_atom) -> caf::result<node_metrics> {
      auto& st = self->state;
      st.rp = self->make_response_promise();
      st.pending = links.size() + (daemon ? 1 : 0) + (signal ? 1 : 0);
      if (st.pending == 0) {
        finish_gather(self);
        return caf::delegated<node_metrics>{};
      }
      self->delayed_send(self, bound, metrics_deadline_atom::value);
      for (auto& [peer, pipe] : links)
        ask_pipe(self, "link", peer, pipe, 0);
      st.signal_waiting = static_cast<bool>(signal);
      if (signal)
        self->request(signal, timeouts::until_answered, stats_atom::value)
          .then(
            [=](signal_node_stats& s) {
              self->state.signal_waiting = false;
              self->state.m.has_signal = true;
              self->state.m.signal = s;
              one_answered(self);
            },
            [=](caf::error&) {
              self->state.signal_waiting = false;
              one_answered(self);
            });
      if (daemon)
        self->request(daemon, timeouts::until_answered, listeners_atom::value)
          .then(
            [=](std::vector<listener_info>& ls) {
              // The daemon's answer is replaced by one per listener.
              self->state.pending += ls.size();
              for (auto& l : ls)
                ask_pipe(self, "listener",
                         std::string{net::to_string(l.proto)} + " " + l.local.to_string(), l.pipe,
                         l.restarts);
              one_answered(self);
            },
            [=](caf::error&) {
              ++self->state.m.pipes_unanswered;
              one_answered(self);
            });
      return caf::delegated<node_metrics>{};
    },
    [=](metrics_deadline_atom) { finish_gather(self); },
  };
}

} // namespace

metrics_gather_actor spawn_metrics_gather(caf::actor_system& sys, node_metrics base,
                                          daemon_actor daemon, std::vector<named_pipe> links,
                                          signal_node_actor signal, caf::timespan bound) {
  return caf::actor_cast<metrics_gather_actor>(
    sys.spawn(metrics_gather, std::move(base), std::move(daemon), std::move(links),
              std::move(signal), bound));
}

} // namespace p2pd::node
