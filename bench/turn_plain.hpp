#pragma once

// The baseline of the TURN pipe: a plain TURN client written with the
// project's CAF-free codec (net/turn), one blocking UDP socket toward the
// server and one thread, no actors. It allocates, binds a channel to one
// peer, then echoes every ChannelData it gets from that peer back to it
// through the relay: decode, encode, send, as small a client as TURN allows.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/sock/socket.hpp"
#include "p2pd/net/turn/turn_session.hpp"

namespace p2pd::bench {

/// Long-term credentials on a TURN server.
struct turn_account {
  net::endpoint server;
  std::string username;
  std::string password;
};

/// The session's settings for `acct` on a server on this host (short
/// retransmission timeouts, as loopback_stun_timing()).
net::turn_config plain_turn_config(const turn_account& acct);

class plain_turn_echo {
public:
  /// Allocates, binds a channel to `peer` and sends it a hello through the
  /// relay, all within 5 s, then echoes on a thread of its own. nullptr and
  /// `why` when the server refused or did not answer.
  static std::unique_ptr<plain_turn_echo> start(const turn_account& acct,
                                                const net::endpoint& peer, std::string& why);
  /// Stops the thread and deletes the allocation (bounded: 1 s).
  ~plain_turn_echo();

  net::endpoint relayed() const { return relayed_; }
  /// What went wrong on the way (send errors, frames not for the channel);
  /// empty if nothing. Call once the load has stopped.
  std::string problems() const;

private:
  plain_turn_echo(const turn_account& acct, const net::endpoint& peer);
  /// Sends what the session has for the server.
  void flush();
  /// Feeds the session what the server sent and its ticks, until `done`
  /// or `limit` (ms); false on failure or timeout.
  template <class Done>
  bool pump(Done done, int limit_ms);
  void echo_loop();

  net::turn_session session_;
  net::endpoint peer_;
  net::unique_fd fd_;
  net::endpoint relayed_;
  uint16_t channel_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> send_errors_{0};
  std::atomic<uint64_t> foreign_{0};
  std::thread thread_;
};

} // namespace p2pd::bench
