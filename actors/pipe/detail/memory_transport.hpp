#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/message_handler.hpp"
#include "caf/weak_intrusive_ptr.hpp"

#include "p2pd/actors/pipe/detail/pipe_transport.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd::actors {

/// An in-memory network for pipes hosted by event-based actors: UDP sockets
/// and TCP listeners are looked up by endpoint, and datagrams, connects,
/// stream bytes and FIN/RST travel as actor messages, in order and without
/// loss or delay. It exists to run the pipe core on a second transport (the
/// conformance tests) and as the model of the simulated network's sockets;
/// it models no NAT, no latency and no kernel buffers (pending() is 0).
/// Safe from any thread.
class memory_net {
public:
  using table = std::unordered_map<endpoint, caf::weak_actor_ptr>;

  /// Binds `local` in the UDP (`tcp` false) or listener table to `owner`;
  /// port 0 takes the next free port of [40000, 65535], wrapping round once
  /// (EADDRINUSE when none is free). EADDRINUSE while another live actor has it.
  caf::expected<endpoint> bind(bool tcp, endpoint local, const caf::weak_actor_ptr& owner);
  /// Frees `local` if `owner` holds it.
  void unbind(bool tcp, const endpoint& local, const caf::weak_actor_ptr& owner);
  /// Who receives what is sent to `to`: the exact endpoint, else a wildcard
  /// of its family on its port; null if nobody.
  caf::actor lookup(bool tcp, const endpoint& to);
  /// The next port of [40000, 65535], wrapping round (never 0).
  uint16_t ephemeral_port();
  /// A stream id unique in this network.
  stream_id new_stream();

private:
  static constexpr uint16_t first_port = 40000;

  /// Takes the next port of the range (mtx_ held).
  uint16_t advance();
  /// Whether a live actor holds `local` or the wildcard of its port in `t`.
  static bool taken(const table& t, const endpoint& local);

  std::mutex mtx_;
  table udp_;
  table listeners_;
  uint16_t next_port_ = first_port;
  stream_id next_stream_ = 1;
};

/// Spawns a pipe for `spec` on `net`: the pipe core in an event-based actor
/// over a memory_transport, with the pipe_actor interface of spawn_pipe().
/// Names are not resolved (IP literals only) and fds cannot be adopted.
pipe_actor spawn_memory_pipe(caf::actor_system& sys, pipe_spec spec,
                             std::shared_ptr<memory_net> net);

} // namespace p2pd::actors
