#pragma once

// The TCP relay's state (actors/turn/turn_stream_relay.hpp): the
// allocation is a net::turn_session over the control pipe; each Connect
// and ConnectionAttempt becomes a data pipe with a ConnectionBind preamble.

#include <map>
#include <optional>
#include <vector>

#include "caf/response_promise.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/actors/turn/turn_stream_relay.hpp"
#include "p2pd/net/turn/turn_session.hpp"

namespace p2pd::actors {

using relay_tick_atom = caf::atom_constant<caf::atom("p2trtick")>;

using relay_impl = turn_stream_relay_actor::extend<caf::reacts_to<relay_tick_atom, uint64_t>,
                                                   caf::reacts_to<pipe_msg>,
                                                   caf::reacts_to<pipe_end>>;

struct relay_state;
using relay_ptr = relay_impl::stateful_pointer<relay_state>;

struct relay_state {
  static inline const char* name = "p2pd.turn_stream_relay";

  relay_ptr self = nullptr;
  turn_stream_relay_spec spec;
  lifecycle life{life_phase::idle};
  waiters open_waiters;
  caf::actor_addr owner;
  pipe_actor control;
  std::optional<net::turn_session> session;
  /// Connects under way, by tag: who asked.
  std::map<uint64_t, caf::response_promise> connects;
  uint64_t next_tag = 1;
  /// Permits waiting for the server's answer, by IP.
  std::multimap<net::ip_address, caf::response_promise> permits;
  size_t binding = 0; ///< data pipes whose bind is under way
  std::vector<pipe_actor> data; ///< open data pipes (closed with the relay)
  turn_relay_stats stats;
  uint64_t tick_gen = 0;
  std::optional<net::turn_time> tick_at;
  bool closing_control = false;

  relay_state() = default;
  ~relay_state();

  /// Connects and binds under way: what max_pending bounds.
  size_t pending() const { return connects.size() + binding; }
  /// Sends what the session has for the server, acts on its events, sets
  /// its timer.
  void pump();
  /// A data connection for `cid` (ConnectionBind), then the stream to
  /// `rp` (our connect) or to the acceptor (a peer's, `rp` unset).
  void bind(uint32_t cid, const endpoint& peer, std::optional<caf::response_promise> rp);
  turn_relay_stats current_stats() const;
};

/// Opens the control connection and allocates.
void start_relay(relay_ptr self);
/// Ends the relay: deletes the allocation when `graceful` and one is held,
/// then closes the connections and quits.
void end_relay(relay_ptr self, caf::error reason, bool graceful);
/// The session's timer (or the close's deadline).
void on_relay_tick(relay_ptr self, uint64_t gen);

} // namespace p2pd::actors
