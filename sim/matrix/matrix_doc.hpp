#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "p2pd/net/error.hpp"

namespace p2pd::sim {

/// Which strategy connected a pair, or none: one cell of the NAT matrix.
enum class matrix_outcome : uint8_t {
  none,      ///< no strategy connected within the budget
  direct,    ///< a direct connect to the peer's address
  reverse,   ///< the peer connected back, asked over signalling
  tcp_punch, ///< a TCP simultaneous open
  udp_punch, ///< a UDP hole punch
  relay,     ///< through the TURN server
};

/// "direct", "tcp_punch" ...
const char* to_string(matrix_outcome x);
/// The outcome of that name (to_string's); invalid_argument otherwise.
net::result<matrix_outcome> parse_matrix_outcome(const std::string& name);

/// One pair's result: the strategy that connected and the connect report's
/// time, in virtual ms (0 when none connected).
struct matrix_cell {
  matrix_outcome how = matrix_outcome::none;
  uint32_t virtual_ms = 0;
};

/// The success matrix of every pair of NAT configurations, for TCP and UDP.
/// Row i is the connecting node's configuration, column j the serving
/// node's; cells are row-major (i * size + j).
struct nat_matrix {
  /// Labels of the configurations, e.g. "full_cone/equal".
  std::vector<std::string> configs;
  std::vector<matrix_cell> tcp;
  std::vector<matrix_cell> udp;
  /// What the document says of how it was made (seed, strategies, budget);
  /// nothing that changes from run to run, so a regeneration compares equal.
  std::string provenance;

  size_t size() const { return configs.size(); }
  matrix_cell& at(std::vector<matrix_cell>& v, size_t row, size_t col) {
    return v[row * size() + col];
  }
  const matrix_cell& at(const std::vector<matrix_cell>& v, size_t row, size_t col) const {
    return v[row * size() + col];
  }
};

/// An empty matrix (every cell none) over `configs`.
nat_matrix make_matrix(std::vector<std::string> configs);

/// Whether the cell vectors match the configurations; the error says which
/// does not.
net::error check(const nat_matrix& m);

/// The Markdown document: provenance, legend, a count per outcome, then one
/// table per transport, a cell being the outcome's letter and virtual ms.
/// Deterministic: the same matrix gives the same bytes.
std::string to_markdown(const nat_matrix& m);

/// A heat map (SVG 1.1, no script, no external reference): the TCP and UDP
/// matrices side by side, a colour per outcome, with a legend. Deterministic.
std::string to_svg(const nat_matrix& m);

/// Reads what to_markdown wrote back into a matrix (provenance excepted), so
/// a test or a tool can compare a regeneration cell by cell and name the
/// cells that changed. A malformed document gives invalid_argument with the
/// line that is wrong.
net::result<nat_matrix> parse_markdown(const std::string& doc);

/// "tcp full_cone/equal -> symmetric/random: udp_punch 120 ms, was none",
/// one line per cell that differs (empty when equal); configs that differ
/// are said first.
std::vector<std::string> diff(const nat_matrix& was, const nat_matrix& now);

} // namespace p2pd::sim
