#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "caf/actor_clock.hpp"

#include "p2pd/messages/pipe.hpp"

// What the TURN server keeps of TCP allocations' connections (RFC 6062;
// turn_server_tcp_relay.cpp does the work).
namespace p2pd::actors::turn_srv {

/// The client data connections that are bound: their bytes are a peer's
/// stream, not TURN messages. Shared with the control TCP pipe's framer,
/// which runs on the I/O thread.
class raw_conns {
public:
  void add(const endpoint& ep) {
    std::lock_guard<std::mutex> guard{mtx_};
    eps_.insert(ep);
  }
  void remove(const endpoint& ep) {
    std::lock_guard<std::mutex> guard{mtx_};
    eps_.erase(ep);
  }
  bool has(const endpoint& ep) const {
    std::lock_guard<std::mutex> guard{mtx_};
    return eps_.count(ep) != 0;
  }

private:
  mutable std::mutex mtx_;
  std::set<endpoint> eps_;
};

/// A peer data connection of a TCP allocation: one the server made
/// (Connect: its own client pipe) or took on the relayed address (the
/// allocation's listener, `accepted`).
struct tcp_peer_conn {
  uint32_t id = 0;
  uint64_t alloc = 0;
  endpoint peer;
  pipe_actor pipe;
  bool accepted = false;
  /// The client data connection it is bound to (ConnectionBind).
  std::optional<endpoint> data;
  /// The peer's bytes that came before the bind (bounded).
  bytes buffered;
  /// Unbound by then, it is closed (RFC 6062 §5.3: 30 s).
  caf::actor_clock::time_point bind_by;
};

struct tcp_relay_state {
  std::map<uint32_t, tcp_peer_conn> conns; ///< by CONNECTION-ID
  std::map<endpoint, uint32_t> by_data;    ///< bound client data connection -> id
  /// A peer's bytes that reached the actor before its connection's
  /// pipe_up (that comes through a forwarder, the bytes straight from the
  /// pipe): by allocation and peer, bounded like `buffered`.
  std::map<std::pair<uint64_t, endpoint>, bytes> early;
  /// Connects under way (allocation, pipe): closed with their allocation.
  std::vector<std::pair<uint64_t, pipe_actor>> connecting;
  std::shared_ptr<raw_conns> raw = std::make_shared<raw_conns>();
  uint32_t next_id = 1;
};

} // namespace p2pd::actors::turn_srv
