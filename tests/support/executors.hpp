#pragma once

// Blocking executors for tests (actors/common/run_blocking.hpp): one that
// counts the jobs an actor system hands it, to show that a component runs
// none.

#include <atomic>
#include <utility>

#include "p2pd/actors/common/run_blocking.hpp"

namespace p2pd::test {

/// Counts every job in `jobs` and runs it at once on the asking thread, as a
/// simulated network's executor would. `jobs` must outlive the executor.
inline blocking_executor counting_inline_executor(std::atomic<int>& jobs) {
  return [&jobs](blocking_job job) {
    ++jobs;
    inline_executor()(std::move(job));
  };
}

} // namespace p2pd::test
