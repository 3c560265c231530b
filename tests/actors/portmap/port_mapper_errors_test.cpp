// The port mapper when the gateway offers nothing or answers garbage.
#include "actors/portmap/pinhole_fixture.hpp"

using namespace p2pd;
using namespace p2pd::test;

TEST(PortmapErrors, GatewayThatAnswersNothingFailsClearlyWithinTheBound) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  lab->stop();
  netns_guard ns{lab->client_ns()};
  ASSERT_TRUE(ns.error().empty()) << ns.error();
  runtime rt;
  caf::scoped_actor self{rt.system()};
  auto spec = lab_mapper_spec(portmap_method::pcp);
  spec.methods = {portmap_method::pcp, portmap_method::natpmp, portmap_method::upnp};
  auto mapper = spawn_port_mapper(rt.system(), spec);
  ASSERT_TRUE(mapper);
  mapper_client calls{self, *mapper, portmap_deadline(spec.timing)};
  auto start = std::chrono::steady_clock::now();
  auto m = calls.map(udp, {miniupnpd_lab::client_ip(), 40000}, 60);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(m);
  EXPECT_EQ(code_of(m.error()), errc::recv_timeout);
  EXPECT_NE(render(m.error()).find("PCP"), std::string::npos) << render(m.error());
  EXPECT_NE(render(m.error()).find("UPnP"), std::string::npos) << render(m.error());
  EXPECT_LT(took, 2s);
}

TEST(PortmapErrors, MalformedAnswersAreRefusedAndCounted) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  lab->stop();
  // The gateway's port 5351, answered by the test: garbage only.
  net::unique_fd gw;
  {
    netns_guard r{lab->router_ns()};
    ASSERT_TRUE(r.error().empty()) << r.error();
    gw = raw_udp({miniupnpd_lab::gateway(), 5351});
  }
  netns_guard ns{lab->client_ns()};
  ASSERT_TRUE(ns.error().empty()) << ns.error();
  runtime rt;
  caf::scoped_actor self{rt.system()};
  auto spec = lab_mapper_spec(portmap_method::pcp);
  auto mapper = spawn_port_mapper(rt.system(), spec);
  ASSERT_TRUE(mapper);
  auto h = self->request(*mapper, portmap_deadline(spec.timing), portmap_atom::value, udp,
                         net::endpoint{miniupnpd_lab::client_ip(), 40000}, uint32_t{60});
  // The request comes; three answers that break PCP's format: too short, a
  // request (R bit clear), version 7.
  sockaddr_storage from{};
  socklen_t len = sizeof(from);
  char buf[1100];
  pollfd p{gw.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  auto n = ::recvfrom(gw.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
  ASSERT_EQ(n, 60);
  std::string request(buf, 60);
  std::string not_response = request;                 // R bit clear: a request
  std::string bad_version = request;
  bad_version[0] = 7;
  bad_version[1] = static_cast<char>(0x81);
  for (const std::string& bad : {std::string{"\x02\x81\x00"}, not_response, bad_version})
    ::sendto(gw.get(), bad.data(), bad.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
  caf::error err;
  h.receive([](port_mapping&) {}, [&](caf::error& e) { err = e; });
  EXPECT_EQ(code_of(err), errc::recv_timeout) << render(err);
  mapper_client calls{self, *mapper, 2s};
  EXPECT_EQ(calls.stats().malformed, 3u);
}

TEST(PortmapErrors, SpecWithoutGatewayIsRefused) {
  runtime rt;
  port_mapper_spec spec;
  auto m = spawn_port_mapper(rt.system(), spec);
  ASSERT_FALSE(m);
  EXPECT_EQ(code_of(m.error()), errc::invalid_argument);
}

TEST(PortmapErrors, SpecWithUPnPPinholeAsAMapMethodIsRefused) {
  runtime rt;
  port_mapper_spec spec;
  spec.gateway = *net::ip_address::parse("2001:db8::1");
  spec.methods = {portmap_method::upnp, portmap_method::upnp_pinhole};
  auto m = spawn_port_mapper(rt.system(), spec);
  ASSERT_FALSE(m);
  EXPECT_EQ(code_of(m.error()), errc::invalid_argument);
}

namespace {

// A mapper toward ::1 for requests refused before anything is sent: no
// gateway needs to be there.
struct loopback_mapper {
  explicit loopback_mapper(std::vector<portmap_method> methods) {
    spec.gateway = net::ip_address::loopback(net::family::v6);
    spec.local_ip = spec.gateway;
    spec.methods = std::move(methods);
    if (auto m = spawn_port_mapper(rt.system(), spec))
      mapper = *m;
  }
  runtime rt;
  caf::scoped_actor self{rt.system()};
  port_mapper_spec spec;
  port_mapper_actor mapper;
  mapper_client calls() { return {self, mapper, 2s}; }
};

} // namespace

TEST(PortmapErrors, PinholeLeaseOutsideIGD2sRangeIsRefused) {
  loopback_mapper lm{{portmap_method::upnp}};
  ASSERT_TRUE(lm.mapper);
  auto calls = lm.calls();
  for (uint32_t lease : {0u, 86401u}) {
    auto m = open_pinhole(calls, udp, {lm.spec.local_ip, 40000}, lease);
    ASSERT_FALSE(m);
    EXPECT_EQ(code_of(m.error()), errc::invalid_argument) << render(m.error());
  }
}

TEST(PortmapErrors, PinholeWithoutPcpOrUPnPAmongTheMethodsIsRefused) {
  loopback_mapper lm{{portmap_method::natpmp}};
  ASSERT_TRUE(lm.mapper);
  auto calls = lm.calls();
  auto m = open_pinhole(calls, udp, {lm.spec.local_ip, 40000}, 60);
  ASSERT_FALSE(m);
  EXPECT_EQ(code_of(m.error()), errc::invalid_argument) << render(m.error());
}
