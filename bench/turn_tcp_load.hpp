#pragma once

// The TCP load generator of bench_turn: a plain non-blocking TCP socket on
// loopback, the peer outside p2pd. It connects to an echo (a TCP relay's
// relayed address, or a TCP echo server), sends numbered messages and reads
// the echoed byte stream back: sequential round trips, and a window of
// messages in flight. TCP carries bytes, not datagrams: the answers are cut
// from the stream by the size in each message's header, and throughput
// counts the bytes echoed.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/sock/socket.hpp"

#include "sys_util.hpp"
#include "turn_load.hpp"

namespace p2pd::bench {

/// The peer of the TCP cells: one connection, kept over every run.
class tcp_peer {
public:
  /// Connects to `target` (127.0.0.1, within 2 s); "" or why not.
  std::string connect(const net::endpoint& target);

  /// One round trip within `limit`: the echo answers (through a relay: the
  /// connection is bound at both ends).
  bool await_echo(seconds_d limit);

  /// Round trips, then the rates (load_sizes::rate_sizes, window messages
  /// in flight; rate_result::dgrams_s counts messages). A TCP echo loses
  /// nothing: messages never echoed are a problem, as are corrupt ones.
  load_result run(const load_sizes& sz);

private:
  void rtt(load_result& out, const load_sizes& sz);
  rate_result rate(load_result& out, const load_sizes& sz, size_t size);
  /// Appends message `seq` of `size` bytes to what goes out.
  void queue(uint64_t seq, size_t size);
  /// Sends and reads for at most `wait` ms (0: what the kernel has now);
  /// the messages whose echo completed, in order, go to `done`. False on a
  /// closed or failed connection, or a corrupt answer (counted in `out`).
  bool pump(int wait_ms, load_result& out, std::vector<uint64_t>& done);
  /// Until every message sent is echoed or nothing came for `quiet`.
  void drain(seconds_d quiet, load_result& out);

  net::unique_fd fd_;
  std::vector<char> out_; ///< queued, not yet taken by the kernel
  size_t out_sent_ = 0;   ///< of out_
  std::vector<char> in_;  ///< read, not yet a whole message
  uint64_t seq_ = 0;      ///< the last message queued
  uint64_t expect_ = 1;   ///< the next message the echo must return
  bool broken_ = false;   ///< the stream failed or went out of step
  std::string why_;       ///< if broken_
};

} // namespace p2pd::bench
