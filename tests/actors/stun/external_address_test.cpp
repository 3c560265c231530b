// External addresses of a route: several STUN servers asked at once, the
// answer min_agree of them give accepted.
#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/values.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/actors/stun/external_address.hpp"
#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/stun/stun_message.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

endpoint honest_server(runtime& rt) {
  stun_server_spec spec;
  spec.addrs.primary_ip = *net::ip_address::parse("127.0.0.1");
  spec.addrs.primary_port = 0;
  spec.tcp = false;
  auto srv = start_stun_server(rt, spec);
  EXPECT_TRUE(srv);
  return srv ? srv->addrs.address_of({}) : endpoint{};
}

// A server that says every client is `claim` (198.51.100.7 by default).
endpoint lying_server(runtime& rt, const char* claim = "198.51.100.7") {
  auto ip = *net::ip_address::parse(claim);
  auto p = rt.listen(udp, any_port("127.0.0.1"), [ip](pipe_io& io, std::string_view data,
                                                      const endpoint& from) {
    auto req = net::decode_stun(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    if (!req)
      return;
    net::stun_builder b{net::stun_class::success, net::stun_method::binding, req->txid()};
    b.add_xor_address(net::stun_attr::xor_mapped_address,
                      endpoint{ip, from.port});
    if (auto bytes = b.finish())
      io.reply({reinterpret_cast<const char*>(bytes->data()), bytes->size()});
  });
  EXPECT_TRUE(p);
  return p ? p->local() : endpoint{};
}

endpoint silent_server(runtime& rt) {
  auto p = rt.listen(udp, any_port("127.0.0.1"), [](pipe_io&, std::string_view,
                                                    const endpoint&) {});
  EXPECT_TRUE(p);
  return p ? p->local() : endpoint{};
}

} // namespace

TEST(ExternalAddress, ServersThatAgreeFillTheRoute) {
  runtime rt;
  external_spec spec;
  spec.servers = {honest_server(rt), honest_server(rt), honest_server(rt)};
  spec.timing = loopback_stun_timing();
  auto r = discover_external(rt, loopback_route(net::family::v4), spec);
  ASSERT_OK(r);
  ASSERT_EQ(r->ext_ips.size(), 1u);
  EXPECT_EQ(r->ext_ips.front().network().to_string(), "127.0.0.1");
}

TEST(ExternalAddress, ALyingServerIsOutvoted) {
  runtime rt;
  external_spec spec;
  spec.servers = {lying_server(rt), honest_server(rt), honest_server(rt)};
  spec.timing = loopback_stun_timing();
  auto r = discover_external(rt, loopback_route(net::family::v4), spec);
  ASSERT_OK(r);
  ASSERT_EQ(r->ext_ips.size(), 1u);
  EXPECT_EQ(r->ext_ips.front().network().to_string(), "127.0.0.1");
}

TEST(ExternalAddress, TooFewAnswersToAgreeIsAnError) {
  runtime rt;
  external_spec spec;
  spec.servers = {honest_server(rt), silent_server(rt), silent_server(rt)};
  spec.timing = loopback_stun_timing();
  auto r = discover_external(rt, loopback_route(net::family::v4), spec);
  ASSERT_FALSE(r);
  EXPECT_ERRC(r, errc::recv_timeout);
  EXPECT_NE(what_of(r.error()).find("1 of 3 servers answered"), std::string::npos)
    << render(r.error());
}

TEST(ExternalAddress, TooFewServersOfTheFamilyIsAnError) {
  runtime rt;
  external_spec spec;
  spec.servers = {honest_server(rt), *endpoint::parse("[::1]:3478")};
  spec.timing = loopback_stun_timing();
  auto r = discover_external(rt, loopback_route(net::family::v4), spec);
  ASSERT_FALSE(r);
  EXPECT_ERRC(r, errc::invalid_argument);
}

TEST(ExternalAddress, ServersAgreeingOnTheAnyAddressGiveNoExternalAddress) {
  runtime rt;
  external_spec spec;
  spec.servers = {lying_server(rt, "0.0.0.0"), lying_server(rt, "0.0.0.0"), honest_server(rt)};
  spec.timing = loopback_stun_timing();
  auto r = discover_external(rt, loopback_route(net::family::v4), spec);
  ASSERT_FALSE(r);
  EXPECT_NE(what_of(r.error()).find("any-address"), std::string::npos) << render(r.error());
}
