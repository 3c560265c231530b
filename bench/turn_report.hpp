#pragma once

// The report of bench_turn: medians over the runs of each cell, the table
// and the ratios between the cells.

#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"

#include "turn_load.hpp"

namespace p2pd::bench {

/// One echo and what the peer measured against it.
struct cell {
  std::string name;
  net::endpoint target;           ///< where the peer sends
  std::vector<load_result> runs;
  std::string problem;            ///< set-up failed (or skipped): not run
  std::string echo_problems;      ///< what the echo counted as going wrong
};

/// The table: the four cells (p2pd relay, plain relay, p2pd direct, plain
/// direct, in this order), then the ratios. `stream`: the cells are TCP
/// (messages on a byte stream, not datagrams).
void print_turn_table(const std::vector<cell>& cells, const load_sizes& sz, int runs,
                      bool stream);

/// Prints what went wrong; true if the run failed (a cell not set up while
/// the relay was there, nothing measured, corrupt answers).
bool print_turn_problems(const std::vector<cell>& cells, bool have_relay);

} // namespace p2pd::bench
