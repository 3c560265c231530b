#pragma once

// The report: medians over the runs, the tables, and the verdicts against the
// targets.

#include <functional>
#include <vector>

#include "child_runs.hpp"
#include "options.hpp"

namespace p2pd::bench {

/// One variant's cell runs, summed up over the runs.
struct variant_runs {
  std::vector<cells_result> runs;

  double median_of(const std::function<double(const cells_result&)>& f) const;
  /// Over every transfer of every run.
  double median_bulk() const;
  double peak_rss_mib() const;
};

/// The cells table: medians of both variants, their ratio, the target.
void print_cells_table(const variant_runs& p, const variant_runs& b, const options& o);

/// Prints what went wrong in a variant's runs; true if anything did.
bool print_cell_problems(variant v, const variant_runs& vr);

/// Prints the soak; true if it failed.
bool print_soak(const soak_result& p, const soak_result& b, const options& o);

} // namespace p2pd::bench
