#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "echo_load.hpp"
#include "sys_util.hpp"

namespace p2pd::bench {

namespace {

std::string verdict(double ratio, double target, bool higher_is_better = true) {
  if (target <= 0)
    return "";
  bool ok = higher_is_better ? ratio >= target : ratio <= target;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s %.2f %s", higher_is_better ? ">=" : "<=", target,
                ok ? "ok" : "MISS");
  return buf;
}

void print_row(const char* metric, double p, double b, double target,
               bool higher_is_better = true) {
  double ratio = b > 0 ? p / b : 0;
  std::printf("| %-24s | %12.1f | %12.1f | %6.2f | %-12s |\n", metric, p, b, ratio,
              verdict(ratio, target, higher_is_better).c_str());
}

double late_over_early(const soak_result& r) {
  return r.windows >= 2 && r.rate[0] > 0 ? r.rate[r.windows - 1] / r.rate[0] : 0;
}

double rss_growth(const soak_result& r) {
  return r.rss_mib[0] > 0 ? r.rss_mib[r.windows] / r.rss_mib[0] : 0;
}

} // namespace

double variant_runs::median_of(const std::function<double(const cells_result&)>& f) const {
  std::vector<double> xs;
  for (auto& r : runs)
    xs.push_back(f(r));
  return median(xs);
}

double variant_runs::median_bulk() const {
  std::vector<double> xs;
  for (auto& r : runs)
    xs.insert(xs.end(), r.bulk_mib_s, r.bulk_mib_s + r.bulk_n);
  return median(xs);
}

double variant_runs::peak_rss_mib() const {
  long peak = 0;
  for (auto& r : runs)
    peak = std::max(peak, r.peak_rss_kib);
  return mib(peak);
}

void print_cells_table(const variant_runs& p, const variant_runs& b, const options& o) {
  std::printf("\n%d-byte messages, loopback 127.0.0.1, %.1f s per cell after %.1f s "
              "warm-up, median of %d run%s; bulk: median of %d transfers of %llu MiB in "
              "%zu KiB writes\n\n",
              static_cast<int>(msg_size), o.cell.count(), o.warmup.count(), o.runs,
              o.runs == 1 ? "" : "s", o.runs * o.bulk_transfers,
              static_cast<unsigned long long>(o.bulk_bytes >> 20),
              bulk_write / 1024);
  std::printf("| %-24s | %12s | %12s | %6s | %-12s |\n", "metric", "p2pd", "baseline",
              "ratio", "target");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(26, '-').c_str(),
              std::string(14, '-').c_str(), std::string(14, '-').c_str(),
              std::string(8, '-').c_str(), std::string(14, '-').c_str());
  for (size_t k = 0; k < client_counts.size(); ++k) {
    auto label = "tcp rt/s, " + clients_label(client_counts[k]);
    print_row(label.c_str(), p.median_of([k](auto& r) { return r.tcp_rt[k]; }),
              b.median_of([k](auto& r) { return r.tcp_rt[k]; }), 0.85);
  }
  for (size_t k = 0; k < client_counts.size(); ++k) {
    auto label = "udp rt/s, " + clients_label(client_counts[k]);
    print_row(label.c_str(), p.median_of([k](auto& r) { return r.udp_rt[k]; }),
              b.median_of([k](auto& r) { return r.udp_rt[k]; }), 0.85);
  }
  print_row("tcp bulk MiB/s", p.median_bulk(), b.median_bulk(), 0.9);
  print_row("peak RSS MiB", p.peak_rss_mib(), b.peak_rss_mib(), 0, false);
}

bool print_cell_problems(variant v, const variant_runs& vr) {
  bool failed = false;
  for (size_t i = 0; i < vr.runs.size(); ++i) {
    auto& r = vr.runs[i];
    auto say = [&](const std::string& what) {
      std::printf("%s run %zu: %s\n", name_of(v), i + 1, what.c_str());
    };
    if (r.error[0] != '\0') {
      say(std::string{"ERROR "} + r.error);
      failed = true;
    }
    if (r.corrupt + r.dead_clients > 0) {
      say(std::to_string(r.corrupt) + " corrupt echoes, " + std::to_string(r.dead_clients)
          + " failed client connections");
      failed = true;
    }
    auto none = [](double x) { return x <= 0; };
    bool zero = r.bulk_n == 0 || std::any_of(r.bulk_mib_s, r.bulk_mib_s + r.bulk_n, none);
    for (size_t k = 0; k < client_counts.size(); ++k)
      zero = zero || r.tcp_rt[k] <= 0 || r.udp_rt[k] <= 0;
    if (zero && r.error[0] == '\0') {
      say("a cell measured nothing (stalled, or bulk not received within 30 s)");
      failed = true;
    }
    if (r.problems[0] != '\0') {
      say(std::string{"server counted: "} + r.problems);
      failed = true;
    }
    if (r.resends + r.stale > 0) // UDP loss on loopback: reported, not failed
      say("udp: " + std::to_string(r.resends) + " resends after 200 ms, "
          + std::to_string(r.stale) + " duplicate answers");
  }
  return failed;
}

bool print_soak(const soak_result& p, const soak_result& b, const options& o) {
  std::printf("\nsoak: tcp echo, %d clients, %d windows of %.0f s after %.1f s warm-up\n\n",
              client_counts[1], o.soak_windows, o.soak_window.count(), o.warmup.count());
  std::printf("| %-9s | %12s | %9s | %12s | %9s |\n", "window", "p2pd rt/s", "RSS MiB",
              "baseline rt/s", "RSS MiB");
  std::printf("| %-9s | %12s | %9.1f | %12s | %9.1f |\n", "start", "", p.rss_mib[0], "",
              b.rss_mib[0]);
  int n = std::max(p.windows, b.windows);
  for (int i = 0; i < n; ++i) {
    auto w = o.soak_window.count();
    char label[32];
    std::snprintf(label, sizeof(label), "%.0f-%.0f s", w * i, w * (i + 1));
    std::printf("| %-9s | %12.0f | %9.1f | %12.0f | %9.1f |\n", label, p.rate[i],
                p.rss_mib[i + 1], b.rate[i], b.rss_mib[i + 1]);
  }
  std::printf("\nlate/early throughput (last window / first): p2pd %.3f, baseline %.3f  "
              "(p2pd target %s)\n",
              late_over_early(p), late_over_early(b),
              verdict(late_over_early(p), 0.95).c_str());
  std::printf("RSS end/start: p2pd %.3f (%.1f -> %.1f MiB, %+.2f), baseline %.3f (%.1f -> "
              "%.1f MiB, %+.2f)  (p2pd target %s)\n",
              rss_growth(p), p.rss_mib[0], p.rss_mib[p.windows],
              p.rss_mib[p.windows] - p.rss_mib[0], rss_growth(b), b.rss_mib[0],
              b.rss_mib[b.windows], b.rss_mib[b.windows] - b.rss_mib[0],
              verdict(rss_growth(p), 1.05, false).c_str());
  bool failed = false;
  for (auto* r : {&p, &b}) {
    const char* name = r == &p ? "p2pd" : "baseline";
    if (r->error[0] != '\0')
      std::printf("%s soak: ERROR %s\n", name, r->error);
    if (r->corrupt + r->dead_clients > 0)
      std::printf("%s soak: %llu corrupt echoes, %llu failed connections\n", name,
                  static_cast<unsigned long long>(r->corrupt),
                  static_cast<unsigned long long>(r->dead_clients));
    if (r->problems[0] != '\0')
      std::printf("%s soak: server counted: %s\n", name, r->problems);
    bool stalled = std::any_of(r->rate, r->rate + r->windows, [](double x) { return x <= 0; });
    if (stalled)
      std::printf("%s soak: a window had no round trip (stall)\n", name);
    failed = failed || r->error[0] != '\0' || r->corrupt + r->dead_clients > 0
             || r->problems[0] != '\0' || stalled || r->windows != o.soak_windows;
  }
  return failed;
}

} // namespace p2pd::bench
