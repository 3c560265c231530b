// probe_nat against the project's STUN server on loopback (127.0.0.1 with
// 127.0.0.2 as the alternate): no NAT there, so the verdict is open_internet;
// NAT modes are checked in the lab (tests/lab/nat_classification.sh).
#include "pipe_test_util.hpp"

#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/actors/stun/stun_server.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NatProbe : public ::testing::Test {
protected:
  void SetUp() override {
    stun_server_spec spec;
    spec.addrs.primary_ip = *net::ip_address::parse("127.0.0.1");
    spec.addrs.primary_port = 0;
    spec.addrs.alt_ip = *net::ip_address::parse("127.0.0.2");
    spec.addrs.alt_port = 0;
    spec.tcp = false;
    auto srv = start_stun_server(rt, spec);
    ASSERT_OK(srv);
    server = *srv;
  }

  nat_probe_spec probe_spec(endpoint to) const {
    nat_probe_spec s;
    s.server = to;
    s.timing.rto = 20ms;
    s.timing.max_sends = 2;
    s.timing.last_wait_factor = 2;
    s.delta_samples = 5;
    return s;
  }

  endpoint primary() const { return server.addrs.address_of({false, false}); }

  runtime rt;
  stun_server server;
};

} // namespace

TEST_F(NatProbe, LoopbackIsOpenInternet) {
  auto spec = probe_spec(primary());
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::open_internet);
  EXPECT_EQ(rep->delta.type, net::delta_type::not_applicable);
  ASSERT_TRUE(rep->mapped);
  EXPECT_EQ(*rep->mapped, rep->local);
  ASSERT_TRUE(rep->alternate);
  EXPECT_EQ(*rep->alternate, server.addrs.address_of({true, true}));
  EXPECT_EQ(rep->tests.test1.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.test2.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.test3.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.test1_alt.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.local_port, rep->local.port);
  ASSERT_EQ(rep->samples.size(), 5u);
  for (size_t i = 0; i < rep->samples.size(); ++i) {
    const auto& s = rep->samples[i];
    EXPECT_EQ(s.order, i);
    EXPECT_EQ(s.local_port, s.mapped_port);
    EXPECT_GE(s.local_port, 20000);
    EXPECT_LE(s.local_port, 60000);
    for (size_t j = 0; j < i; ++j) // never equal or adjacent
      EXPECT_GT(std::abs(int{s.local_port} - int{rep->samples[j].local_port}), 1);
  }
  EXPECT_TRUE(rep->mapped_ports);
  EXPECT_TRUE(rep->notes.empty());
}

TEST_F(NatProbe, AnyAddressBindSeesItsInterfaceAddresses) {
  auto rep = probe_nat(rt, probe_spec(primary()));
  ASSERT_OK(rep);
  EXPECT_TRUE(rep->local.ip.is_any());
  EXPECT_EQ(rep->nat, net::nat_type::open_internet);
}

TEST_F(NatProbe, SilentServerIsBlocked) {
  auto mute = rt.listen(udp, any_port("127.0.0.1"),
                        [](pipe_io&, std::string_view, const endpoint&) {});
  ASSERT_OK(mute);
  auto spec = probe_spec(mute->local());
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::blocked);
  EXPECT_EQ(rep->tests.test1.reply, net::test_reply::no_reply);
  EXPECT_EQ(rep->tests.test2.reply, net::test_reply::not_run);
  EXPECT_FALSE(rep->mapped);
  EXPECT_TRUE(rep->samples.empty());
  EXPECT_EQ(rep->delta.type, net::delta_type::not_applicable); // nothing is allocated
}

TEST_F(NatProbe, BadArguments) {
  auto spec = probe_spec(endpoint{*net::ip_address::parse("127.0.0.1"), 0});
  auto rep = probe_nat(rt, spec);
  ASSERT_FALSE(rep);
  EXPECT_ERRC(rep.error(), errc::invalid_argument);
  spec = probe_spec(primary());
  spec.local = any_port("::1");
  rep = probe_nat(rt, spec);
  ASSERT_FALSE(rep);
  EXPECT_ERRC(rep.error(), errc::invalid_argument);
}

TEST_F(NatProbe, ServerWithoutOtherAddressLeavesTheTypeUnknown) {
  // One address only: it cannot answer change requests, so their silence
  // would prove nothing; the probe does not send them.
  stun_server_spec one;
  one.addrs.primary_ip = *net::ip_address::parse("127.0.0.1");
  one.addrs.primary_port = 0;
  one.tcp = false;
  auto srv = start_stun_server(rt, one);
  ASSERT_OK(srv);
  auto spec = probe_spec(srv->addrs.address_of({}));
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::unknown);
  EXPECT_EQ(rep->tests.test1.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.test2.reply, net::test_reply::not_run);
  EXPECT_EQ(rep->tests.test1_alt.reply, net::test_reply::not_run);
  ASSERT_FALSE(rep->notes.empty());
  EXPECT_NE(rep->notes[0].find("OTHER-ADDRESS"), std::string::npos) << rep->notes[0];
}
