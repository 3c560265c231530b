#pragma once

// The baselines of bench_node: what a node does, done by the benchmark
// itself with OpenSSL and blocking sockets on loopback, nothing of p2pd's.
// Like node connections: TLS 1.3 only, both sides present a self-signed
// Ed25519 certificate and check the other's self-signature, messages are
// 4-byte length-prefixed.

#include <cstddef>
#include <string>
#include <vector>

namespace p2pd::bench {

/// What a node has that costs time and memory to start, and no more: an
/// Ed25519 certificate (the key made beforehand, as a node's identity is),
/// a server and a client TLS context, and listening sockets on 127.0.0.1
/// and ::1 (::1 only where it works).
struct floor_result {
  std::vector<double> ms;   ///< per endpoint, to make it
  double rss_kib_each = 0;  ///< RSS while all `n` are open, per endpoint
  std::string problem;      ///< empty if nothing went wrong
};
floor_result measure_tls_floor(size_t n);

/// `n` TLS connections on 127.0.0.1, both ends in this process (a thread
/// accepts): the time of each TCP connect plus handshake on the client
/// side, and the RSS per connection (both ends) while all are open.
struct connect_result {
  std::vector<double> ms;
  double rss_kib_each = 0;
  std::string problem;
};
connect_result measure_tls_connects(size_t n);

/// `count` messages of `size` bytes over one TLS connection, one write per
/// message; a thread reads and counts them. The rate is taken from the
/// first write until the last message has been read.
struct rate_result {
  double msgs_per_s = 0;
  double mb_per_s = 0; ///< payload bytes, 10^6 per MB
  std::string problem;
};
rate_result measure_tls_rate(size_t size, size_t count);

} // namespace p2pd::bench
