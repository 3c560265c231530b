#pragma once

// The load generator of bench_turn: a plain UDP socket on loopback, the peer
// outside p2pd. It sends numbered datagrams to an echo (through a TURN relay,
// or directly) and times what comes back: sequential round trips, and a
// window of datagrams in flight. The same peer drives every cell, so the
// cells differ only in what echoes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/sock/socket.hpp"

#include "sys_util.hpp"

namespace p2pd::bench {

/// A message (a datagram, or one on a stream): its sequence number (8
/// bytes), its size (4 bytes), then a filler that depends on the number,
/// so that a truncated, mixed up or foreign answer shows as corrupt.
constexpr size_t message_header = 12;

inline char message_filler(uint64_t seq) {
  return static_cast<char>('a' + seq % 26);
}

/// How much a cell sends. Every loop is bounded by a count and a time.
struct load_sizes {
  size_t rtt_size = 64;
  int rtt_warmup = 200;
  int rtt_samples = 5000;
  /// Rate measurements, one per size: `window` datagrams in flight.
  std::vector<size_t> rate_sizes{64, 1000};
  int window = 32;
  seconds_d rate_warmup{0.2};
  seconds_d rate_time{2.0};
  /// A datagram unanswered this long counts as lost.
  seconds_d lost_after{0.2};
};

/// One rate measurement.
struct rate_result {
  double dgrams_s = 0; ///< datagrams echoed per second
  double mb_s = 0;     ///< payload bytes echoed per second, 10^6 (one way)
};

/// What one cell measured in one run.
struct load_result {
  double median_us = 0;
  double p99_us = 0;
  std::vector<rate_result> rates; ///< as load_sizes::rate_sizes
  uint64_t sent = 0;
  uint64_t lost = 0;    ///< sent and never answered (UDP: reported, not failed)
  uint64_t corrupt = 0; ///< answers that differ from what was sent
  std::string problem;  ///< nothing measured, a socket error; empty if none
};

/// The peer: a socket bound to 127.0.0.1 on a free port.
class udp_peer {
public:
  udp_peer();
  net::endpoint local() const { return local_; }

  /// Waits (at most `limit`) for a datagram from `from` (an echo saying
  /// hello, which binds its channel to us), then talks to `from` only.
  bool await_hello(const net::endpoint& from, seconds_d limit);

  /// Round trips, then the rates, against the echo at `target`.
  load_result run(const net::endpoint& target, const load_sizes& sz);

private:
  void rtt(load_result& out, const load_sizes& sz);
  rate_result rate(load_result& out, const load_sizes& sz, size_t size);
  /// Sends datagram `seq` of `size` bytes; false if the kernel refused it.
  bool send_seq(uint64_t seq, size_t size);
  /// The next answer within `wait` (its sequence number), or none: -1
  /// timeout, -2 corrupt (counted in `out`). Non-blocking when `wait` is 0.
  int64_t recv_seq(std::chrono::milliseconds wait, load_result& out);
  /// Takes answers until every datagram sent is answered or none came for
  /// `quiet`.
  void drain(std::chrono::milliseconds quiet, load_result& out);

  net::unique_fd fd_;
  net::endpoint local_;
  std::vector<char> out_;
  std::vector<char> in_;
  uint64_t seq_ = 0;
  uint64_t sent_ = 0;     ///< in this run
  uint64_t answered_ = 0; ///< in this run
};

/// The median and 99th percentile of `us`.
void summarize_rtt(std::vector<double> us, load_result& out);

} // namespace p2pd::bench
