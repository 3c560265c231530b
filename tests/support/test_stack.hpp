#pragma once

// A network stack for tests: this host's (os_stack()) behind counters, with
// an interface table, a name table and a pipe rewrite a test may put in its
// place. A test
// hands it to a component and sees what the component asks of its stack;
// with a table the host does not have (an interface "sim0" on 10.254.0.7),
// and a rewrite that binds that address's sockets on loopback, the component
// works only if everything it opens and lists goes through the stack.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/stack/table_resolver.hpp"

namespace p2pd::test {

class test_stack : public net_stack {
public:
  /// What the test puts in place of the real stack's answers; set before the
  /// stack is handed out (the stack reads them from any thread).
  struct config {
    /// The interfaces to report instead of the host's.
    std::optional<net::interface_table> table;
    /// Applied to every pipe spec before the real stack spawns it (the
    /// recorded spec is the one asked for, before the rewrite).
    std::function<void(pipe_spec&)> rewrite;
    /// The seed to give instead of a random one.
    std::optional<uint64_t> seed;
    /// Names to resolve from, instead of the host's resolver: what a
    /// simulated network's DNS gives (spawn_table_resolver()).
    std::optional<name_table> names;
  };

  explicit test_stack(config cfg = {}, stack_ptr real = os_stack())
    : cfg_(std::move(cfg)), real_(std::move(real)) {}

  std::string name() const override { return "test"; }

  pipe_actor spawn_pipe(caf::actor_system& sys, pipe_spec spec) const override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      specs_.push_back(spec);
    }
    if (cfg_.rewrite)
      cfg_.rewrite(spec);
    return real_->spawn_pipe(sys, std::move(spec));
  }

  net::result<net::interface_table> interfaces() const override {
    ++interface_calls_;
    if (cfg_.table)
      return *cfg_.table;
    return real_->interfaces();
  }

  resolver_actor resolver(caf::actor_system& sys) const override {
    ++resolver_calls_;
    if (cfg_.names)
      return spawn_table_resolver(sys, *cfg_.names);
    return real_->resolver(sys);
  }

  int64_t unix_ms() const override {
    ++clock_calls_;
    return real_->unix_ms();
  }

  uint64_t rng_seed() const override {
    ++seed_calls_;
    return cfg_.seed ? *cfg_.seed : real_->rng_seed();
  }

  size_t interface_calls() const { return interface_calls_; }
  size_t clock_calls() const { return clock_calls_; }
  size_t seed_calls() const { return seed_calls_; }
  size_t resolver_calls() const { return resolver_calls_; }
  size_t pipe_calls() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return specs_.size();
  }
  /// Every spec spawn_pipe was asked for, in order.
  std::vector<pipe_spec> specs() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return specs_;
  }

private:
  config cfg_;
  stack_ptr real_;
  mutable std::atomic<size_t> interface_calls_{0};
  mutable std::atomic<size_t> clock_calls_{0};
  mutable std::atomic<size_t> seed_calls_{0};
  mutable std::atomic<size_t> resolver_calls_{0};
  mutable std::mutex mtx_;
  mutable std::vector<pipe_spec> specs_;
};

/// A table with one interface the host does not have: `name`, up and
/// running, index `index`, holding `ips` (v4 /24, v6 /64), and no default
/// routes.
inline net::interface_table one_nic_table(const std::string& name, uint32_t index,
                                          const std::vector<net::ip_address>& ips) {
  net::interface_info nic;
  nic.name = name;
  nic.index = index;
  nic.flags.up = true;
  nic.flags.running = true;
  nic.flags.multicast = true;
  nic.flags.broadcast = true;
  nic.mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x07};
  nic.mtu = 1500;
  for (const auto& ip : ips) {
    net::interface_addr a;
    a.ip = ip;
    a.prefix = ip.is_v4() ? 24 : 64;
    nic.addrs.push_back(a);
  }
  net::interface_table out;
  out.interfaces.push_back(std::move(nic));
  return out;
}

} // namespace p2pd::test
