#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/actors/punch/udp_punch_spec.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/punch/punch_session.hpp"

namespace p2pd::actors {

// Internal messages: a datagram one of the sockets received (its index,
// the bytes, the sender); the meeting time; the next probe round; the end
// of the window; the next nomination; the open path's periodic check.
using punch_dgram_atom = caf::atom_constant<caf::atom("p2pkdgram")>;
using punch_start_atom = caf::atom_constant<caf::atom("p2pkstart")>;
using punch_round_atom = caf::atom_constant<caf::atom("p2pkround")>;
using punch_window_atom = caf::atom_constant<caf::atom("p2pkwin")>;
using punch_nominate_atom = caf::atom_constant<caf::atom("p2pknom")>;
using punch_tick_atom = caf::atom_constant<caf::atom("p2pktick")>;

using punch_impl = pipe_actor::extend<
  caf::reacts_to<punch_dgram_atom, uint32_t, bytes, endpoint>,
  caf::reacts_to<punch_start_atom>, caf::reacts_to<punch_round_atom>,
  caf::reacts_to<punch_window_atom>, caf::reacts_to<punch_nominate_atom>,
  caf::reacts_to<punch_tick_atom>, caf::reacts_to<pipe_error>>;

// Between the sockets' handlers (on the I/O thread) and the punch: how
// many datagrams wait in its mailbox, and how many were dropped for that.
struct punch_inbox {
  std::atomic<size_t> queued{0};
  std::atomic<uint64_t> dropped{0};
};

struct punch_socket {
  pipe_actor pipe;
  endpoint local; ///< as bound
  bool open = false;
  bool closing = false; ///< we closed it: its end is no failure
};

struct punch_state {
  udp_punch_spec spec;
  pipe_actor hdl; ///< this actor, for the messages it sends
  std::optional<net::punch_session> session;
  std::vector<punch_socket> sockets;
  size_t sockets_opening = 0;
  std::shared_ptr<punch_inbox> inbox = std::make_shared<punch_inbox>();
  lifecycle life{life_phase::idle};
  waiters open_waiters;
  caf::actor_addr owner;
  std::vector<subscriber> subs;
  pipe_stats stats;
  pipe_info info;
  /// Where the peer sent from on the path (the first is the nominated
  /// remote; rebinding adds), for send (bytes, endpoint); bounded.
  std::vector<endpoint> peer_sources;
  caf::actor_clock::time_point last_rx;
  caf::actor_clock::time_point last_tx;
  size_t closes_pending = 0;
  caf::error end_reason;

  static inline const char* name = "p2pd.udp_punch";
};

using punch_ptr = punch_impl::stateful_pointer<punch_state>;

/// Sends `msg` to every subscriber of `ev`.
void notify(punch_ptr self, uint8_t ev, const caf::message& msg);

/// Starts the punch: checks, sockets, then the rounds at the meeting time.
void start_punch(punch_ptr self);

/// The next probe round, and the one after it.
void probe_round(punch_ptr self);

/// The window ended: fails the open unless a path was agreed.
void window_over(punch_ptr self);

/// The controlling side's nomination again, or its failure.
void renominate(punch_ptr self);

/// A datagram from socket `i`.
void on_datagram(punch_ptr self, uint32_t i, const bytes& data, const endpoint& from);

/// The open path's periodic check: idle timeout, keepalive.
void tick(punch_ptr self);

/// Seals `payload` as data on the path and sends it; the error (counted)
/// otherwise.
caf::error send_data(punch_ptr self, const bytes& payload, const endpoint* to);

/// Ends the punch: a sealed close to the peer when `tell_peer` and there
/// is a path, every socket closed, open requests answered with `reason`
/// (or pipe_closed), subscribers told (pipe_end), close requests
/// answered, and the actor quits with `reason`.
void end_punch(punch_ptr self, caf::error reason, bool tell_peer);

/// The pipe_stats of now.
pipe_stats current_stats(punch_ptr self);

} // namespace p2pd::actors
