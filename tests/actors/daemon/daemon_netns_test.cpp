// Daemons listening on a real interface, in a network namespace of the
// test's own: a veth "eth0" with IPv4, a global IPv6 and a link-local
// address, and a v4-only "eth1".
#include <set>

#include "actors/daemon/daemon_test_util.hpp"

#include "support/netns.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

// lo up; eth0 with 10.9.0.2/24, 2001:db8:9::2/64 and fe80::99/64 (no
// autoconfigured link-local beside it: addrgenmode none); eth1 with
// 10.9.1.2/24 and no IPv6 at all.
const std::string setup =
  "ip link set lo up"
  " && ip link add eth0 type veth peer name veth-eth0 && ip link set eth0 addrgenmode none"
  " && ip link set veth-eth0 up && ip link set eth0 up"
  " && ip addr add 10.9.0.2/24 dev eth0"
  " && ip -6 addr add 2001:db8:9::2/64 dev eth0 nodad"
  " && ip -6 addr add fe80::99/64 dev eth0 nodad"
  " && ip link add eth1 type veth peer name veth-eth1 && ip link set eth1 addrgenmode none"
  " && ip link set veth-eth1 up && ip link set eth1 up"
  " && ip addr add 10.9.1.2/24 dev eth1";

// Runs `body(checks, nic)` in a fresh namespace set up as above, with the
// interface `name` as the kernel reports it there.
template <class Body>
netns_outcome with_nic(const std::string& name, Body body) {
  return run_in_new_netns([&]() -> std::string {
    if (auto err = sh(setup); !err.empty())
      return err;
    // The IPv6 local routes come after the addresses (see await_local_addresses).
    if (auto err = await_local_addresses({"2001:db8:9::2", "fe80::99"}); !err.empty())
      return err;
    auto table = net::list_interfaces();
    if (!table)
      return "list_interfaces: " + net::to_string(table.error());
    auto nic = net::find_interface(*table, name);
    if (!nic)
      return "find_interface: " + net::to_string(nic.error());
    child_checks checks;
    body(checks, *nic);
    return checks.failures();
  });
}

// Like with_nic, with an echo daemon started there (its port locks in a
// temporary directory): `body(checks, nic, rt, daemon)`.
template <class Body>
netns_outcome with_daemon_on(const std::string& name, Body body) {
  return with_nic(name, [&](child_checks& c, const net::interface_info& nic) {
    temp_dir dir;
    runtime rt;
    auto d = rt.start_daemon(daemon_in(dir));
    if (!NETNS_EXPECT(c, static_cast<bool>(d)))
      return;
    body(c, nic, rt, *d);
  });
}

std::string texts(const std::vector<listener_info>& ls) {
  std::multiset<std::string> sorted;
  for (auto& l : ls)
    sorted.insert(std::string{net::to_string(l.proto)} + " " + l.local.to_string());
  std::string out;
  for (auto& s : sorted)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Echoes once over every listener; "" or what failed.
std::string echo_all(runtime& rt, const std::vector<listener_info>& ls) {
  std::string failures;
  for (auto& l : ls) {
    auto text = "over " + l.local.to_string();
    auto got = echo_once(rt, l.proto, l.local, text);
    if (!got)
      failures += std::string{net::to_string(l.proto)} + " " + l.local.to_string() + ": "
                  + render(got.error()) + "\n";
    else if (to_string(got->data) != text)
      failures += l.local.to_string() + ": echoed '" + to_string(got->data) + "'\n";
  }
  return failures;
}

} // namespace

TEST(DaemonNetns, ListenAllOnAnInterfaceWithAnyFamilyOpensSixEchoingListeners) {
  P2PD_SKIP_UNLESS_NETNS();
  P2PD_SKIP_UNLESS_IPV6();
  auto out = with_daemon_on("eth0", [](child_checks& c, const net::interface_info& nic,
                                      runtime& rt, daemon_handle& d) {
    auto ls = d.listen_all({nic}, {7000}, {tcp, udp}, net::family_choice::any, true);
    if (!NETNS_EXPECT_EQ(c, render(ls ? caf::error{} : ls.error()), std::string{"none"}))
      return;
    // 2 protocols x (IPv4 + IPv6 global + IPv6 link-local)
    auto ll = "[fe80::99%" + std::to_string(nic.index) + "]:7000";
    NETNS_EXPECT_EQ(c, texts(*ls),
                    "TCP 10.9.0.2:7000, TCP [2001:db8:9::2]:7000, TCP " + ll
                      + ", UDP 10.9.0.2:7000, UDP [2001:db8:9::2]:7000, UDP " + ll);
    // Link-local clients connect to the address with its scope id.
    NETNS_EXPECT_EQ(c, echo_all(rt, *ls), std::string{});
    NETNS_EXPECT_EQ(c, render(d.close()), std::string{"none"});
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(DaemonNetns, ListenAllOnAnInterfaceWithV6OnlyOpensTheGlobalAndLinkLocalAddresses) {
  P2PD_SKIP_UNLESS_NETNS();
  P2PD_SKIP_UNLESS_IPV6();
  auto out = with_daemon_on("eth0", [](child_checks& c, const net::interface_info& nic,
                                      runtime& rt, daemon_handle& d) {
    auto ls = d.listen_all({nic}, {7000}, {tcp, udp}, net::family_choice::v6, true);
    if (!NETNS_EXPECT_EQ(c, render(ls ? caf::error{} : ls.error()), std::string{"none"}))
      return;
    NETNS_EXPECT_EQ(c, ls->size(), size_t{4});
    auto ll = "[fe80::99%" + std::to_string(nic.index) + "]:7000";
    NETNS_EXPECT_EQ(c, texts(*ls),
                    "TCP [2001:db8:9::2]:7000, TCP " + ll + ", UDP [2001:db8:9::2]:7000, UDP "
                      + ll);
    NETNS_EXPECT_EQ(c, echo_all(rt, *ls), std::string{});
  });
  EXPECT_TRUE(out.ok) << out.report;
}

// error_on_af decides whether a family an interface lacks is an error of its
// own or an interface to pass over. With v6 asked of eth1 (v4 only) and
// nothing else, nothing is left to open either way: family_unsupported,
// naming the interface, and no listener.
class V6OnAV4OnlyInterface : public ::testing::TestWithParam<error_on_af> {};

TEST_P(V6OnAV4OnlyInterface, IsFamilyUnsupportedAndOpensNothing) {
  P2PD_SKIP_UNLESS_NETNS();
  auto param = GetParam();
  auto out = with_daemon_on("eth1", [&](child_checks& c, const net::interface_info& nic, runtime&,
                                        daemon_handle& d) {
    auto ls = d.listen_all({nic}, {7000}, {tcp}, net::family_choice::v6, param.value);
    if (!NETNS_EXPECT(c, !ls))
      return;
    NETNS_EXPECT_EQ(c, std::string{net::to_string(code_of(ls.error()))},
                    std::string{"family_unsupported"});
    NETNS_EXPECT(c, what_of(ls.error()).find("eth1") != std::string::npos);
    auto now = d.listeners();
    NETNS_EXPECT(c, now && now->empty());
  });
  EXPECT_TRUE(out.ok) << out.report;
}

INSTANTIATE_TEST_SUITE_P(DaemonNetns, V6OnAV4OnlyInterface, both_error_on_af());

TEST(DaemonNetns, AnyFamilyOnAV4OnlyInterfaceOpensItsV4Address) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = with_daemon_on("eth1", [](child_checks& c, const net::interface_info& nic,
                                      runtime& rt, daemon_handle& d) {
    auto ls = d.listen_all({nic}, {7000}, {tcp, udp}, net::family_choice::any, true);
    if (!NETNS_EXPECT_EQ(c, render(ls ? caf::error{} : ls.error()), std::string{"none"}))
      return;
    NETNS_EXPECT_EQ(c, texts(*ls), std::string{"TCP 10.9.1.2:7000, UDP 10.9.1.2:7000"});
    NETNS_EXPECT_EQ(c, echo_all(rt, *ls), std::string{});
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(DaemonNetns, InterfaceThatDoesNotExistIsInterfaceNotFound) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = run_in_new_netns([]() -> std::string {
    if (auto err = sh(setup); !err.empty())
      return err;
    // The IPv6 local routes come after the addresses (see await_local_addresses).
    if (auto err = await_local_addresses({"2001:db8:9::2", "fe80::99"}); !err.empty())
      return err;
    auto table = net::list_interfaces();
    if (!table)
      return "list_interfaces: " + net::to_string(table.error());
    auto nic = net::find_interface(*table, "eth7");
    if (nic)
      return "found an interface eth7";
    if (nic.error().code != net::errc::interface_not_found)
      return "expected interface_not_found, got " + net::to_string(nic.error());
    if (nic.error().what.find("eth7") == std::string::npos)
      return "the error does not name eth7: " + nic.error().what;
    return {};
  });
  EXPECT_TRUE(out.ok) << out.report;
}
