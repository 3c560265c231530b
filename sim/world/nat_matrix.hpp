#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"

namespace p2pd::sim {

/// One simulated NAT configuration of the matrix.
struct matrix_preset {
  net::nat_type nat;
  net::delta_type delta;
  /// "FC-eq": the type's and the allocation's short names.
  std::string label() const;
};

/// The project's 35 configurations (7 NAT types x 5 allocations), in the
/// order of net::nat_type and net::delta_type.
std::vector<matrix_preset> all_presets();

/// One cell: how the row's node connected to the column's.
struct matrix_cell {
  /// "direct", "reverse", "punch", "relay", or "none".
  std::string how = "none";
  int64_t ms = 0; ///< virtual ms of the connect (0 when none)
};

/// The NAT matrix: for every ordered pair of presets (row: the connecting
/// node, column: the one it connects to), over TCP (direct, reverse, punch,
/// in that order) and over UDP (punch), which strategy connected and in
/// how much virtual time. Each node sits alone behind a NAT of its preset;
/// a pair of one preset is two separate NATs.
struct nat_matrix {
  std::vector<matrix_preset> presets;
  uint64_t seed = 0;
  std::vector<std::vector<matrix_cell>> tcp, udp; ///< [row][column]
};

/// Runs the matrix for `presets` in one simulated world of seed `seed`:
/// two nodes per preset, the connects one after another on fresh ground
/// (node_scenario::run_connects). Errors (a node that is not ready) as
/// text in `why`; the matrix is then empty.
nat_matrix run_nat_matrix(const std::vector<matrix_preset>& presets, uint64_t seed,
                          std::string& why);

/// The matrix as Markdown: a legend, the TCP and the UDP table (a letter a
/// cell: D direct, R reverse, P punch, T relay, · none), counts per
/// strategy and the median virtual ms of each.
std::string to_markdown(const nat_matrix& m);

/// The matrix as an SVG heat map: the TCP and the UDP table side by side,
/// a square a cell, coloured by strategy.
std::string to_svg(const nat_matrix& m);

} // namespace p2pd::sim
