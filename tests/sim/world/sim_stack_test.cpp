// sim::sim_stack: one simulated host seen through the net_stack seam, as
// the node and what it starts see it.

#include <chrono>

#include <gtest/gtest.h>

#include "caf/send.hpp"

#include "p2pd/actors/stack/resolver.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/iface/if_filter.hpp"
#include "sim/world/scenario_fixture.hpp"

using namespace std::chrono_literals;
using namespace p2pd;
using namespace p2pd::test;

namespace {

TEST(SimStack, APublicHostShowsItsAddressesAsOneNicWithDefaultRoutes) {
  sim::scenario_config cfg;
  cfg.seed = 3;
  cfg.ipv6 = true;
  sim::scenario sc{cfg};
  auto h = sc.add_public_host();
  auto table = sc.stack(h)->interfaces();
  ASSERT_TRUE(table);
  ASSERT_EQ(table->interfaces.size(), 1u);
  const auto& nic = table->interfaces.front();
  EXPECT_EQ(nic.name, "eth0");
  EXPECT_TRUE(nic.flags.up && nic.flags.running);
  ASSERT_EQ(nic.addrs.size(), 2u);
  EXPECT_EQ(nic.addrs[0].ip, ip("11.0.0.1"));
  EXPECT_EQ(nic.addrs[0].prefix, 32);
  EXPECT_TRUE(nic.addrs[1].ip.is_v6());
  EXPECT_EQ(nic.addrs[1].prefix, 64);
  ASSERT_TRUE(table->v4_default && table->v6_default);
  EXPECT_EQ(table->v4_default->interface, "eth0");
  EXPECT_FALSE(table->v4_default->gateway);
  // The default filter a node uses keeps it, and choose_interface picks it.
  EXPECT_EQ(net::filter_interfaces(table->interfaces, {}).size(), 1u);
  auto chosen = net::choose_interface(*table, "");
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->name, "eth0");
}

TEST(SimStack, ASiteHostHasItsLanAddressAndTheRouterAsGateway) {
  sim::scenario sc;
  auto s = sc.add_site(*sim::nat_profile::p2pd(net::nat_type::full_cone, net::delta_type::equal));
  auto h = sc.add_host(s);
  auto table = sc.stack(h)->interfaces();
  ASSERT_TRUE(table);
  const auto& a = table->interfaces.front().addrs.front();
  EXPECT_EQ(a.ip, ip("10.1.0.2"));
  EXPECT_EQ(a.prefix, 24);
  ASSERT_TRUE(table->v4_default && table->v4_default->gateway);
  EXPECT_EQ(*table->v4_default->gateway, ip("10.1.0.1"));
  EXPECT_FALSE(table->v6_default);
}

TEST(SimStack, UnixTimeIsTheEpochPlusVirtualTimePlusTheHostsSkew) {
  sim::scenario_config cfg;
  cfg.epoch_ms = 1'000'000;
  sim::scenario sc{cfg};
  auto a = sc.add_public_host();
  auto b = sc.add_public_host();
  sc.set_skew(b, -250ms);
  auto sa = sc.stack(a);
  auto sb = sc.stack(b);
  EXPECT_EQ(sa->unix_ms(), 1'000'000);
  sc.run_for(90s);
  EXPECT_EQ(sa->unix_ms(), 1'090'000);
  EXPECT_EQ(sb->unix_ms(), 1'089'750);
  EXPECT_EQ(sb->unix_ns(), 1'089'750'000'000);
}

TEST(SimStack, SeedsAreASequencePerHostThatTheWorldSeedRepeats) {
  auto draw = [](uint64_t seed, int host) {
    sim::scenario_config cfg;
    cfg.seed = seed;
    sim::scenario sc{cfg};
    sim::host_id h = 0;
    for (int i = 0; i <= host; ++i)
      h = sc.add_public_host();
    auto st = sc.stack(h);
    return std::vector<uint64_t>{st->rng_seed(), st->rng_seed()};
  };
  auto x = draw(5, 0);
  EXPECT_NE(x[0], x[1]);
  EXPECT_EQ(draw(5, 0), x);
  EXPECT_NE(draw(5, 1), x);
  EXPECT_NE(draw(6, 0), x);
}

TEST(SimStack, TheResolverAnswersFromTheWorldsNameBook) {
  sim::scenario sc;
  auto h = sc.add_public_host();
  sc.names().add("stun.sim", {ip("11.0.0.9")});
  auto r = sc.stack(h)->resolver(sc.system());
  auto got = sc.ask<resolved_hosts>(r, 5s, resolve_atom::value,
                                    std::vector<std::string>{"STUN.sim", "nobody.sim", "11.0.0.4"},
                                    caf::timespan{2s});
  ASSERT_TRUE(sc.run_until([&] { return got->done(); }, 10s)) << "no answer";
  ASSERT_TRUE(got->ok());
  auto& a = (*got->value)->answers;
  ASSERT_EQ(a.size(), 3u);
  ASSERT_TRUE(a[0]);
  EXPECT_EQ(a[0]->front(), ip("11.0.0.9"));
  EXPECT_FALSE(a[1]);
  ASSERT_TRUE(a[2]);
  EXPECT_EQ(a[2]->front(), ip("11.0.0.4"));
}

TEST(SimStack, ANameWithNoAddressesFailsWithTheReason) {
  sim::name_book book;
  book.add("empty.sim", {});
  auto any = book.look_up("empty.sim", std::nullopt);
  ASSERT_FALSE(any);
  EXPECT_EQ(any.error().what, "empty.sim: no address in the simulated name table");
  auto v6 = book.look_up("empty.sim", net::family::v6);
  ASSERT_FALSE(v6);
  EXPECT_NE(v6.error().what.find("no IPv6 address"), std::string::npos) << v6.error().what;
}

TEST(SimStack, APipeConnectsToANameFromTheBookAndAnUnknownNameFails) {
  sim::scenario sc;
  auto srv = sc.add_public_host();
  auto cli = sc.add_public_host();
  sc.names().add("echo.sim", sc.addresses(srv));
  auto sspec =
    server_spec(net::protocol::tcp, endpoint{sc.addresses(srv)[0], 7000}, echo_handler());
  auto server = sc.stack(srv)->spawn_pipe(sc.system(), sspec);
  auto opened = sc.open(server);
  auto box = std::make_shared<collected>();
  auto cspec = client_spec(net::protocol::tcp, "echo.sim", 7000);
  cspec.subscribers.push_back({spawn_collector(sc, box), events::msgs});
  auto client = sc.stack(cli)->spawn_pipe(sc.system(), cspec);
  auto connected = sc.open(client);
  auto nobody = client_spec(net::protocol::tcp, "nobody.sim", 7000);
  auto bad = sc.open(sc.stack(cli)->spawn_pipe(sc.system(), nobody));
  ASSERT_TRUE(sc.run_until([&] { return opened->done() && connected->done() && bad->done(); },
                           30s));
  ASSERT_TRUE(opened->ok());
  ASSERT_TRUE(connected->ok()) << sc.system().render((*connected->value).error());
  EXPECT_EQ((*connected->value)->remote.ip, sc.addresses(srv)[0]);
  ASSERT_FALSE(bad->ok());
  EXPECT_NE(sc.system().render((*bad->value).error()).find("nobody.sim"), std::string::npos);
  caf::anon_send(client, send_atom::value, text_bytes("ping"));
  ASSERT_TRUE(sc.run_until([&] { return !box->texts.empty(); }, 10s));
  EXPECT_EQ(box->texts.front(), "ping");
}

} // namespace
