#include "p2pd/sim/matrix/matrix_run.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "p2pd/net/util/splitmix64.hpp"

namespace p2pd::sim {

std::vector<matrix_config> all_35_configs() {
  using net::delta_type;
  using net::nat_type;
  std::vector<matrix_config> out;
  for (auto nat : {nat_type::open_internet, nat_type::udp_firewall, nat_type::full_cone,
                   nat_type::restricted, nat_type::port_restricted, nat_type::symmetric,
                   nat_type::blocked})
    for (auto alloc : {delta_type::equal, delta_type::preserving, delta_type::independent,
                       delta_type::dependent, delta_type::random}) {
      auto p = nat_profile::p2pd(nat, alloc);
      if (!p)
        continue; // every pair has a preset; the round-trip test says so
      out.push_back({nat, alloc, *p,
                     std::string{net::to_string(nat)} + "/" + net::to_string(alloc)});
    }
  return out;
}

uint64_t pair_seed(uint64_t seed, size_t row, size_t col, matrix_transport t) {
  net::splitmix64 g{seed ^ (uint64_t{row} << 40) ^ (uint64_t{col} << 20)
                    ^ (t == matrix_transport::tcp ? 1u : 2u)};
  return g.next();
}

nat_matrix run_matrix(const std::vector<matrix_config>& configs, uint64_t seed, unsigned jobs,
                      const pair_runner& run, const std::function<void(size_t, size_t)>& progress) {
  std::vector<std::string> labels;
  for (auto& c : configs)
    labels.push_back(c.label);
  auto m = make_matrix(std::move(labels));
  std::vector<matrix_pair> work;
  for (auto t : {matrix_transport::tcp, matrix_transport::udp})
    for (size_t i = 0; i < configs.size(); ++i)
      for (size_t j = 0; j < configs.size(); ++j)
        work.push_back({&configs[i], &configs[j], i, j, t, pair_seed(seed, i, j, t)});
  std::vector<matrix_cell> cells(work.size());
  std::atomic<size_t> next{0};
  std::mutex mtx;
  std::condition_variable cv;
  size_t done = 0;
  std::string failed; // the first pair whose run threw, and why
  auto worker = [&] {
    for (size_t k = next++; k < work.size(); k = next++) {
      std::string why;
      try {
        cells[k] = run(work[k]);
      } catch (const std::exception& e) {
        why = e.what();
      }
      std::lock_guard<std::mutex> guard{mtx};
      if (!why.empty() && failed.empty()) {
        auto& p = work[k];
        failed = std::string{p.transport == matrix_transport::tcp ? "tcp " : "udp "}
                 + p.from->label + " -> " + p.to->label + ": " + why;
      }
      ++done;
      cv.notify_one();
    }
  };
  jobs = std::max(1u, jobs);
  std::vector<std::thread> threads;
  for (unsigned k = 0; k < jobs; ++k)
    threads.emplace_back(worker);
  {
    std::unique_lock<std::mutex> guard{mtx};
    size_t told = 0;
    while (told < work.size()) {
      cv.wait(guard, [&] { return done > told; });
      auto now = done;
      guard.unlock();
      if (progress)
        progress(now, work.size());
      told = now;
      guard.lock();
    }
  }
  for (auto& t : threads)
    t.join();
  if (!failed.empty())
    throw std::runtime_error("the run of " + failed);
  for (size_t k = 0; k < work.size(); ++k) {
    auto& p = work[k];
    auto& v = p.transport == matrix_transport::tcp ? m.tcp : m.udp;
    m.at(v, p.row, p.col) = cells[k];
  }
  return m;
}

} // namespace p2pd::sim
