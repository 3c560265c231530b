#pragma once

// The p2pd cells of bench_node: nodes of one process on loopback,
// signalling through an in-process hub (offline: no server), each with an
// identity made in memory beforehand.

#include <cstddef>
#include <string>
#include <vector>

#include "p2pd/api/runtime.hpp"

namespace p2pd::bench {

/// How much each cell does.
struct node_sizes {
  /// Nodes started one after another, each timed; the first then connects
  /// to each of the others, each connect timed.
  size_t nodes = 51;
  size_t small_size = 64;
  size_t small_count = 200'000;
  size_t large_size = 32 * 1024;
  size_t large_count = 8192; ///< 256 MiB
  /// Messages in flight at most: the pipe API has no blocking send, so the
  /// sender waits for the receiver's count (the TLS baseline has TCP's
  /// flow control instead). Bytes in flight stay far below the write
  /// buffer's limit, past which a pipe resets its connection.
  size_t small_window = 1024;
  size_t large_window = 32;
  /// Nodes of the mesh cell, and connects in flight at once.
  size_t mesh_nodes = 100;
  size_t mesh_window = 16;
};

struct rate_cell {
  double msgs_per_s = 0;
  double mb_per_s = 0; ///< payload bytes, 10^6 per MB
};

struct node_result {
  std::vector<double> start_ms;   ///< runtime::start_node until ready
  std::vector<double> connect_ms; ///< node_handle::connect, IPv4 only
  std::vector<double> report_ms;  ///< the same connects as their reports say
  rate_cell small, large;
  std::string problem;            ///< empty if nothing went wrong
};

/// (a) start, (b) direct connect, (c) messages over one connection: the
/// first node sends on its connection's pipe (fire and forget, as a CAF
/// application does), the second counts in a node handler.
node_result measure_nodes(runtime& rt, const node_sizes& sz);

struct mesh_result {
  size_t nodes = 0;
  size_t pairs = 0;
  double start_ms = 0; ///< from the first spawn until every node is ready
  double mesh_ms = 0;  ///< every pair connected once, IPv4 only
  double close_ms = 0;
  long rss_before_kib = 0, rss_started_kib = 0, rss_meshed_kib = 0, rss_closed_kib = 0;
  std::string problem;

  double kib_per_node() const;
  double kib_per_connection() const; ///< both ends
};

/// (d, e) `sz.mesh_nodes` nodes started at once, then a full mesh of
/// connects (each pair once, `sz.mesh_window` at a time), then closed; the
/// time and RSS of each step. Every node must end up with a connection to
/// every other.
mesh_result measure_mesh(runtime& rt, const node_sizes& sz);

} // namespace p2pd::bench
