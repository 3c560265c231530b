// The port mapper against miniupnpd (PCP, NAT-PMP, UPnP IGD each) as the
// router of namespaces: the mapping lets the peer reach the client, leases
// are refreshed, unmap and the mapper's end delete them, a killed client's
// lease runs out, a rebooted router gets the mapping back.
#include "actors/portmap/portmap_fixture.hpp"

#include "support/forked_child.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

constexpr uint16_t client_port = 40000;

class PortmapLab : public ::testing::TestWithParam<portmap_method> {};

std::string method_name(const ::testing::TestParamInfo<portmap_method>& info) {
  switch (info.param) {
    case portmap_method::pcp: return "PCP";
    case portmap_method::natpmp: return "NATPMP";
    default: return "UPnP";
  }
}

// What each test starts from, in the client's namespace.
struct client_side {
  explicit client_side(miniupnpd_lab& lab, portmap_method m)
    : ns(lab.client_ns()), sock(raw_udp({miniupnpd_lab::client_ip(), client_port})) {
    auto s = spawn_port_mapper(rt.system(), lab_mapper_spec(m));
    if (s)
      mapper = *s;
  }
  netns_guard ns;
  runtime rt;
  caf::scoped_actor self{rt.system()};
  net::unique_fd sock;
  port_mapper_actor mapper;
  mapper_client calls() { return {self, mapper, portmap_deadline(lab_portmap_timing())}; }
};

} // namespace

TEST_P(PortmapLab, MappedPortLetsThePeerReachTheClient) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  client_side c{*lab, GetParam()};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  auto m = c.calls().map(udp, {miniupnpd_lab::client_ip(), client_port}, 60);
  ASSERT_TRUE(m) << render(m.error()) << "\n" << lab->log();
  EXPECT_EQ(m->method, GetParam());
  EXPECT_EQ(m->external.ip, miniupnpd_lab::external_ip());
  EXPECT_NE(m->external.port, 0);
  auto table = lab->mappings();
  ASSERT_TRUE(table);
  EXPECT_TRUE(has_port(*table, m->external.port));
  EXPECT_TRUE(peer_reaches(*lab, c.sock.get(), m->external, "hello through the mapping"));
}

TEST_P(PortmapLab, ShortLeaseIsRefreshedBeforeItRunsOut) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  client_side c{*lab, GetParam()};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  c.self->send(c.mapper, caf::subscribe_atom::value, as_actor(c.self));
  auto m = c.calls().map(udp, {miniupnpd_lab::client_ip(), client_port}, 4);
  ASSERT_TRUE(m) << render(m.error());
  // Two refreshes (at 2 s each), then the mapping still works 8 s after it
  // was made: twice the lease.
  int refreshed = 0;
  EXPECT_TRUE(receive_until<portmap_event>(c.self, 10s, [&](portmap_event& ev) {
    EXPECT_EQ(ev.change, portmap_change::refreshed) << ev.reason;
    return ++refreshed == 4;
  }));
  EXPECT_TRUE(peer_reaches(*lab, c.sock.get(), m->external, "still mapped"));
}

TEST_P(PortmapLab, UnmapRemovesTheRoutersMapping) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  client_side c{*lab, GetParam()};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  auto m = c.calls().map(udp, {miniupnpd_lab::client_ip(), client_port}, 60);
  ASSERT_TRUE(m) << render(m.error());
  ASSERT_TRUE(has_port(*lab->mappings(), m->external.port));
  auto err = c.calls().unmap(m->id);
  EXPECT_FALSE(err) << render(err);
  EXPECT_FALSE(has_port(*lab->mappings(), m->external.port));
}

TEST_P(PortmapLab, MapperThatEndsDeletesItsMappings) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  client_side c{*lab, GetParam()};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  auto m = c.calls().map(udp, {miniupnpd_lab::client_ip(), client_port}, 600);
  ASSERT_TRUE(m) << render(m.error());
  c.self->send_exit(c.mapper, caf::exit_reason::kill);
  c.mapper = nullptr;
  // Long before the 600 s lease: the delete the mapper sent as it ended.
  EXPECT_TRUE(router_table_becomes(*lab, 3s, [](auto& t) { return t.empty(); }))
    << lab->log();
}

TEST_P(PortmapLab, KilledClientsLeaseRunsOut) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  // A client process that maps with a 3 s lease and is then killed: nobody
  // deletes or refreshes the mapping. Forked before any thread starts here.
  auto method = GetParam();
  auto client_ns = lab->client_ns();
  forked_child child{[method, client_ns]() -> std::string {
    netns_guard g{client_ns};
    if (!g.error().empty())
      return g.error();
    // Never destroyed: the mapper must not end (and delete its mapping)
    // before the kill; the child exits without running destructors.
    auto* rt = new runtime;
    auto* self = new caf::scoped_actor{rt->system()};
    auto mapper = spawn_port_mapper(rt->system(), lab_mapper_spec(method));
    if (!mapper)
      return render(mapper.error());
    new port_mapper_actor{*mapper}; // an unreferenced mapper would end
    mapper_client calls{*self, *mapper, portmap_deadline(lab_portmap_timing())};
    auto m = calls.map(udp, {miniupnpd_lab::client_ip(), client_port}, 3);
    return m ? std::string{} : render(m.error());
  }};
  ASSERT_EQ(child.report(), "");
  ASSERT_FALSE(lab->mappings()->empty());
  child.kill();
  // Gone once the lease (3 s, refreshed at most at 1.5 s) has run out.
  EXPECT_TRUE(router_table_becomes(*lab, 8s, [](auto& t) { return t.empty(); }))
    << lab->log();
}

TEST_P(PortmapLab, RouterRestartIsNoticedAndTheMappingRestored) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  client_side c{*lab, GetParam()};
  ASSERT_TRUE(c.ns.error().empty()) << c.ns.error();
  c.self->send(c.mapper, caf::subscribe_atom::value, as_actor(c.self));
  auto m = c.calls().map(udp, {miniupnpd_lab::client_ip(), client_port}, 4);
  ASSERT_TRUE(m) << render(m.error());
  // Three refreshes at the old router (2 s apart): its epoch is then 6 s,
  // far enough above a new router's for the epoch rules to tell a reboot
  // (a router up for a second or two cannot be told from a late answer).
  for (int i = 0; i < 3; ++i) {
    auto ev = next<portmap_event>(c.self, 4s);
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->change, portmap_change::refreshed);
  }
  std::string why;
  ASSERT_TRUE(lab->restart(why)) << why;
  ASSERT_TRUE(lab->mappings()->empty());
  // A refresh the old router answered while it was stopping says
  // `refreshed`, one while it was down `lost`; the first answer of the new
  // router `restored` (its epoch went back, or UPnP: the entry was gone).
  std::optional<portmap_event> ev;
  EXPECT_TRUE(receive_until<portmap_event>(c.self, 8s, [&](portmap_event& x) {
    ev = x;
    return x.change == portmap_change::restored;
  }));
  ASSERT_TRUE(ev);
  EXPECT_TRUE(has_port(*lab->mappings(), ev->mapping.external.port));
  EXPECT_TRUE(peer_reaches(*lab, c.sock.get(), ev->mapping.external, "after the reboot"));
  if (GetParam() != portmap_method::upnp) {
    EXPECT_EQ(c.calls().stats().restarts, 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, PortmapLab,
                         ::testing::Values(portmap_method::pcp, portmap_method::natpmp,
                                           portmap_method::upnp),
                         method_name);
