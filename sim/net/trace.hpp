#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "p2pd/sim/nat/packet.hpp"
#include "p2pd/sim/time.hpp"

namespace p2pd::sim {

/// What happened to a packet at one point of its path.
enum class trace_kind : uint8_t {
  send,        ///< a host handed it to the fabric
  nat_out,     ///< a NAT's outbound verdict
  nat_in,      ///< a NAT's inbound verdict
  deliver,     ///< it reached a host's stack
  lost,        ///< a link lost it (loss rate)
  no_route,    ///< nobody has the destination address
  no_socket,   ///< the host has no socket for it (a closed UDP port, ...)
  nat_drop,    ///< a NAT dropped it
  nat_reset,   ///< a NAT answered it with an RST
  note,        ///< anything else a stack reports (a TCP timer, ...)
};

const char* to_string(trace_kind x);

/// A run's fingerprint: every event goes into a running 64-bit FNV-1a hash
/// over a canonical encoding (time, kind, place, protocol, both endpoints'
/// family, bytes and port, flags, payload), so two runs can be compared by
/// one number; plus an optional text log, bounded, for reading a run.
class trace {
public:
  /// Keeps at most `log_limit` lines of text (0: none); the hash covers all.
  explicit trace(size_t log_limit = 0) : log_limit_(log_limit) {}

  /// One event at `where` (a host id, or a site id with the top bit set).
  void record(sim_time t, trace_kind k, uint32_t where, const packet& p,
              const std::vector<uint8_t>& payload, const char* why);

  uint64_t hash() const { return hash_; }
  /// The same over everything but the payload bytes (their size counts):
  /// equal for runs that differ only in random bytes the code under test
  /// draws from the crypto generator (keys agreed, nonces, STUN
  /// transaction ids), which no seed governs.
  uint64_t shape_hash() const { return shape_hash_; }
  uint64_t events() const { return events_; }
  const std::vector<std::string>& log() const { return log_; }
  /// Lines that did not fit into the log.
  uint64_t log_dropped() const { return log_dropped_; }

private:
  // Into hash() and, unless `payload`, shape_hash().
  void mix(const void* data, size_t n, bool payload = false);
  template <class T>
  void mix_value(T v) {
    mix(&v, sizeof(v));
  }
  void mix_endpoint(const net::endpoint& e);

  uint64_t hash_ = 0xcbf29ce484222325ULL; // FNV-1a offset basis
  uint64_t shape_hash_ = 0xcbf29ce484222325ULL;
  uint64_t events_ = 0;
  size_t log_limit_;
  std::vector<std::string> log_;
  uint64_t log_dropped_ = 0;
};

/// "tcp 1.2.3.4:5 > 6.7.8.9:10 SA" or "udp ... (12 B)".
std::string describe(const packet& p, size_t payload_size);

} // namespace p2pd::sim
