#pragma once

// Pipe tests that run on each transport under the pipe core: the broker's
// epoll sockets ("epoll"), the in-memory network ("memory",
// actors/pipe/detail/memory_transport.hpp) and the simulated network ("sim",
// actors/pipe/detail/sim_transport.hpp: two public hosts of a sim::world 4 ms
// apart, servers on one and clients on the other; 127.0.0.1 in a
// spec stands for the server host's address). A suite derives its fixture from
// on_transport and is instantiated with transports(); its tests open pipes
// through the fixture's open/listen/connect instead of the runtime's.

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "p2pd/actors/pipe/detail/memory_transport.hpp"
#include "p2pd/actors/pipe/detail/sim_transport.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"

#include "support/pipes.hpp"

namespace p2pd::test {

class on_transport : public ::testing::TestWithParam<const char*> {
protected:
  bool in_memory() const { return std::string{GetParam()} == "memory"; }

  bool on_sim() const { return std::string{GetParam()} == "sim"; }

  pipe_actor spawn(const pipe_spec& spec) {
    if (on_sim())
      return actors::spawn_sim_pipe(rt.system(), sim_world(),
                                    spec.is_client() ? client_host : server_host, spec);
    return in_memory() ? actors::spawn_memory_pipe(rt.system(), spec, net)
                       : spawn_pipe(rt.system(), spec);
  }

  caf::expected<pipe_handle> open(const pipe_spec& spec) {
    if (!on_sim())
      return rt.open(spawn(spec), spec);
    auto moved = spec;
    if (moved.is_client()) {
      if (moved.host == "127.0.0.1") {
        moved.host = server_ip.to_string();
        if (moved.tls && moved.tls->host_name.empty()) // the test certificates name 127.0.0.1
          moved.tls->host_name = "127.0.0.1";
      }
    } else if (!moved.local || moved.local->ip.is_loopback()) {
      moved.local = endpoint{server_ip, moved.local ? moved.local->port : uint16_t{0}};
    }
    return rt.open(spawn(moved), moved);
  }

  /// The simulated network, made on first use with its two hosts.
  const sim::world_ptr& sim_world() {
    if (!world) {
      world = sim::world::make(rt.system());
      world->with([this](sim::world& w) {
        server_host = *w.fabric().add_public_host({{server_ip}, {sim_latency}});
        client_host = *w.fabric().add_public_host({{client_ip}, {sim_latency}});
        return 0;
      });
    }
    return world;
  }

  /// The endpoint a server sees `client`'s datagrams come from on the
  /// transport under test: its bound address, or the one its wildcard
  /// socket sends from: loopback (epoll: the kernel's choice towards
  /// 127.0.0.1; memory: the memory network's rule), the client host's
  /// address on sim, where clients live on a host of their own.
  endpoint seen_from(const pipe_handle& client) const {
    auto ep = client.local();
    if (ep.ip.is_any())
      ep.ip = on_sim() ? client_ip : net::ip_address::loopback(ep.fam());
    return ep;
  }

  /// As runtime::listen.
  caf::expected<pipe_handle> listen(net::protocol proto, endpoint local = {},
                                    msg_handler on_msg = {}, net_conf conf = {}) {
    auto spec = server_spec(proto, local, std::move(on_msg));
    if (local == endpoint{})
      spec.local.reset(); // the default: 127.0.0.1 and a free port
    spec.conf = conf;
    return open(spec);
  }

  /// As runtime::connect.
  caf::expected<pipe_handle> connect(net::protocol proto, const endpoint& to, net_conf conf = {}) {
    auto spec = client_spec(proto, to.ip.to_string(), to.port);
    spec.conf = conf;
    return open(spec);
  }

  runtime rt;
  std::shared_ptr<actors::memory_net> net = std::make_shared<actors::memory_net>();
  sim::world_ptr world;
  net::ip_address server_ip = *net::ip_address::parse("198.51.100.1");
  net::ip_address client_ip = *net::ip_address::parse("198.51.100.2");
  /// Each host's access link: small, so that every step waits on the
  /// world's wake-ups in real time.
  sim::sim_time sim_latency = std::chrono::milliseconds{2};
  sim::host_id server_host = 0;
  sim::host_id client_host = 0;
};

/// Every transport under the pipe core.
inline auto transports() {
  return ::testing::Values("epoll", "memory", "sim");
}

} // namespace p2pd::test
