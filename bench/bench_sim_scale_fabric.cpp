#include <algorithm>
#include <memory>
#include <vector>

#include "p2pd/sim/matrix/matrix_run.hpp"
#include "p2pd/sim/net/event_queue.hpp"
#include "p2pd/sim/net/fabric.hpp"
#include "p2pd/sim/net/host_tcp.hpp"
#include "p2pd/sim/net/host_udp.hpp"

#include "bench_sim_scale.hpp"
#include "sys_util.hpp"

namespace p2pd::bench {

namespace {

using namespace std::chrono_literals;

// What the node world's server and sites are: the addresses
// sim::scenario gives (the STUN host's two, 12.0.0.n outside, 10.n.0.2 or,
// untranslated, 13.n.0.2 inside), the Internet's 10 ms, no access latency.
sim::site_config site_for(const sim::nat_profile& nat, uint32_t n) {
  sim::site_config sc;
  sc.nat = nat;
  sc.external = net::ip_address::v4(0x0C000000u + n);
  bool translates = nat.mode == sim::nat_mode::nat || nat.mode == sim::nat_mode::blocked;
  sc.lan_base = net::ip_address::v4((translates ? 0x0A000000u : 0x0D000000u) + (n << 16) + 2);
  return sc;
}

} // namespace

fabric_result run_bare_fabric(size_t sites, uint64_t udp, uint64_t tcp, uint64_t seed) {
  fabric_result r;
  sim::event_queue q;
  sim::fabric::config fc;
  fc.seed = seed;
  fc.internet = {10ms};
  sim::fabric f{q, fc};
  auto server_ip = net::ip_address::v4(0x0B00C801u);
  auto server = f.add_public_host({{server_ip, net::ip_address::v4(0x0B00C802u)}, {}});
  if (!server) {
    r.problem = "server: " + net::to_string(server.error());
    return r;
  }
  const net::endpoint udp_server{server_ip, 3478}, tcp_server{server_ip, 443};
  auto configs = sim::all_35_configs();
  std::vector<sim::host_id> hosts;
  for (size_t i = 0; i < sites; ++i) {
    auto n = static_cast<uint32_t>(i + 1);
    auto s = f.add_site(site_for(configs[i % configs.size()].profile, n));
    auto h = s ? f.add_host(*s) : net::result<sim::host_id>{s.error()};
    if (!h) {
      r.problem = "site " + std::to_string(i) + ": " + net::to_string(h.error());
      return r;
    }
    hosts.push_back(*h);
  }

  // The server: a UDP echo, and a TCP echo that closes when the client has.
  sim::host_udp su{f, *server};
  auto usock = su.bind(udp_server);
  sim::host_tcp st{f, *server};
  auto lsock = st.listen(tcp_server);
  if (!usock || !lsock) {
    r.problem = "server sockets: " + net::to_string(!usock ? usock.error() : lsock.error());
    return r;
  }
  su.on_receive(*usock, [&su, s = *usock](sim::udp_datagram d) {
    su.send_to(s, d.from, std::move(d.payload));
  });
  st.on_event([&st](sim::tcp_event e) {
    if (e.kind == sim::tcp_event::data)
      st.send(e.sock, std::move(e.bytes));
    else if (e.kind == sim::tcp_event::eof)
      st.close(e.sock);
  });

  // The clients: a UDP socket each; TCP sends a request when connected and
  // closes when the echo came.
  std::vector<std::unique_ptr<sim::host_udp>> cu;
  std::vector<std::unique_ptr<sim::host_tcp>> ct;
  std::vector<int> csock;
  for (auto h : hosts) {
    cu.push_back(std::make_unique<sim::host_udp>(f, h));
    auto sock = cu.back()->bind({net::ip_address::any(net::family::v4), 0});
    if (!sock) {
      r.problem = "client UDP: " + net::to_string(sock.error());
      return r;
    }
    csock.push_back(*sock);
    cu.back()->on_receive(*sock, [](sim::udp_datagram) {});
    ct.push_back(std::make_unique<sim::host_tcp>(f, h));
    ct.back()->on_event([t = ct.back().get()](sim::tcp_event e) {
      if (e.kind == sim::tcp_event::connected)
        t->send(e.sock, std::vector<uint8_t>(200, 0x42));
      else if (e.kind == sim::tcp_event::data)
        t->close(e.sock);
    });
  }

  auto udp_sent = [&] { return f.stats().sent - f.stats().sent_tcp; };
  auto t0 = clk::now();
  // Bounded: a round sends at least one packet per host.
  const uint64_t max_rounds = (udp + tcp) / std::max<size_t>(sites, 1) + 10;
  for (uint64_t round = 0; round < max_rounds; ++round) {
    auto left_udp = udp - std::min(udp, udp_sent());
    auto left_tcp = tcp - std::min(tcp, f.stats().sent_tcp);
    if (left_udp == 0 && left_tcp == 0)
      break;
    // The last round only as many hosts as are left to send: an echo is
    // two packets (one where the NAT blocks UDP), a session seven.
    auto n_udp = std::min<uint64_t>(hosts.size(), (left_udp + 1) / 2);
    auto n_tcp = std::min<uint64_t>(hosts.size(), (left_tcp + 6) / 7);
    for (size_t i = 0; i < hosts.size(); ++i) {
      if (i < n_udp) {
        cu[i]->send_to(csock[i], udp_server, std::vector<uint8_t>(100, 0x17));
        ++r.exchanges_udp;
      }
      if (i < n_tcp && ct[i]->connect({net::ip_address::any(net::family::v4), 0}, tcp_server))
        ++r.sessions_tcp;
    }
    // Until nothing is left: SYN retries of a blocked connect end within
    // 127 virtual s.
    while (q.run_next()) {
    }
  }
  r.wall_s = seconds_d(clk::now() - t0).count();
  r.counts.fabric_events = q.executed();
  r.counts.packets = f.stats().sent;
  r.counts.packets_tcp = f.stats().sent_tcp;
  if (udp_sent() < udp || f.stats().sent_tcp < tcp)
    r.problem = "the rounds ran out before the hosts sent as much as the node world";
  return r;
}

} // namespace p2pd::bench
