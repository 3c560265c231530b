#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/stack/table_resolver.hpp"
#include "p2pd/sim/world/world.hpp"

namespace p2pd::sim {

/// The world-wide DNS of a simulation: names and their addresses, shared by
/// every host's stack. Names may be added while the world runs; a resolver
/// answers from the table as it is when the resolver is made.
class name_book {
public:
  void add(const std::string& name, std::vector<net::ip_address> ips);
  name_table snapshot() const;
  /// The addresses of `host` (a name or an IP literal), IPv4 first, or
  /// errc::resolve_failed: what a sim pipe's resolver gives.
  net::result<std::vector<net::ip_address>> look_up(const std::string& host,
                                                    std::optional<net::family> fam) const;

private:
  mutable std::mutex mtx_;
  name_table names_;
};

using name_book_ptr = std::shared_ptr<name_book>;

/// What makes one simulated host's stack.
/// The pipes the stacks of one world spawned (weakly), so that a teardown
/// can end those still running: a pipe lives as long as its owner, and an
/// owner that a test never ends would keep it (and the world) to the exit.
class spawned_actors {
public:
  void add(caf::actor_addr a);
  /// Those still running.
  std::vector<caf::actor> alive() const;

private:
  mutable std::mutex mtx_;
  std::vector<caf::actor_addr> addrs_;
  size_t compact_at_ = 64;
};

using spawned_actors_ptr = std::shared_ptr<spawned_actors>;

struct sim_stack_config {
  /// Where the stack notes what it spawned (none: nowhere).
  spawned_actors_ptr spawned;
  world_ptr w;
  host_id host = 0;
  name_book_ptr names;
  /// Unix time in ms at virtual time 0 (every host's clock starts here).
  int64_t epoch_ms = 1'800'000'000'000;
  /// This host's clock error: added to its Unix time (NTP tests).
  std::chrono::milliseconds skew{0};
  /// The world's seed; the host's rng_seed() sequence derives from it and
  /// the host id.
  uint64_t seed = 1;
};

/// A net_stack for one host of a simulated world: pipes are sim pipes on
/// the host (spawn_sim_pipe), whose names resolve from the world's name
/// book; interfaces() is one NIC "eth0" with the host's addresses (IPv4 /24
/// on a LAN, /32 on the Internet; IPv6 /64) and a default route per family;
/// the resolver answers from the name book; Unix time is the epoch plus the
/// world's virtual time plus the host's skew; rng_seed() is a sequence from
/// the world's seed and the host id (deterministic in the order asked).
class sim_stack : public net_stack {
public:
  explicit sim_stack(sim_stack_config cfg);

  std::string name() const override;
  pipe_actor spawn_pipe(caf::actor_system& sys, pipe_spec spec) const override;
  net::result<net::interface_table> interfaces() const override;
  resolver_actor resolver(caf::actor_system& sys) const override;
  int64_t unix_ms() const override;
  int64_t unix_ns() const override;
  uint64_t rng_seed() const override;

  host_id host() const { return cfg_.host; }
  const world_ptr& net() const { return cfg_.w; }

private:
  sim_stack_config cfg_;
  mutable std::atomic<uint64_t> draws_{0};
};

/// The interface table a simulated host shows (sim_stack::interfaces()):
/// "eth0" (index 2) with `addresses`, and default routes through the LAN's
/// first address (a site host) or none (`on_lan` false: a public host, whose
/// route has no gateway, as out of a point-to-point link).
net::interface_table sim_interface_table(host_id host,
                                         const std::vector<net::ip_address>& addresses,
                                         bool on_lan);

} // namespace p2pd::sim
