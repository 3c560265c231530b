// Datagram connects through a peer's UDP port mapping (path mapped), on
// loopback: a NAT-PMP gateway played by the test grants the node's mappings
// (tests/lab/punch_matrix.sh --port-mapping proves them across real NATs,
// with miniupnpd). Both nodes say they are behind symmetric NATs with random
// ports, so the predicted punch is refused at once and only the mapping can
// connect them.
#include <atomic>
#include <functional>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/node_fixture.hpp"
#include "support/coturn_fixture.hpp"
#include "support/turn_account.hpp"
#include "support/sockets.hpp"

#include "p2pd/net/portmap/natpmp.hpp"
#include "p2pd/node/address/peer_address.hpp"

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

/// A NAT-PMP gateway on a loopback address of its own (127.77.x.y: tests
/// side by side do not share port 5351) that maps every port to
/// `external_port(internal)` on 127.0.0.1. It answers from a thread until it
/// goes.
class natpmp_gateway {
public:
  explicit natpmp_gateway(std::function<uint16_t(uint16_t)> external_port)
    : external_port_(std::move(external_port)) {
    auto pid = static_cast<unsigned>(::getpid());
    addr_ = *net::ip_address::parse("127.77." + std::to_string(pid % 250 + 1) + "."
                                    + std::to_string(pid / 250 % 250 + 1));
    fd_ = raw_udp({addr_, net::natpmp_server_port});
    thread_ = std::thread{[this] { serve(); }};
  }
  ~natpmp_gateway() {
    stop_ = true;
    thread_.join();
  }
  natpmp_gateway(const natpmp_gateway&) = delete;
  natpmp_gateway& operator=(const natpmp_gateway&) = delete;

  const net::ip_address& address() const { return addr_; }

private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) != 1)
        continue;
      uint8_t buf[64];
      sockaddr_storage from{};
      socklen_t len = sizeof(from);
      auto n = ::recvfrom(fd_.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      auto to = net::endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), len);
      if (n < 2 || !to || buf[0] != net::natpmp_version)
        continue; // PCP, or garbage: a NAT-PMP gateway says nothing
      net::natpmp_response r;
      r.op = static_cast<net::natpmp_op>(buf[1]);
      r.epoch = 1000;
      r.external_ip = *net::ip_address::parse("127.0.0.1");
      if (buf[1] != 0) {
        if (n < 12)
          continue;
        r.internal_port = static_cast<uint16_t>(buf[4] << 8 | buf[5]);
        r.external_port = external_port_(r.internal_port);
        r.lifetime = static_cast<uint32_t>(buf[8]) << 24 | buf[9] << 16 | buf[10] << 8 | buf[11];
      }
      auto bytes = net::encode_natpmp_response(r);
      raw_send_to(fd_.get(), *to, std::string(bytes.begin(), bytes.end()));
    }
  }

  std::function<uint16_t(uint16_t)> external_port_;
  net::ip_address addr_;
  net::unique_fd fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class NodeMappedPunch : public node_fixture {
protected:
  /// A node that maps its port at `gw` and thinks its NAT symmetric with
  /// random ports: a predicted punch with another such node is refused.
  node_spec mapped_spec(const natpmp_gateway& gw, caf::scoped_actor* sub = nullptr) {
    auto spec = spec_for();
    nat_summary n;
    n.fam = net::family::v4;
    n.nat = net::nat_type::symmetric;
    n.delta = net::delta_type::random;
    spec.iface.nats = {n};
    spec.port_mapping.enabled = true;
    spec.port_mapping.methods = {portmap_method::natpmp};
    spec.port_mapping.gateway = gw.address();
    spec.port_mapping.lifetime_s = 60;
    spec.port_mapping.timing = lab_portmap_timing();
    spec.punch_window = 2s;
    if (sub != nullptr)
      spec.subscribers.push_back(caf::actor_cast<caf::actor>(sub->ptr()));
    return spec;
  }

  /// The node's address once it carries a UDP mapping (checked every
  /// 20 ms for at most 5 s: the node tells only subscribers).
  std::optional<std::pair<std::string, net::endpoint>> mapped_address(node_handle& n) {
    caf::scoped_actor self{rt.system()};
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<std::pair<std::string, net::endpoint>> out;
      self->request(n.handle(), 2s, info_atom::value)
        .receive(
          [&](node_info& i) {
            auto a = node::parse_peer_address(i.address);
            if (a)
              for (auto& r : a->routes)
                if (r.mapped && r.mapped_udp != 0)
                  out = std::make_pair(i.address, net::endpoint{*r.mapped, r.mapped_udp});
          },
          [](caf::error&) {});
      if (out)
        return out;
      pollfd none{-1, 0, 0};
      ::poll(&none, 0, 20);
    }
    return std::nullopt;
  }

  static node::connect_options datagrams(std::vector<node::strategy> how) {
    node::connect_options o;
    o.strategies = std::move(how);
    o.families = {net::family::v4};
    o.kind = node::transport::datagram;
    return o;
  }
};

uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  auto ep = net::endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  return ep ? ep->port : 0;
}

std::string attempts_of(const connect_report& r) {
  std::string out;
  for (auto& a : r.attempts)
    out += a.attempt + " | " + a.outcome + "\n";
  return out;
}

} // namespace

TEST_F(NodeMappedPunch, ANodeWhoseAddressCarriesAUdpMappingIsReachedThroughIt) {
  natpmp_gateway gw{[](uint16_t internal) { return internal; }}; // no translation
  caf::scoped_actor sub{rt.system()};
  auto a = start(mapped_spec(gw));
  auto b = start(mapped_spec(gw, &sub));
  auto addr = mapped_address(b);
  ASSERT_TRUE(addr) << "no UDP mapping joined b's address";
  EXPECT_EQ(addr->second.port, b.info().port);
  auto conn = a.connect(addr->first, datagrams({node::strategy::punch}));
  ASSERT_TRUE(conn) << render(conn.error());
  EXPECT_EQ(conn->report.how, node::strategy::punch) << attempts_of(conn->report);
  EXPECT_EQ(conn->report.path, node::path_kind::mapped) << attempts_of(conn->report);
  EXPECT_EQ(conn->report.remote, addr->second);
  // The mapping's round came first and won: the predicted punch (refused
  // at once for this pair) was never started.
  for (auto& r : conn->report.attempts)
    EXPECT_NE(r.attempt.find(" mapped "), std::string::npos) << attempts_of(conn->report);
  // b answered from the socket its mapping points at: the node port.
  auto up = next_where<node_peer_up>(sub, [&](const node_peer_up& u) { return u.conn.peer == a.id(); });
  ASSERT_TRUE(up) << "b saw no link from a";
  EXPECT_EQ(up->conn.report.path, node::path_kind::mapped);
  EXPECT_EQ(up->conn.report.local.port, b.info().port);
  ASSERT_FALSE(a.send(b.id(), "through the mapping"));
  auto got = next_where<node_msg>(sub, [&](const node_msg& m) { return m.peer == a.id(); });
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(got->data.begin(), got->data.end()), "through the mapping");
  EXPECT_FALSE(b.send(a.id(), "and back"));
}

TEST_F(NodeMappedPunch, AStaleMappingFailsWithinThePunchWindowAndTheRelayConnects) {
  coturn_options o;
  o.turn = true;
  std::string why;
  auto turn = coturn_server::start(why, o);
  if (!turn && not_installed(why))
    GTEST_SKIP() << why;
  ASSERT_TRUE(turn) << why;
  // The gateway names a port where nothing answers: a mapping that went
  // stale (the router rebooted, or forwards it elsewhere).
  auto dead = raw_udp({*net::ip_address::parse("127.0.0.1"), 0});
  auto dead_port = local_port(dead.get());
  natpmp_gateway gw{[=](uint16_t) { return dead_port; }};
  auto with_relay = [&](node_spec spec) {
    spec.turn = {turn_account(*turn)};
    spec.turn_timing = loopback_stun_timing();
    return spec;
  };
  auto a = start(with_relay(mapped_spec(gw)));
  auto b = start(with_relay(mapped_spec(gw)));
  auto addr = mapped_address(b);
  ASSERT_TRUE(addr) << "no UDP mapping joined b's address";
  ASSERT_EQ(addr->second.port, dead_port);
  auto t0 = std::chrono::steady_clock::now();
  auto conn = a.connect(addr->first, datagrams({node::strategy::punch, node::strategy::relay}));
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(conn) << render(conn.error());
  EXPECT_EQ(conn->report.how, node::strategy::relay) << attempts_of(conn->report);
  // The mapped punch ended with its window (2 s), not the punch budget.
  EXPECT_LT(took, 8s) << attempts_of(conn->report);
  bool mapped_failed = false;
  for (auto& r : conn->report.attempts)
    mapped_failed = mapped_failed
                    || (r.attempt.find(" mapped ") != std::string::npos
                        && r.outcome.find("no path agreed") != std::string::npos);
  EXPECT_TRUE(mapped_failed) << attempts_of(conn->report);
}

TEST_F(NodeMappedPunch, WhileALinkHoldsTheNodePortAnotherPeersMappedPunchIsRefusedAtOnce) {
  natpmp_gateway gw{[](uint16_t internal) { return internal; }};
  auto a = start(mapped_spec(gw));
  auto b = start(mapped_spec(gw));
  auto c = start(mapped_spec(gw));
  auto addr = mapped_address(b);
  ASSERT_TRUE(addr) << "no UDP mapping joined b's address";
  auto first = a.connect(addr->first, datagrams({node::strategy::punch}));
  ASSERT_TRUE(first) << render(first.error());
  ASSERT_EQ(first->report.path, node::path_kind::mapped);
  // b's node port carries a's link: c is told so, not left to its window.
  auto t0 = std::chrono::steady_clock::now();
  auto second = c.connect(addr->first, datagrams({node::strategy::punch}));
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(second);
  auto why = render(second.error());
  EXPECT_NE(why.find("the node port's UDP socket is taken"), std::string::npos) << why;
  EXPECT_NE(why.find("refused at once"), std::string::npos) << why; // then the predicted one
  EXPECT_LT(took, 1500ms) << why; // the punch window is 2 s
  // a's link is untouched.
  EXPECT_FALSE(a.send(b.id(), "still here"));
}
