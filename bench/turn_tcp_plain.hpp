#pragma once

// The baseline of the TCP relay: a plain TURN client for TCP allocations
// (RFC 6062) written with the project's CAF-free codec (net/turn), blocking
// sockets and one thread, no actors. It allocates a TCP relay over a TCP
// control connection, permits one peer IP, waits for the peer's connection
// (ConnectionAttempt), binds it on a data connection of its own
// (ConnectionBind), then echoes the peer's bytes: recv, send.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/sock/socket.hpp"
#include "p2pd/net/turn/turn_session.hpp"

#include "turn_plain.hpp"

namespace p2pd::bench {

class plain_tcp_turn_echo {
public:
  /// Allocates and permits `peer_ip`'s connections, within 5 s, then waits
  /// for one on a thread of its own (at most 10 s) and echoes it. nullptr
  /// and `why` when the server refused or did not answer.
  static std::unique_ptr<plain_tcp_turn_echo> start(const turn_account& acct,
                                                    const net::ip_address& peer_ip,
                                                    std::string& why);
  /// Stops the thread and deletes the allocation (bounded: 1 s).
  ~plain_tcp_turn_echo();

  net::endpoint relayed() const { return relayed_; }
  /// What went wrong (no connection came, the bind failed, send errors);
  /// empty if nothing. Call once the load has stopped.
  std::string problems() const;

private:
  explicit plain_tcp_turn_echo(const turn_account& acct);
  /// Sends what the session has for the server.
  void flush();
  /// Reads what the control connection has (waiting at most `wait_ms`),
  /// feeds the session its frames and ticks it; false when the connection
  /// failed.
  bool read_control(int wait_ms);
  /// read_control until `done` or `limit_ms`; false on failure or timeout.
  template <class Done>
  bool pump(Done done, int limit_ms);
  /// The data connection for `connection_id`, bound; the peer's first
  /// bytes (if they came with the answer) in `early`. "" or why not.
  std::string bind(uint32_t connection_id, std::vector<uint8_t>& early);
  void run();
  void echo(const std::vector<uint8_t>& early);

  net::turn_session session_;
  net::endpoint server_;
  net::unique_fd control_;
  std::vector<uint8_t> control_in_; ///< of the control stream, not yet a frame
  net::unique_fd data_;
  net::endpoint relayed_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> send_errors_{0};
  /// Records why the echo stopped (the first reason).
  void fail(std::string why);

  mutable std::mutex mutex_;
  std::string failure_; ///< under mutex_
  std::thread thread_;
};

} // namespace p2pd::bench
