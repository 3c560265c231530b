#include "p2pd/net/sock/bind_spec.hpp"

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/netns.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"
#include "p2pd/net/sock/socket.hpp"

using namespace p2pd::net;
using p2pd::test::addr;
using p2pd::test::child_checks;
using p2pd::test::ip;
using p2pd::test::run_in_new_netns;
using p2pd::test::sh;

namespace {

// The original's test_binder used interface number 3.
interface_info eth0() {
  interface_info i;
  i.name = "eth0";
  i.index = 3;
  i.flags.up = true;
  i.addrs = {addr("192.168.0.1", 24), addr("10.0.0.9", 8), addr("2001:db8:1::5", 64),
             addr("fe80::6c00:b217:18ca:e365", 64)};
  return i;
}

route route_of(family f) {
  return routes_for(eth0(), f).at(0);
}

// bind_spec::parse and resolve on eth0, as the original's binder(af, ip,
// port, nic_id=3).
endpoint binder(family f, std::string_view text, uint16_t port) {
  auto spec = bind_spec::parse(f, text, port);
  EXPECT_OK(spec) << text;
  if (!spec)
    return {};
  auto ep = resolve_bind(*spec, eth0());
  EXPECT_OK(ep) << text;
  return ep ? *ep : endpoint{};
}

bind_spec spec_of(bind_spec::kind_t kind, family f, std::optional<ip_address> x = {},
                  uint16_t port = 0) {
  bind_spec s;
  s.kind = kind;
  s.fam = f;
  s.ip = x;
  s.port = port;
  return s;
}

errc error_of(const result<endpoint>& r) {
  return r ? errc::none : r.error().code;
}

} // namespace

// --- test_binder, Linux rows -------------------------------------------------

TEST(bind_spec, binder_keeps_ipv4_addresses_as_given) {
  EXPECT_EQ(binder(family::v4, "127.0.0.1", 80), endpoint(ip("127.0.0.1"), 80));
  EXPECT_EQ(binder(family::v4, "192.168.0.1", 80), endpoint(ip("192.168.0.1"), 80));
  EXPECT_EQ(binder(family::v4, "8.8.8.8", 80), endpoint(ip("8.8.8.8"), 80));
}

TEST(bind_spec, binder_any_address_forms_give_0_0_0_0_or_colons) {
  EXPECT_EQ(binder(family::v4, "0.0.0.0", 80), endpoint(ip("0.0.0.0"), 80));
  EXPECT_EQ(binder(family::v4, "*", 80), endpoint(ip("0.0.0.0"), 80));
  EXPECT_EQ(binder(family::v4, "", 80), endpoint(ip("0.0.0.0"), 80));
  EXPECT_EQ(binder(family::v6, "::", 80), endpoint(ip("::"), 80));
  EXPECT_EQ(binder(family::v6, "*", 80), endpoint(ip("::"), 80));
  EXPECT_EQ(binder(family::v6, "", 80), endpoint(ip("::"), 80));
  EXPECT_EQ(binder(family::v6, "::/0", 80), endpoint(ip("::"), 80));
}

TEST(bind_spec, binder_localhost_is_loopback) {
  EXPECT_EQ(binder(family::v4, "localhost", 80), endpoint(ip("127.0.0.1"), 80));
  EXPECT_EQ(binder(family::v6, "localhost", 80), endpoint(ip("::1"), 80));
  EXPECT_EQ(binder(family::v6, "::1", 80), endpoint(ip("::1"), 80));
}

TEST(bind_spec, binder_gives_a_link_local_the_interface_index_as_scope) {
  auto ep = binder(family::v6, "fe80::6c00:b217:18ca:e365", 80);
  EXPECT_EQ(ep, endpoint(ip("fe80::6c00:b217:18ca:e365%3"), 80));
  EXPECT_EQ(ep.ip.scope_id(), 3u);
}

TEST(bind_spec, binder_leaves_a_global_ipv6_unscoped) {
  auto ep = binder(family::v6, "2402:1f00:8101:83f::1", 80);
  EXPECT_EQ(ep, endpoint(ip("2402:1f00:8101:83f::1"), 80));
  EXPECT_EQ(ep.ip.scope_id(), 0u);
}

TEST(bind_spec, binder_leaves_a_unique_local_ipv6_unscoped) {
  // The original appended a scope to every "fd" address.
  EXPECT_EQ(binder(family::v6, "fd12:3456:789a:1::1", 80).ip.scope_id(), 0u);
}

// --- parse ------------------------------------------------------------------

TEST(bind_spec, parse_rejects_an_address_of_the_other_family) {
  EXPECT_FALSE(bind_spec::parse(family::v6, "0.0.0.0"));
  EXPECT_FALSE(bind_spec::parse(family::v4, "::"));
  EXPECT_FALSE(bind_spec::parse(family::v4, "::/0"));
  EXPECT_EQ(bind_spec::parse(family::v4, "::1").error().code, errc::invalid_argument);
}

TEST(bind_spec, parse_rejects_what_is_not_an_address) {
  for (const char* text : {"eth0", "1.2.3", "example.com", "10.0.0.0/8"}) {
    auto r = bind_spec::parse(family::v4, text);
    EXPECT_FALSE(r) << text;
    if (!r) {
      EXPECT_ERRC(r, errc::invalid_argument) << text;
    }
  }
}

TEST(bind_spec, parse_records_kind_ip_and_port) {
  auto s = bind_spec::parse(family::v4, "10.0.0.9", 4000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, bind_spec::explicit_ip);
  EXPECT_EQ(s->ip, ip("10.0.0.9"));
  EXPECT_EQ(s->port, 4000);
  EXPECT_EQ(bind_spec::parse(family::v4, "*")->kind, bind_spec::any);
  EXPECT_FALSE(bind_spec::parse(family::v4, "*")->ip);
}

// --- kinds on a route -----------------------------------------------------------

TEST(bind_spec, any_and_loopback_need_no_interface) {
  EXPECT_EQ(*resolve_bind(spec_of(bind_spec::any, family::v6, {}, 9)), endpoint(ip("::"), 9));
  EXPECT_EQ(*resolve_bind(spec_of(bind_spec::loopback, family::v4)),
            endpoint(ip("127.0.0.1"), 0));
  EXPECT_EQ(*resolve_bind(spec_of(bind_spec::loopback, family::v6)), endpoint(ip("::1"), 0));
}

TEST(bind_spec, nic_bind_takes_the_first_nic_address_of_the_route) {
  auto ep = resolve_bind(spec_of(bind_spec::nic, family::v4, {}, 5000), route_of(family::v4));
  ASSERT_OK(ep);
  EXPECT_EQ(*ep, endpoint(ip("192.168.0.1"), 5000));
}

TEST(bind_spec, nic_bind_takes_a_given_address_of_the_route) {
  auto ep = resolve_bind(spec_of(bind_spec::nic, family::v4, ip("10.0.0.9")), route_of(family::v4));
  ASSERT_OK(ep);
  EXPECT_EQ(ep->ip, ip("10.0.0.9"));
}

TEST(bind_spec, nic_bind_of_an_address_not_on_the_route_is_invalid) {
  auto ep = resolve_bind(spec_of(bind_spec::nic, family::v4, ip("10.9.9.9")), route_of(family::v4));
  ASSERT_FALSE(ep);
  EXPECT_ERRC(ep, errc::invalid_argument);
  EXPECT_EQ(ep.error().what, "10.9.9.9 is not an IPv4 address of interface 'eth0'");
}

TEST(bind_spec, nic_bind_on_an_interface_without_the_family_is_family_unsupported) {
  auto nic = eth0();
  nic.addrs = {addr("10.0.0.9", 8), addr("fe80::1", 64)};
  auto ep = resolve_bind(spec_of(bind_spec::nic, family::v6), nic);
  ASSERT_FALSE(ep);
  EXPECT_ERRC(ep, errc::family_unsupported);
  EXPECT_EQ(ep.error().what, "interface 'eth0' has no IPv6 address");
}

TEST(bind_spec, nic_bind_without_route_or_interface_is_invalid) {
  EXPECT_EQ(error_of(resolve_bind(spec_of(bind_spec::nic, family::v4))), errc::invalid_argument);
  EXPECT_EQ(error_of(resolve_bind(spec_of(bind_spec::link_local, family::v6))),
            errc::invalid_argument);
}

TEST(bind_spec, a_bind_of_one_family_on_a_route_of_the_other_is_invalid) {
  EXPECT_EQ(error_of(resolve_bind(spec_of(bind_spec::nic, family::v6), route_of(family::v4))),
            errc::invalid_argument);
}

TEST(bind_spec, an_ip_of_the_other_family_is_invalid) {
  EXPECT_EQ(error_of(resolve_bind(spec_of(bind_spec::explicit_ip, family::v6, ip("1.2.3.4")))),
            errc::invalid_argument);
  EXPECT_EQ(error_of(resolve_bind(spec_of(bind_spec::nic, family::v4, ip("2001:db8:1::5")),
                                  route_of(family::v4))),
            errc::invalid_argument);
}

TEST(bind_spec, link_local_bind_takes_the_route_link_local_with_scope) {
  auto ep = resolve_bind(spec_of(bind_spec::link_local, family::v6, {}, 80), route_of(family::v6));
  ASSERT_OK(ep);
  EXPECT_EQ(*ep, endpoint(ip("fe80::6c00:b217:18ca:e365%3"), 80));
}

TEST(bind_spec, link_local_bind_of_a_given_address_gets_the_scope) {
  auto r = route_of(family::v6);
  auto spec = spec_of(bind_spec::link_local, family::v6, ip("fe80::6c00:b217:18ca:e365"));
  auto ep = resolve_bind(spec, r);
  ASSERT_OK(ep);
  EXPECT_EQ(ep->ip.scope_id(), 3u);
  EXPECT_EQ(error_of(resolve_bind(spec_of(bind_spec::link_local, family::v6, ip("fe80::99")), r)),
            errc::invalid_argument);
}

TEST(bind_spec, link_local_bind_on_an_interface_without_one_is_family_unsupported) {
  auto nic = eth0();
  nic.addrs = {addr("2001:db8:1::5", 64)};
  auto ep = resolve_bind(spec_of(bind_spec::link_local, family::v6), nic);
  ASSERT_FALSE(ep);
  EXPECT_ERRC(ep, errc::family_unsupported);
  EXPECT_EQ(ep.error().what, "interface 'eth0' has no IPv6 link-local address");
}

TEST(bind_spec, link_local_bind_works_on_an_interface_with_only_link_locals) {
  auto nic = eth0();
  nic.addrs = {addr("fe80::1", 64)};
  auto ep = resolve_bind(spec_of(bind_spec::link_local, family::v6), nic);
  ASSERT_OK(ep);
  EXPECT_EQ(ep->ip, ip("fe80::1%3"));
}

TEST(bind_spec, link_local_binds_are_ipv6_only) {
  EXPECT_EQ(error_of(resolve_bind(spec_of(bind_spec::link_local, family::v4), eth0())),
            errc::invalid_argument);
}

TEST(bind_spec, an_explicit_link_local_scoped_to_another_interface_is_invalid) {
  EXPECT_EQ(error_of(resolve_bind(spec_of(bind_spec::explicit_ip, family::v6, ip("fe80::1%4")),
                                  eth0())),
            errc::invalid_argument);
  EXPECT_TRUE(resolve_bind(spec_of(bind_spec::explicit_ip, family::v6, ip("fe80::1%3")), eth0()));
}

TEST(bind_spec, an_explicit_link_local_without_scope_or_interface_is_invalid) {
  auto ep = resolve_bind(spec_of(bind_spec::explicit_ip, family::v6, ip("fe80::1")));
  ASSERT_FALSE(ep);
  EXPECT_ERRC(ep, errc::invalid_argument);
  EXPECT_TRUE(resolve_bind(spec_of(bind_spec::explicit_ip, family::v6, ip("fe80::1%1"))));
}

TEST(bind_spec, an_explicit_bind_needs_an_ip) {
  EXPECT_EQ(error_of(resolve_bind(spec_of(bind_spec::explicit_ip, family::v4))),
            errc::invalid_argument);
}

TEST(bind_spec, an_explicit_ip_is_not_checked_against_the_interface) {
  // As the original: the bind() itself says whether the address is local.
  auto ep = resolve_bind(spec_of(bind_spec::explicit_ip, family::v4, ip("8.8.8.8")), eth0());
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->ip, ip("8.8.8.8"));
}

// --- real sockets -----------------------------------------------------------

TEST(bind_spec, a_resolved_any_address_binds_a_socket) {
  auto spec = bind_spec::parse(family::v4, "*");
  ASSERT_TRUE(spec);
  auto ep = resolve_bind(*spec);
  ASSERT_TRUE(ep);
  auto fd = open_bound_socket(protocol::udp, *ep);
  ASSERT_OK(fd);
  auto local = local_endpoint(fd->get());
  ASSERT_TRUE(local);
  EXPECT_EQ(local->ip, ip("0.0.0.0"));
  EXPECT_NE(local->port, 0);
}

TEST(bind_spec, a_link_local_bind_gives_a_socket_scoped_to_the_interface) {
  P2PD_SKIP_UNLESS_NETNS();
  P2PD_SKIP_UNLESS_IPV6();
  auto out = run_in_new_netns([]() -> std::string {
    auto setup = "ip link add eth0 type veth peer name veth-eth0"
                 " && ip link set eth0 addrgenmode none && ip link set veth-eth0 up"
                 " && ip link set eth0 up && ip -6 addr add fe80::1234/64 dev eth0 nodad";
    if (auto err = sh(setup); !err.empty())
      return err;
    auto table = list_interfaces();
    if (!table)
      return to_string(table.error());
    auto nic = find_interface(*table, "eth0");
    if (!nic)
      return to_string(nic.error());
    auto ep = resolve_bind(spec_of(bind_spec::link_local, family::v6), *nic);
    if (!ep)
      return to_string(ep.error());
    auto fd = open_bound_socket(protocol::udp, *ep);
    if (!fd)
      return to_string(fd.error());
    auto local = local_endpoint(fd->get());
    if (!local)
      return to_string(local.error());
    child_checks c;
    NETNS_EXPECT(c, local->ip == ip("fe80::1234").with_scope(nic->index));
    NETNS_EXPECT_EQ(c, local->ip.scope_id(), nic->index);
    return c.failures();
  });
  EXPECT_TRUE(out.ok) << out.report;
}
