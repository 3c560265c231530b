// net::plan_listen_all (the seed's listen_all as a list of binds) and
// net::check_listen_specific, on hand-made interfaces and routes: no sockets,
// no namespaces.
#include "p2pd/net/sock/listen_plan.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::addr;
using p2pd::test::ip;

namespace {

constexpr auto tcp = protocol::tcp;
constexpr auto udp = protocol::udp;

interface_info nic(std::string name, uint32_t index, std::vector<interface_addr> addrs) {
  interface_info i;
  i.name = std::move(name);
  i.index = index;
  i.flags.up = true;
  i.flags.running = true;
  i.addrs = std::move(addrs);
  return i;
}

// eth0 (index 3): IPv4, a global IPv6 and a link-local address.
interface_info dual_stack() {
  return nic("eth0", 3,
             {addr("192.168.1.5", 24), addr("2001:4860::5", 64), addr("fe80::5", 64)});
}

// eth1 (index 4): IPv4 only.
interface_info v4_only() {
  return nic("eth1", 4, {addr("10.0.0.7", 8)});
}

// eth2 (index 5): IPv6 only, global and link-local.
interface_info v6_only() {
  return nic("eth2", 5, {addr("2001:4860::7", 64), addr("fe80::7", 64)});
}

route v4_route(std::string_view nic_ip) {
  route r;
  r.interface = "eth1";
  r.if_index = 4;
  r.fam = family::v4;
  r.nic_ips.push_back(ip_range::single(ip(nic_ip)));
  return r;
}

// "TCP 192.168.1.5:80", sorted, so that plans compare as sets with counts.
std::vector<std::string> texts(const std::vector<listen_addr>& xs) {
  std::vector<std::string> out;
  for (auto& x : xs)
    out.push_back(std::string{to_string(x.proto)} + " " + x.local.to_string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> xs) {
  std::sort(xs.begin(), xs.end());
  return xs;
}

listen_addr la(protocol p, std::string_view ep) {
  return listen_addr{p, *endpoint::parse(ep)};
}

} // namespace

// --- counts: targets x ports x protocols x families ------------------------------------------

TEST(ListenPlan, OneTargetOnePortOneProtocolIsOneListener) {
  auto plan = plan_listen_all({v4_only()}, {8000}, {tcp}, family_choice::v4, false);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), std::vector<std::string>{"TCP 10.0.0.7:8000"});
}

TEST(ListenPlan, Ipv6ListensOnTheGlobalAndTheLinkLocalAddress) {
  auto plan = plan_listen_all({dual_stack()}, {8000}, {udp}, family_choice::v6, true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), sorted({"UDP [2001:4860::5]:8000", "UDP [fe80::5%3]:8000"}));
}

TEST(ListenPlan, LinkLocalAddressesCarryTheInterfaceAsScope) {
  auto plan = plan_listen_all({dual_stack()}, {8000}, {tcp}, family_choice::v6, true);
  ASSERT_OK(plan);
  ASSERT_EQ(plan->size(), 2u);
  auto ll = std::find_if(plan->begin(), plan->end(),
                         [](auto& a) { return a.local.ip.with_scope(0) == ip("fe80::5"); });
  ASSERT_NE(ll, plan->end());
  EXPECT_EQ(ll->local.ip.scope_id(), 3u);
  // What the plan produces passes listen_specific's own check.
  EXPECT_FALSE(check_listen_specific(*plan));
}

TEST(ListenPlan, AnyFamilyOnADualStackTargetIsOneV4AndTwoV6Addresses) {
  auto plan = plan_listen_all({dual_stack()}, {8000}, {tcp, udp}, family_choice::any, true);
  ASSERT_OK(plan);
  // 1 target x 1 port x 2 protocols x (1 IPv4 + 2 IPv6)
  EXPECT_EQ(texts(*plan),
            sorted({"TCP 192.168.1.5:8000", "UDP 192.168.1.5:8000", "TCP [2001:4860::5]:8000",
                    "UDP [2001:4860::5]:8000", "TCP [fe80::5%3]:8000", "UDP [fe80::5%3]:8000"}));
}

TEST(ListenPlan, CountIsTargetsTimesPortsTimesProtocolsTimesAddresses) {
  // ports: 1 single + a range of 3 = 4; protocols: 2;
  // dual_stack: 3 addresses (v4, v6 global, v6 link-local); v6_only: 2.
  auto plan = plan_listen_all({dual_stack(), v6_only()}, {9000, {7000, 7002}}, {tcp, udp},
                              family_choice::any, false);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->size(), (3u + 2u) * 4u * 2u);
  EXPECT_FALSE(check_listen_specific(*plan)); // no duplicates
}

TEST(ListenPlan, UsesTheFirstNicAddressOfAFamilyOnly) {
  auto two = nic("eth0", 3, {addr("192.168.1.5", 24), addr("192.168.1.6", 24)});
  auto plan = plan_listen_all({two}, {8000}, {tcp}, family_choice::v4, true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), std::vector<std::string>{"TCP 192.168.1.5:8000"});
}

TEST(ListenPlan, Ipv6InterfaceWithOnlyALinkLocalListensThere) {
  auto ll_only = nic("eth3", 6, {addr("fe80::9", 64)});
  auto plan = plan_listen_all({ll_only}, {8000}, {udp}, family_choice::v6, true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), std::vector<std::string>{"UDP [fe80::9%6]:8000"});
}

TEST(ListenPlan, Ipv6WithoutALinkLocalIsNotDoubled) {
  auto global_only = nic("eth3", 6, {addr("2001:4860::9", 64)});
  auto plan = plan_listen_all({global_only}, {8000}, {udp}, family_choice::v6, true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), std::vector<std::string>{"UDP [2001:4860::9]:8000"});
}

TEST(ListenPlan, TentativeAddressesAreNotPlanned) {
  auto i = dual_stack();
  i.addrs[1].tentative = true; // 2001:4860::5 still in duplicate address detection
  auto plan = plan_listen_all({i}, {8000}, {tcp}, family_choice::v6, true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), std::vector<std::string>{"TCP [fe80::5%3]:8000"});
}

TEST(ListenPlan, RouteTargetBindsItsNicAddress) {
  auto plan = plan_listen_all({v4_route("10.0.0.7")}, {{8000, 8001}}, {tcp}, family_choice::any,
                              true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), sorted({"TCP 10.0.0.7:8000", "TCP 10.0.0.7:8001"}));
}

// --- port ranges ------------------------------------------------------------------------------

TEST(ListenPlan, RangeIsInclusiveOfBothEnds) {
  auto plan = plan_listen_all({v4_only()}, {{6000, 6003}}, {tcp}, family_choice::v4, true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), sorted({"TCP 10.0.0.7:6000", "TCP 10.0.0.7:6001", "TCP 10.0.0.7:6002",
                                  "TCP 10.0.0.7:6003"}));
}

TEST(ListenPlan, RangeOfOnePortIsThatPort) {
  auto plan = plan_listen_all({v4_only()}, {{6000, 6000}}, {tcp}, family_choice::v4, true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), std::vector<std::string>{"TCP 10.0.0.7:6000"});
}

TEST(ListenPlan, RangeUpToPort65535EndsThere) {
  // The loop counter must not wrap at 65535 (a uint16_t one would run forever).
  auto plan = plan_listen_all({v4_only()}, {{65534, 65535}}, {udp}, family_choice::v4, true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), sorted({"UDP 10.0.0.7:65534", "UDP 10.0.0.7:65535"}));
}

TEST(ListenPlan, SinglePortsAndRangesCombine) {
  auto plan = plan_listen_all({v4_only()}, {80, {8000, 8002}, 443}, {tcp}, family_choice::v4,
                              true);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->size(), 5u);
}

TEST(ListenPlan, RangeStartingAfterItStopsIsRejected) {
  auto plan = plan_listen_all({v4_only()}, {{9000, 8000}}, {tcp}, family_choice::v4, false);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::invalid_argument);
  EXPECT_NE(plan.error().what.find("[9000, 8000]"), std::string::npos) << plan.error().what;
}

TEST(ListenPlan, BadRangeAmongGoodPortsRejectsTheWholePlan) {
  auto plan = plan_listen_all({v4_only()}, {80, {9000, 8000}}, {tcp}, family_choice::v4, false);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::invalid_argument);
}

TEST(ListenPlan, PortZeroIsRejected) {
  auto plan = plan_listen_all({v4_only()}, {0}, {tcp}, family_choice::v4, false);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::invalid_argument);
  EXPECT_NE(plan.error().what.find("1..65535"), std::string::npos) << plan.error().what;
}

TEST(ListenPlan, RangeStartingAtPortZeroIsRejected) {
  auto plan = plan_listen_all({v4_only()}, {{0, 10}}, {tcp}, family_choice::v4, false);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::invalid_argument);
}

TEST(ListenPlan, EmptyTargetsPortsOrProtocolsAreRejected) {
  EXPECT_EQ(plan_listen_all({}, {80}, {tcp}, family_choice::any, false).error().code,
            errc::invalid_argument);
  EXPECT_EQ(plan_listen_all({v4_only()}, {}, {tcp}, family_choice::any, false).error().code,
            errc::invalid_argument);
  EXPECT_EQ(plan_listen_all({v4_only()}, {80}, {}, family_choice::any, false).error().code,
            errc::invalid_argument);
}

// --- families a target lacks ------------------------------------------------------------------

TEST(ListenPlan, MissingFamilyWithErrorOnAfIsFamilyUnsupported) {
  auto plan = plan_listen_all({v4_only()}, {8000}, {tcp}, family_choice::v6, true);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::family_unsupported);
  EXPECT_NE(plan.error().what.find("eth1"), std::string::npos) << plan.error().what;
}

TEST(ListenPlan, MissingFamilyWithErrorOnAfFailsEvenIfAnotherTargetHasIt) {
  auto plan = plan_listen_all({dual_stack(), v4_only()}, {8000}, {tcp}, family_choice::v6, true);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::family_unsupported);
  EXPECT_NE(plan.error().what.find("eth1"), std::string::npos) << plan.error().what;
}

TEST(ListenPlan, MissingFamilyWithoutErrorOnAfSkipsThatTarget) {
  auto plan = plan_listen_all({v4_only(), dual_stack()}, {8000}, {tcp}, family_choice::v6, false);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), sorted({"TCP [2001:4860::5]:8000", "TCP [fe80::5%3]:8000"}));
}

TEST(ListenPlan, MissingFamilyWithoutErrorOnAfAndNothingElseLeftIsAnError) {
  // Skipping the only target leaves nothing to listen on: that is an error,
  // not an empty daemon.
  auto plan = plan_listen_all({v4_only()}, {8000}, {tcp}, family_choice::v6, false);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::family_unsupported);
  EXPECT_NE(plan.error().what.find("eth1"), std::string::npos) << plan.error().what;
}

TEST(ListenPlan, NoTargetWithTheFamilyNamesThemAll) {
  auto plan = plan_listen_all({v4_only(), v4_route("10.0.0.8")}, {8000}, {tcp}, family_choice::v6,
                              false);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::family_unsupported);
  EXPECT_NE(plan.error().what.find("interface 'eth1'"), std::string::npos) << plan.error().what;
  EXPECT_NE(plan.error().what.find("route on 'eth1'"), std::string::npos) << plan.error().what;
}

TEST(ListenPlan, AnyFamilySkipsAFamilyTheTargetLacks) {
  auto plan = plan_listen_all({v4_only()}, {8000}, {tcp, udp}, family_choice::any, false);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan), sorted({"TCP 10.0.0.7:8000", "UDP 10.0.0.7:8000"}));
}

TEST(ListenPlan, AnyFamilySkipsAMissingFamilyEvenWithErrorOnAf) {
  // "any" asks for every family the target has, so none is missing.
  auto plan = plan_listen_all({v4_only(), v6_only()}, {8000}, {tcp}, family_choice::any, true);
  ASSERT_OK(plan);
  EXPECT_EQ(texts(*plan),
            sorted({"TCP 10.0.0.7:8000", "TCP [2001:4860::7]:8000", "TCP [fe80::7%5]:8000"}));
}

TEST(ListenPlan, RouteOfTheOtherFamilyIsMissingThatFamily) {
  auto plan = plan_listen_all({v4_route("10.0.0.7")}, {8000}, {tcp}, family_choice::v6, true);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::family_unsupported);
}

TEST(ListenPlan, TargetWithoutAnyAddressIsFamilyUnsupported) {
  auto plan = plan_listen_all({nic("eth9", 9, {})}, {8000}, {tcp}, family_choice::any, false);
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::family_unsupported);
  EXPECT_NE(plan.error().what.find("eth9"), std::string::npos) << plan.error().what;
}

// --- duplicates -------------------------------------------------------------------------------

TEST(ListenPlan, OverlappingPortsPlanDuplicatesThatListenSpecificRejects) {
  // The plan is a plain expansion; the daemon checks it with
  // check_listen_specific, which names the listener asked for twice.
  auto plan = plan_listen_all({v4_only()}, {8001, {8000, 8002}}, {tcp}, family_choice::v4, true);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->size(), 4u);
  auto err = check_listen_specific(*plan);
  EXPECT_EQ(err.code, errc::invalid_argument);
  EXPECT_NE(err.what.find("TCP 10.0.0.7:8001"), std::string::npos) << err.what;
}

TEST(ListenPlan, SameTargetTwicePlansDuplicatesThatListenSpecificRejects) {
  auto plan = plan_listen_all({v4_only(), v4_only()}, {8000}, {tcp}, family_choice::v4, true);
  ASSERT_OK(plan);
  EXPECT_EQ(check_listen_specific(*plan).code, errc::invalid_argument);
}

// --- check_listen_specific --------------------------------------------------------------------

TEST(ListenSpecific, DistinctBoundAddressesPass) {
  EXPECT_FALSE(check_listen_specific({la(tcp, "127.0.0.1:8000"), la(udp, "127.0.0.1:8000"),
                                      la(tcp, "[::1]:8000"), la(tcp, "0.0.0.0:8001"),
                                      la(tcp, "[fe80::1%2]:8000")}));
}

TEST(ListenSpecific, EmptyListIsRejected) {
  EXPECT_EQ(check_listen_specific({}).code, errc::invalid_argument);
}

TEST(ListenSpecific, DuplicateIsRejected) {
  auto err = check_listen_specific({la(udp, "127.0.0.1:8000"), la(tcp, "127.0.0.1:9000"),
                                    la(udp, "127.0.0.1:8000")});
  EXPECT_EQ(err.code, errc::invalid_argument);
  EXPECT_NE(err.what.find("UDP 127.0.0.1:8000"), std::string::npos) << err.what;
}

TEST(ListenSpecific, PortZeroMayRepeatEachTakesAFreePort) {
  EXPECT_FALSE(check_listen_specific({la(tcp, "127.0.0.1:0"), la(tcp, "127.0.0.1:0")}));
}

TEST(ListenSpecific, SamePortOnAnotherAddressOrProtocolIsNoDuplicate) {
  EXPECT_FALSE(check_listen_specific({la(tcp, "127.0.0.1:8000"), la(tcp, "127.0.0.2:8000"),
                                      la(udp, "127.0.0.1:8000")}));
}

TEST(ListenSpecific, LinkLocalWithoutScopeIsRejected) {
  auto err = check_listen_specific({la(tcp, "[fe80::1]:8000")});
  EXPECT_EQ(err.code, errc::invalid_argument);
  EXPECT_NE(err.what.find("scope"), std::string::npos) << err.what;
}

TEST(ListenSpecific, LinkLocalWithPortZeroAndNoScopeIsRejectedToo) {
  EXPECT_EQ(check_listen_specific({la(udp, "127.0.0.1:0"), la(udp, "[fe80::1]:0")}).code,
            errc::invalid_argument);
}

TEST(ListenSpecific, SameLinkLocalOnTwoInterfacesIsNoDuplicate) {
  EXPECT_FALSE(check_listen_specific({la(tcp, "[fe80::1%2]:8000"), la(tcp, "[fe80::1%3]:8000")}));
}
