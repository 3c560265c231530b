#include "driver.hpp"

#include "client.hpp"

#include <condition_variable>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

namespace p2pd::harness {

namespace {

// Bounds of the controller's asks beyond what it asks the agent for: the
// agent answers within its own bound; this covers the middleman's hops.
constexpr auto ask_margin = std::chrono::seconds(5);
constexpr uint32_t hello_s = 10;
constexpr uint32_t stop_s = 15;
constexpr uint32_t echo_s = 10;

} // namespace

driver::driver(caf::actor_system& sys, scenario s, std::string token, std::ostream& log)
  : sys_(sys), s_(std::move(s)), token_(std::move(token)), log_(log) {
}

caf::timespan driver::bound(uint32_t seconds) const {
  return std::chrono::seconds(seconds) + ask_margin;
}

std::vector<std::string> driver::connect_all(std::chrono::milliseconds wait) {
  std::vector<std::string> failed;
  for (auto& a : s_.agents) {
    auto fail = [&](const caf::error& err) {
      why_not_[a.name] = render(err);
      failed.push_back("agent " + a.name + " (" + a.where.to_string() + "): " + render(err));
    };
    auto hdl = connect_agent(sys_, a.where, wait);
    if (!hdl) {
      fail(hdl.error());
      continue;
    }
    auto hello = ask_now<agent_hello>(sys_, *hdl, bound(hello_s), hello_atom::value, token_);
    if (!hello) {
      fail(hello.error());
      continue;
    }
    log_ << "agent " << a.name << " at " << a.where.to_string() << ": " << hello->name
         << ", pid " << hello->pid << (hello->node_running ? ", a node runs" : "") << std::endl;
    agents_.emplace(a.name, *hdl);
  }
  return failed;
}

void driver::run_steps(run_row& row, const pair_entry& p, const std::string& transport,
                       uint32_t run, std::ostream& log) {
  row.pair = s_.agent(p.first)->label + " - " + s_.agent(p.second)->label;
  row.first = p.first;
  row.second = p.second;
  row.from = run % 2 == 1 ? p.first : p.second;
  row.to = run % 2 == 1 ? p.second : p.first;
  row.transport = transport;
  row.run = run;
  std::unique_lock<std::mutex> guard{mu_};
  for (auto& name : {row.from, row.to})
    if (agents_.count(name) == 0) {
      row.error = "agent " + name + " not connected: " + why_not_[name];
      return;
    }
  // An agent gone (its process ended) is not asked again: its later runs
  // are error rows at once.
  auto note = [&](const std::string& name, const caf::error& err) {
    std::lock_guard<std::mutex> lock{mu_};
    if (code_of(err) == errc::connection_reset && agents_.erase(name) > 0)
      why_not_[name] = render(err);
  };
  auto from = agents_.at(row.from);
  auto to = agents_.at(row.to);
  guard.unlock();
  // Fresh nodes on both sides, started side by side.
  auto start_wait = bound(s_.node.timeout_s);
  caf::actor fh, th;
  auto fs = ask_as<node_facts>(sys_, &fh, from, start_wait, start_atom::value, token_, s_.node);
  auto ts = ask_as<node_facts>(sys_, &th, to, start_wait, start_atom::value, token_, s_.node);
  // Both answers, or the first failure: the other start is then stopped
  // rather than waited for (an agent gone must not hold the run up).
  auto deadline = std::chrono::steady_clock::now() + start_wait + std::chrono::seconds(1);
  std::optional<caf::expected<node_facts>> from_facts, to_facts;
  auto failed = [](const std::optional<caf::expected<node_facts>>& x) { return x && !*x; };
  while ((!from_facts || !to_facts) && !failed(from_facts) && !failed(to_facts)
         && std::chrono::steady_clock::now() < deadline) {
    for (auto [f, out] : {std::pair{&fs, &from_facts}, std::pair{&ts, &to_facts}})
      if (!*out && f->wait_for(std::chrono::milliseconds(20)) == std::future_status::ready)
        *out = f->get();
  }
  // A start not waited for: its ask ends here (the stop below ends the start).
  for (auto [x, h] : {std::pair{&from_facts, &fh}, std::pair{&to_facts, &th}})
    if (!*x)
      caf::anon_send_exit(*h, caf::exit_reason::user_shutdown);
  auto stop_both = [&] {
    auto a = ask<caf::ok_atom>(sys_, from, bound(stop_s), stop_atom::value, token_);
    auto b = ask<caf::ok_atom>(sys_, to, bound(stop_s), stop_atom::value, token_);
    for (auto* f : {&a, &b})
      if (f->wait_for(bound(stop_s) + std::chrono::seconds(1)) == std::future_status::ready) {
        if (auto r = f->get(); !r)
          log << "  stop: " << render(r.error()) << '\n';
      }
  };
  auto why_not = [](const std::optional<caf::expected<node_facts>>& x) {
    return !x ? std::string{"no answer in time"} : render(x->error());
  };
  for (auto [name, x] : {std::pair{row.from, &from_facts}, std::pair{row.to, &to_facts}})
    if (*x && !**x)
      note(name, (*x)->error());
  if (!from_facts || !*from_facts || !to_facts || !*to_facts) {
    row.error = failed(to_facts) || (from_facts && *from_facts)
                  ? "start " + row.to + ": " + why_not(to_facts)
                  : "start " + row.from + ": " + why_not(from_facts);
    stop_both();
    return;
  }
  for (auto* f : {&**from_facts, &**to_facts})
    for (auto& l : f->lines)
      log << "  " << f->agent << ": " << l << '\n';
  {
    std::lock_guard<std::mutex> lock{mu_};
    facts_[row.from] = **from_facts;
    facts_[row.to] = **to_facts;
  }
  connect_request req{(*to_facts)->address, p.strategies, p.families, transport, 60};
  auto conn = ask_now<connect_result>(sys_, from, bound(req.timeout_s), connect_atom::value,
                                      token_, req);
  if (!conn) {
    note(row.from, conn.error());
    row.error = "connect: " + render(conn.error());
  } else {
    row.connect = std::move(*conn);
    if (row.connect.ok) {
      echo_request er{row.connect.peer, "hello " + std::to_string(run) + " " + transport,
                      echo_s};
      auto echo = ask_now<echo_result>(sys_, from, bound(echo_s), echo_atom::value, token_, er);
      if (echo) {
        row.answered = true;
        row.rtt_ms = echo->rtt_ms;
      } else {
        note(row.from, echo.error());
        row.error = "echo: " + render(echo.error());
      }
    }
  }
  stop_both();
}

run_row driver::run_one(const pair_entry& p, const std::string& transport, uint32_t run) {
  run_row row;
  std::ostringstream log; // this run's lines, written at its end (runs go side by side)
  run_steps(row, p, transport, run, log);
  log << "run " << run << ' ' << transport << ' ' << row.from << " -> " << row.to << ": ";
  if (row.ok())
    log << row.connect.strategy << (row.connect.punch.empty() ? "" : " ") << row.connect.punch
        << ' ' << row.connect.path << " in " << row.connect.ms << " ms, answered in "
        << row.rtt_ms << " ms\n";
  else
    log << "failed: " << (row.error.empty() ? row.connect.error : row.error) << '\n';
  std::lock_guard<std::mutex> lock{mu_};
  log_ << log.str() << std::flush;
  return row;
}

std::vector<run_row> driver::run(size_t jobs) {
  // Pairs side by side, at most `jobs`, never two on one agent (a node at
  // a time); each pair's runs one after another.
  std::vector<std::vector<run_row>> out(s_.pairs.size());
  std::vector<size_t> pending(s_.pairs.size());
  for (size_t i = 0; i < pending.size(); ++i)
    pending[i] = i;
  std::set<std::string> busy;
  std::vector<std::thread> threads;
  std::condition_variable cv;
  size_t running = 0;
  std::unique_lock<std::mutex> lock{sched_};
  while (!pending.empty() || running > 0) {
    for (auto it = pending.begin(); it != pending.end() && running < std::max<size_t>(jobs, 1);) {
      auto& p = s_.pairs[*it];
      if (busy.count(p.first) > 0 || busy.count(p.second) > 0) {
        ++it;
        continue;
      }
      busy.insert(p.first);
      busy.insert(p.second);
      ++running;
      threads.emplace_back([this, &out, &busy, &running, &cv, i = *it] {
        auto& p = s_.pairs[i];
        for (uint32_t r = 1; r <= p.runs; ++r)
          for (auto& t : p.transports)
            out[i].push_back(run_one(p, t, r));
        std::lock_guard<std::mutex> done{sched_};
        busy.erase(p.first);
        busy.erase(p.second);
        --running;
        cv.notify_all();
      });
      it = pending.erase(it);
    }
    if (running > 0)
      cv.wait(lock);
  }
  lock.unlock();
  for (auto& t : threads)
    t.join();
  std::vector<run_row> rows;
  for (auto& pair_rows : out)
    for (auto& r : pair_rows)
      rows.push_back(std::move(r));
  return rows;
}

std::map<std::string, node_facts> driver::facts() const {
  std::lock_guard<std::mutex> lock{mu_};
  return facts_;
}

void driver::quit_all() {
  for (auto& [name, hdl] : agents_) {
    auto r = ask_now<caf::ok_atom>(sys_, hdl, bound(stop_s), quit_atom::value, token_);
    if (!r)
      log_ << "quit " << name << ": " << render(r.error()) << std::endl;
  }
}

} // namespace p2pd::harness
