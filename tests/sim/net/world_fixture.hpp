#pragma once

// A small world for the fabric tests: an event queue, a fabric, and hosts
// with their UDP and TCP stacks. Addresses are documentation ranges the
// fabric only routes among its own hosts: nothing here touches a socket.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/values.hpp"

#include "../nat/nat_fixture.hpp" // ms(), preset()

#include "p2pd/sim/nat/nat_profile.hpp"
#include "p2pd/sim/net/event_queue.hpp"
#include "p2pd/sim/net/fabric.hpp"
#include "p2pd/sim/net/host_tcp.hpp"
#include "p2pd/sim/net/host_udp.hpp"

namespace p2pd::sim::test {

using p2pd::test::ep;

inline std::vector<uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

inline std::string text(const std::vector<uint8_t>& b) {
  return {b.begin(), b.end()};
}

/// A host, its stacks, and the TCP events it saw.
struct node {
  host_id id = 0;
  std::unique_ptr<host_udp> udp;
  std::unique_ptr<host_tcp> tcp;
  std::vector<tcp_event> events;

  /// The events of one kind.
  std::vector<tcp_event> of(tcp_event::kind_t k) const {
    std::vector<tcp_event> out;
    for (const auto& e : events)
      if (e.kind == k)
        out.push_back(e);
    return out;
  }

  /// A UDP socket bound to `port` on the any address (a test failure if not).
  int udp_socket(uint16_t port = 0, net::family f = net::family::v4) {
    auto s = udp->bind(net::endpoint{net::ip_address::any(f), port});
    EXPECT_TRUE(s) << net::to_string(s.error());
    return s ? *s : 0;
  }

  void send(int sock, const net::endpoint& to, const std::string& what) {
    auto err = udp->send_to(sock, to, bytes(what));
    EXPECT_FALSE(err) << net::to_string(err);
  }

  /// Everything in a socket's inbox, in order.
  std::vector<udp_datagram> drain(int sock) {
    std::vector<udp_datagram> out;
    for (int i = 0; i < 100000; ++i) {
      auto d = udp->take(sock);
      if (!d)
        break;
      out.push_back(std::move(*d));
    }
    return out;
  }
};

/// The world: one queue, one fabric, the nodes.
struct world {
  explicit world(uint64_t seed = 1, link_config internet = {ms(20), {}, 0.0}, size_t log = 0,
                 host_tcp::config tcp = {})
    : net(q, fabric::config{seed, internet, log}), tcp_cfg(tcp) {}

  event_queue q;
  fabric net;
  host_tcp::config tcp_cfg;
  std::deque<node> nodes; // stable addresses: stacks point into them

  node& add(host_id id) {
    auto& n = nodes.emplace_back();
    n.id = id;
    n.udp = std::make_unique<host_udp>(net, id);
    n.tcp = std::make_unique<host_tcp>(net, id, tcp_cfg);
    n.tcp->on_event([&n](tcp_event e) { n.events.push_back(std::move(e)); });
    return n;
  }

  node& public_host(const std::string& addr, link_config access = {}) {
    auto h = net.add_public_host({{ip(addr)}, access});
    EXPECT_TRUE(h) << net::to_string(h.error());
    return add(h ? *h : 0);
  }

  site_id site(const nat_profile& p, const std::string& external, const std::string& lan,
               link_config uplink = {}) {
    site_config cfg;
    cfg.nat = p;
    cfg.external = ip(external);
    cfg.lan_base = ip(lan);
    cfg.uplink = uplink;
    auto s = net.add_site(cfg);
    EXPECT_TRUE(s) << net::to_string(s.error());
    return s ? *s : 0;
  }

  node& inside(site_id s, link_config access = {}) {
    auto h = net.add_host(s, access);
    EXPECT_TRUE(h) << net::to_string(h.error());
    return add(h ? *h : 0);
  }

  /// Runs `d` of virtual time.
  void run(sim_time d) { q.run_until(q.now() + d); }
};

} // namespace p2pd::sim::test
