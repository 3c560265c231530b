#pragma once

// The TURN pipe's state and steps (actors/turn/turn_pipe.hpp): the
// allocation is net::turn_session, this drives it with the pipe toward the
// server and the actor clock.

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/net/turn/turn_session.hpp"

namespace p2pd::actors {

class receive_queues;

// Internal messages: a frame from the server (from the socket's handler on
// the I/O thread); the session's timer (its generation); a recv's timeout.
using turn_frame_atom = caf::atom_constant<caf::atom("p2tframe")>;
using turn_tick_atom = caf::atom_constant<caf::atom("p2ttick")>;
using turn_recv_tmo_atom = caf::atom_constant<caf::atom("p2trtmo")>;

using turn_impl = turn_pipe_actor::extend<caf::reacts_to<turn_frame_atom, bytes, endpoint>,
                                          caf::reacts_to<turn_tick_atom, uint64_t>,
                                          caf::reacts_to<turn_recv_tmo_atom, uint64_t, uint64_t>,
                                          caf::reacts_to<pipe_end>, caf::reacts_to<pipe_error>>;

// Between the server socket's handler and the pipe: frames waiting in the
// mailbox, and those dropped because too many were.
struct turn_inbox {
  std::atomic<size_t> queued{0};
  std::atomic<uint64_t> dropped{0};
};

struct turn_pipe_state;
using turn_ptr = turn_impl::stateful_pointer<turn_pipe_state>;

struct turn_pipe_state : pipe_io {
  turn_ptr self = nullptr;
  turn_pipe_spec spec;
  pipe_actor hdl;    ///< this pipe, as what it sends carries
  pipe_actor server; ///< the socket toward the TURN server
  std::optional<net::turn_session> session;
  lifecycle life{life_phase::idle};
  waiters open_waiters;
  caf::actor_addr owner;
  std::vector<subscriber> subs;
  std::unique_ptr<receive_queues> queues;
  std::vector<caf::weak_actor_ptr> links;
  std::shared_ptr<turn_inbox> inbox = std::make_shared<turn_inbox>();
  pipe_info info;
  pipe_stats stats;
  uint64_t tick_gen = 0;
  std::optional<net::turn_time> tick_at;
  endpoint current_from; ///< the peer of the datagram on_msg handles
  bool closing_server = false;

  turn_pipe_state();
  explicit turn_pipe_state(turn_ptr selfptr);
  ~turn_pipe_state() override;

  // pipe_io, for on_msg: both go through the relay.
  caf::error reply(std::string_view data) override;
  caf::error send(std::string_view data, const endpoint& to) override;
  const pipe_actor& pipe() const override { return hdl; }

  /// Data to `peer` through the relay: ChannelData at once when its channel
  /// is bound, else the session keeps it until it is.
  caf::error send_to(const char* data, size_t size, const endpoint& peer);
  /// A datagram from a peer: to the handler, subscribers, queues, links.
  void deliver(const char* data, size_t size, const endpoint& from);
  void notify(uint8_t ev, const caf::message& msg);
  /// Sends what the session has for the server, tells its events, and sets
  /// its timer.
  void pump();
  pipe_stats current_stats() const;
};

/// Opens the socket toward the server and starts the allocation.
void start_turn(turn_ptr self);
/// A frame from the server.
void on_frame(turn_ptr self, const bytes& frame, const endpoint& from);
/// Ends the pipe: deletes the allocation when `graceful` and one is held,
/// closes the socket, answers waiters, tells subscribers.
void end_turn(turn_ptr self, caf::error reason, bool graceful);
/// The session's timer (or, with generation ~0, the close's deadline).
void on_tick(turn_ptr self, uint64_t gen);

} // namespace p2pd::actors
