// IPv6 pinholes (UPnP IGDv2 WANIPv6FirewallControl) against miniupnpd as
// the router of namespaces whose IPv6 firewall drops what the outside
// starts: the pinhole lets the peer in (TCP and UDP), its lease is renewed
// by UpdatePinhole, unmap and the mapper's end delete it, a rebooted router
// gets it back, and an IGD that answers over IPv4 only refuses clearly.
// miniupnpd also opens pinholes for PCP MAP requests of an IPv6 address.
#include "actors/portmap/pinhole_fixture.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

constexpr uint16_t pinhole_client_port = 40000;
// A drop is told by silence: this long.
constexpr auto silence = std::chrono::milliseconds(700);

net::endpoint client_ep() {
  return {miniupnpd_lab::client_ip6(), pinhole_client_port};
}

// The client's sockets and mapper, in its namespace.
struct pinhole_client {
  explicit pinhole_client(miniupnpd_lab& lab,
                          std::vector<portmap_method> methods = {portmap_method::upnp},
                          portmap_timing timing = lab_portmap_timing())
    : ns(lab.client_ns()), udp_sock(raw_udp(client_ep())), tcp_listener(raw_listen(client_ep())) {
    auto spec = pinhole_mapper_spec();
    spec.methods = std::move(methods);
    spec.timing = timing;
    auto s = spawn_port_mapper(rt.system(), spec);
    if (s)
      mapper = *s;
  }
  netns_guard ns;
  runtime rt;
  caf::scoped_actor self{rt.system()};
  net::unique_fd udp_sock;
  net::unique_fd tcp_listener;
  port_mapper_actor mapper;
  mapper_client calls() { return {self, mapper, portmap_deadline(lab_portmap_timing())}; }
  caf::expected<port_mapping> open(net::protocol proto, uint32_t lease) {
    auto c = calls();
    return open_pinhole(c, proto, client_ep(), lease);
  }
};

} // namespace

TEST(PortmapPinhole, UdpPinholeLetsThePeerReachTheClient) {
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  pinhole_client c{*lab};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  EXPECT_FALSE(peer_datagram_arrives(*lab, c.udp_sock.get(), client_ep(), "before", silence));
  auto m = c.open(udp, 60);
  ASSERT_TRUE(m) << render(m.error()) << "\n" << lab->log();
  EXPECT_EQ(m->method, portmap_method::upnp_pinhole);
  EXPECT_EQ(m->internal, client_ep());
  EXPECT_EQ(m->external, client_ep()); // no translation
  EXPECT_EQ(m->lifetime_s, 60u);
  auto ps = lab->pinholes();
  ASSERT_TRUE(ps) << ps.error().what;
  EXPECT_TRUE(has_pinhole(*ps, udp, client_ep()));
  EXPECT_TRUE(peer_datagram_arrives(*lab, c.udp_sock.get(), client_ep(), "through", 2s));
}

TEST(PortmapPinhole, TcpPinholeLetsThePeerConnect) {
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  pinhole_client c{*lab};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  ASSERT_TRUE(c.tcp_listener);
  EXPECT_FALSE(peer_connects(*lab, client_ep(), silence));
  auto m = c.open(tcp, 60);
  ASSERT_TRUE(m) << render(m.error()) << "\n" << lab->log();
  EXPECT_TRUE(has_pinhole(*lab->pinholes(), tcp, client_ep()));
  EXPECT_TRUE(peer_connects(*lab, client_ep(), 2s));
}

TEST(PortmapPinhole, ShortLeaseIsRenewedByUpdatePinhole) {
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  pinhole_client c{*lab};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  c.self->send(c.mapper, caf::subscribe_atom::value, as_actor(c.self));
  auto m = c.open(udp, 4);
  ASSERT_TRUE(m) << render(m.error());
  // Renewals every 2 s; 8 s after the pinhole was made (twice its lease) it
  // still lets the peer in, and it is the same pinhole: updated, never
  // added again.
  int refreshed = 0;
  EXPECT_TRUE(receive_until<portmap_event>(c.self, 10s, [&](portmap_event& ev) {
    EXPECT_EQ(ev.change, portmap_change::refreshed) << ev.reason;
    return ++refreshed == 4;
  }));
  EXPECT_TRUE(peer_datagram_arrives(*lab, c.udp_sock.get(), client_ep(), "still open", 2s));
  auto log = lab->log();
  EXPECT_NE(log.find("updating lease duration to 4 for pinhole with ID: 1"), std::string::npos)
    << log;
  EXPECT_EQ(lab->pinholes()->size(), 1u);
}

TEST(PortmapPinhole, UnmapClosesThePinhole) {
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  pinhole_client c{*lab};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  auto m = c.open(udp, 60);
  ASSERT_TRUE(m) << render(m.error());
  ASSERT_TRUE(peer_datagram_arrives(*lab, c.udp_sock.get(), client_ep(), "open", 2s));
  auto err = c.calls().unmap(m->id);
  EXPECT_FALSE(err) << render(err);
  EXPECT_TRUE(lab->pinholes()->empty());
  EXPECT_FALSE(peer_datagram_arrives(*lab, c.udp_sock.get(), client_ep(), "closed", silence));
}

TEST(PortmapPinhole, MapperThatEndsDeletesItsPinholes) {
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  pinhole_client c{*lab};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  ASSERT_TRUE(c.open(udp, 600));
  ASSERT_TRUE(c.open(tcp, 600));
  c.self->send_exit(c.mapper, caf::exit_reason::kill);
  c.mapper = nullptr;
  // Long before the 600 s lease: the deletes the mapper started as it ended.
  EXPECT_TRUE(router_pinholes_become(*lab, 3s, [](auto& ps) { return ps.empty(); }))
    << lab->log();
}

TEST(PortmapPinhole, RouterRebootIsSurvivedAndThePinholeRestored) {
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  pinhole_client c{*lab};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  c.self->send(c.mapper, caf::subscribe_atom::value, as_actor(c.self));
  // Renewed 3 s on: the checks between the reboot and then see the router
  // without it.
  auto m = c.open(udp, 6);
  ASSERT_TRUE(m) << render(m.error());
  std::string why;
  ASSERT_TRUE(lab->restart(why)) << why;
  ASSERT_TRUE(lab->pinholes()->empty());
  EXPECT_FALSE(peer_datagram_arrives(*lab, c.udp_sock.get(), client_ep(), "lost", silence));
  // The renewal finds the IGD on another HTTP port, without the pinhole: it
  // is added again.
  std::optional<portmap_event> ev;
  EXPECT_TRUE(receive_until<portmap_event>(c.self, 10s, [&](portmap_event& x) {
    ev = x;
    return x.change == portmap_change::restored;
  }));
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->mapping.id, m->id);
  EXPECT_TRUE(has_pinhole(*lab->pinholes(), udp, client_ep()));
  EXPECT_TRUE(peer_datagram_arrives(*lab, c.udp_sock.get(), client_ep(), "after", 2s));
}

TEST(PortmapPinhole, RouterRebootRestoresEveryPinholeThoughIdsAreReused) {
  // Before the reboot UDP has id 1 and TCP id 2; the new miniupnpd numbers
  // from 1 again, in the order the renewals come. TCP, on a shorter lease,
  // renews first and gets id 1: UDP's later update of id 1 would renew
  // TCP's pinhole and leave UDP's out. Both must be back.
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  pinhole_client c{*lab};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  c.self->send(c.mapper, caf::subscribe_atom::value, as_actor(c.self));
  ASSERT_TRUE(c.open(udp, 8));
  ASSERT_TRUE(c.open(tcp, 4));
  std::string why;
  ASSERT_TRUE(lab->restart(why)) << why;
  bool udp_back = false, tcp_back = false;
  EXPECT_TRUE(receive_until<portmap_event>(c.self, 8s, [&](portmap_event& x) {
    if (x.change == portmap_change::restored)
      (x.mapping.proto == tcp ? tcp_back : udp_back) = true;
    return udp_back && tcp_back;
  }));
  // The next renewal (TCP's, 2 s on) updates the id the new router gave.
  EXPECT_TRUE(receive_until<portmap_event>(c.self, 4s, [&](portmap_event& x) {
    return x.change == portmap_change::refreshed;
  }));
  auto ps = lab->pinholes();
  ASSERT_TRUE(ps);
  EXPECT_EQ(ps->size(), 2u);
  EXPECT_TRUE(has_pinhole(*ps, udp, client_ep()));
  EXPECT_TRUE(has_pinhole(*ps, tcp, client_ep()));
  EXPECT_TRUE(peer_datagram_arrives(*lab, c.udp_sock.get(), client_ep(), "udp back", 2s));
  EXPECT_TRUE(peer_connects(*lab, client_ep(), 2s));
}

TEST(PortmapPinhole, IgdWithoutIPv6FirewallControlRefusesClearly) {
  // miniupnpd with IPv6 disabled: the IGD answers over IPv4 only, so no
  // request can come from the client's IPv6 address, and it refuses.
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options(false));
  pinhole_client c{*lab};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  auto m = c.open(udp, 60);
  ASSERT_FALSE(m);
  EXPECT_EQ(code_of(m.error()), errc::server_refused) << render(m.error());
  EXPECT_NE(render(m.error()).find("answered over IPv4 only"), std::string::npos)
    << render(m.error());
  EXPECT_TRUE(lab->pinholes()->empty());
}

TEST(PortmapPinhole, PinholeForAnIPv4AddressIsRefused) {
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  pinhole_client c{*lab};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  auto calls = c.calls();
  auto m = open_pinhole(calls, udp, {miniupnpd_lab::client_ip(), pinhole_client_port}, 60);
  ASSERT_FALSE(m);
  EXPECT_EQ(code_of(m.error()), errc::invalid_argument) << render(m.error());
}

TEST(PortmapPinhole, PcpMapOfTheIPv6AddressOpensAPinhole) {
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  pinhole_client c{*lab, {portmap_method::pcp}};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  auto m = c.open(udp, 60);
  ASSERT_TRUE(m) << render(m.error()) << "\n" << lab->log();
  EXPECT_EQ(m->method, portmap_method::pcp);
  EXPECT_EQ(m->external, client_ep()); // the router translates nothing
  EXPECT_TRUE(has_pinhole(*lab->pinholes(), udp, client_ep()));
  EXPECT_TRUE(peer_datagram_arrives(*lab, c.udp_sock.get(), client_ep(), "by PCP", 2s));
}

TEST(PortmapPinhole, PcpPinholeIsDeletedByUnmap) {
  P2PD_MINIUPNPD_LAB(lab, pinhole_lab_options());
  // miniupnpd 2.3.1 cannot delete a PCP pinhole it renewed, and a
  // retransmitted request is a renewal: one send, waited for long.
  auto timing = lab_portmap_timing();
  timing.rto = 2s;
  timing.max_sends = 1;
  pinhole_client c{*lab, {portmap_method::pcp}, timing};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  auto m = c.open(tcp, 60);
  ASSERT_TRUE(m) << render(m.error());
  ASSERT_TRUE(has_pinhole(*lab->pinholes(), tcp, client_ep()));
  auto err = c.calls().unmap(m->id);
  EXPECT_FALSE(err) << render(err);
  EXPECT_TRUE(lab->pinholes()->empty());
  EXPECT_FALSE(peer_connects(*lab, client_ep(), silence));
}

TEST(PortmapPinhole, UnansweredUPnPFallsBackToPcp) {
  // miniupnpd without UPnP: the SSDP searches go unanswered, PCP opens it.
  auto opts = pinhole_lab_options();
  opts.upnp = false;
  P2PD_MINIUPNPD_LAB(lab, opts);
  pinhole_client c{*lab, {portmap_method::pcp, portmap_method::upnp}};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  auto m = c.open(udp, 60);
  ASSERT_TRUE(m) << render(m.error());
  EXPECT_EQ(m->method, portmap_method::pcp);
  EXPECT_TRUE(has_pinhole(*lab->pinholes(), udp, client_ep()));
}
