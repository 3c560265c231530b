#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"
#include "p2pd/sim/matrix/matrix_doc.hpp"
#include "p2pd/sim/nat/nat_profile.hpp"

namespace p2pd::sim {

/// One configuration of the matrix: a NAT type and a port allocation, as
/// the original names its 35.
struct matrix_config {
  net::nat_type nat = net::nat_type::open_internet;
  net::delta_type allocation = net::delta_type::equal;
  nat_profile profile;
  std::string label; ///< "full_cone/equal"
};

/// The original's 35 configurations (7 NAT types x 5 allocations), in the
/// order of net::nat_type then net::delta_type.
std::vector<matrix_config> all_35_configs();

/// Which transport a pair connects over.
enum class matrix_transport : uint8_t { tcp, udp };

/// What one pair's run is given: both configurations, the transport, and a
/// seed of its own (derived from the matrix's seed and the pair, so a pair
/// gives the same cell whatever runs before it or beside it).
struct matrix_pair {
  const matrix_config* from = nullptr; ///< the connecting node's site
  const matrix_config* to = nullptr;   ///< the serving node's site
  size_t row = 0;
  size_t col = 0;
  matrix_transport transport = matrix_transport::udp;
  uint64_t seed = 0;
};

/// Runs one pair and says which strategy connected it.
using pair_runner = std::function<matrix_cell(const matrix_pair&)>;

/// Runs every pair of `configs` over both transports with `run`, on `jobs`
/// threads (each pair is independent: a runner must share nothing between
/// calls but what is immutable), and returns the matrix. `progress`, when
/// given, is called after each pair with the pairs done and the total, from
/// the calling thread only. A runner that throws does not end the process:
/// the other pairs still run, then std::runtime_error names the pair.
nat_matrix run_matrix(const std::vector<matrix_config>& configs, uint64_t seed, unsigned jobs,
                      const pair_runner& run,
                      const std::function<void(size_t, size_t)>& progress = {});

/// The seed of one pair of a run seeded `seed`.
uint64_t pair_seed(uint64_t seed, size_t row, size_t col, matrix_transport t);

} // namespace p2pd::sim
