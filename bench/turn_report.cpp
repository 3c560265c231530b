#include "turn_report.hpp"

#include <cstdio>
#include <functional>

#include "sys_util.hpp"

namespace p2pd::bench {

namespace {

/// A cell's medians over its runs: RTT median, RTT p99, then dgrams/s and
/// MB/s for each rate size.
std::vector<double> medians(const cell& c, size_t rate_sizes) {
  auto over_runs = [&](const std::function<double(const load_result&)>& f) {
    std::vector<double> xs;
    for (auto& r : c.runs)
      xs.push_back(f(r));
    return median(xs);
  };
  std::vector<double> out;
  out.push_back(over_runs([](auto& r) { return r.median_us; }));
  out.push_back(over_runs([](auto& r) { return r.p99_us; }));
  for (size_t k = 0; k < rate_sizes; ++k) {
    out.push_back(over_runs([k](auto& r) { return k < r.rates.size() ? r.rates[k].dgrams_s : 0; }));
    out.push_back(over_runs([k](auto& r) { return k < r.rates.size() ? r.rates[k].mb_s : 0; }));
  }
  return out;
}

std::string number(double x) {
  char buf[32];
  if (x >= 1000)
    std::snprintf(buf, sizeof(buf), "%.0f", x);
  else
    std::snprintf(buf, sizeof(buf), "%.1f", x);
  return buf;
}

void print_ratio(const char* label, const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty())
    return;
  std::printf("| %-33s |", label);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > 0 && b[i] > 0)
      std::printf(" %.2f |", a[i] / b[i]);
    else
      std::printf(" - |");
  }
  std::printf(" |\n");
}

} // namespace

void print_turn_table(const std::vector<cell>& cells, const load_sizes& sz, int runs,
                      bool stream) {
  const char* unit = stream ? "msgs" : "dgrams";
  std::printf("\n%s on loopback 127.0.0.1; RTT: %d sequential %zu-byte round trips after %d "
              "warm-up; rates: %d %s in flight for %.1f s after %.2f s warm-up, MB/s "
              "= payload echoed (one way, 10^6 B/s); median of %d run%s\n\n",
              stream ? "TCP" : "UDP", sz.rtt_samples, sz.rtt_size, sz.rtt_warmup, sz.window,
              stream ? "messages on one connection" : "datagrams", sz.rate_time.count(),
              sz.rate_warmup.count(), runs, runs == 1 ? "" : "s");
  std::printf("| %-33s | RTT median us | RTT p99 us |", "cell");
  for (auto s : sz.rate_sizes)
    std::printf(" %zu B %s/s | %zu B MB/s |", s, unit, s);
  std::printf(" lost |\n|---|---:|---:|");
  for (size_t k = 0; k < sz.rate_sizes.size(); ++k)
    std::printf("---:|---:|");
  std::printf("---:|\n");
  std::vector<std::vector<double>> m(cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    auto& c = cells[i];
    if (c.runs.empty()) {
      std::printf("| %-33s | not run |\n", c.name.c_str());
      continue;
    }
    m[i] = medians(c, sz.rate_sizes.size());
    uint64_t sent = 0;
    uint64_t lost = 0;
    for (auto& r : c.runs) {
      sent += r.sent;
      lost += r.lost;
    }
    std::printf("| %-33s |", c.name.c_str());
    for (auto x : m[i])
      std::printf(" %s |", number(x).c_str());
    std::printf(" %llu of %llu |\n", static_cast<unsigned long long>(lost),
                static_cast<unsigned long long>(sent));
  }
  if (cells.size() < 4)
    return;
  print_ratio("ratio p2pd relay / plain relay", m[0], m[1]);
  print_ratio("ratio p2pd relay / p2pd direct", m[0], m[2]);
  print_ratio("ratio plain relay / plain direct", m[1], m[3]);
}

bool print_turn_problems(const std::vector<cell>& cells, bool have_relay) {
  bool failed = false;
  std::printf("\n");
  for (auto& c : cells) {
    if (!c.problem.empty()) {
      std::printf("%s: %s\n", c.name.c_str(), c.problem.c_str());
      failed = failed || have_relay;
    }
    if (!c.echo_problems.empty())
      std::printf("%s: the echo counted %s\n", c.name.c_str(), c.echo_problems.c_str());
    for (size_t i = 0; i < c.runs.size(); ++i) {
      auto& r = c.runs[i];
      if (!r.problem.empty()) {
        std::printf("%s run %zu: %s\n", c.name.c_str(), i + 1, r.problem.c_str());
        failed = true;
      }
      if (r.corrupt > 0) {
        std::printf("%s run %zu: %llu corrupt answers\n", c.name.c_str(), i + 1,
                    static_cast<unsigned long long>(r.corrupt));
        failed = true;
      }
    }
  }
  return failed;
}

} // namespace p2pd::bench
