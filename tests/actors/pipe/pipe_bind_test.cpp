// Pipes bound to routes and interfaces of a network namespace of the test's
// own, and the one-event-loop property (no thread per socket).
#include <dirent.h>

#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/values.hpp"

#include "support/netns.hpp"
#include "p2pd/net/iface/interfaces.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

size_t thread_count() {
  size_t n = 0;
  if (auto* dir = ::opendir("/proc/self/task")) {
    while (auto* e = ::readdir(dir))
      if (e->d_name[0] != '.')
        ++n;
    ::closedir(dir);
  }
  return n;
}

// Opens a UDP server and a TCP server on `local` and echoes over each.
std::string echo_on(runtime& rt, const endpoint& local) {
  for (auto proto : {udp, tcp}) {
    auto server = rt.listen(proto, local, echo_handler());
    if (!server)
      return "listen on " + local.to_string() + ": " + render(server.error());
    auto client = rt.connect(proto, server->local());
    if (!client)
      return "connect to " + server->local().to_string() + ": " + render(client.error());
    if (auto err = client->send("over " + server->local().to_string()))
      return render(err);
    auto got = client->recv();
    if (!got)
      return "echo over " + server->local().to_string() + ": " + render(got.error());
  }
  return {};
}

} // namespace

TEST(PipeBind, BindsTheNicAddressOfARoute) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = run_in_new_netns([]() -> std::string {
    if (auto err = sh("ip link set lo up && " + add_nic_cmd("eth0") + " && ip addr add 10.7.0.2/24 dev eth0");
        !err.empty())
      return err;
    auto table = net::list_interfaces();
    if (!table)
      return table.error().what;
    auto nic = net::find_interface(*table, "eth0");
    if (!nic)
      return nic.error().what;
    auto routes = net::routes_for(*nic, net::family::v4);
    if (routes.empty())
      return "no IPv4 route on eth0";
    runtime rt;
    auto spec = server_spec(udp, {}, echo_handler());
    spec.local.reset();
    spec.route = routes.front();
    auto server = rt.open(spec);
    if (!server)
      return render(server.error());
    if (server->local().ip.to_string() != "10.7.0.2")
      return "bound " + server->local().to_string() + ", not 10.7.0.2";
    return echo_on(rt, endpoint{server->local().ip, 0});
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(PipeBind, BindsALinkLocalAddressWithItsScope) {
  P2PD_SKIP_UNLESS_NETNS();
  P2PD_SKIP_UNLESS_IPV6();
  auto out = run_in_new_netns([]() -> std::string {
    if (auto err = sh("ip link set lo up && " + add_nic_cmd("eth0")
                      + " && ip -6 addr add fe80::1234/64 dev eth0 nodad"
                      + " && ip -6 addr add 2001:db8:7::2/64 dev eth0 nodad");
        !err.empty())
      return err;
    // nodad makes the addresses usable at once, but their local routes come
    // later (a kernel work queue): until then the echo's datagram to them
    // leaves through eth0 and is lost.
    if (auto err = await_local_addresses({"fe80::1234", "2001:db8:7::2"}); !err.empty())
      return err;
    auto table = net::list_interfaces();
    if (!table)
      return table.error().what;
    auto nic = net::find_interface(*table, "eth0");
    if (!nic)
      return nic.error().what;
    auto routes = net::routes_for(*nic, net::family::v6);
    if (routes.empty())
      return "no IPv6 route on eth0";
    runtime rt;
    auto spec = server_spec(udp, {}, echo_handler());
    spec.local.reset();
    spec.route = routes.front();
    spec.bind = net::bind_spec{net::bind_spec::link_local, net::family::v6, {}, 0};
    auto server = rt.open(spec);
    if (!server)
      return render(server.error());
    auto ip = server->local().ip;
    if (ip.scope_id() != nic->index || ip.with_scope(0).to_string() != "fe80::1234")
      return "bound " + server->local().to_string() + ", not fe80::1234%"
             + std::to_string(nic->index);
    if (auto err = echo_on(rt, endpoint{ip, 0}); !err.empty())
      return "link-local: " + err;
    return echo_on(rt, *endpoint::parse("[2001:db8:7::2]:0"));
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(PipeBind, RouteWithoutTheAskedFamilyFailsClearly) {
  runtime rt;
  net::route r;
  r.interface = "eth9";
  r.fam = net::family::v6;
  auto spec = server_spec(udp, {});
  spec.local.reset();
  spec.route = r;
  auto p = rt.open(spec);
  ASSERT_FALSE(p);
  EXPECT_ERRC(p, errc::family_unsupported);
}

TEST(PipeBind, ManySocketsShareOneEventLoop) {
  runtime rt;
  auto server = rt.listen(tcp, any_port("127.0.0.1"), echo_handler());
  ASSERT_OK(server);
  auto before = thread_count();
  std::vector<p2pd::pipe_handle> pipes;
  for (int i = 0; i < 100; ++i) {
    auto u = rt.listen(udp, any_port(i % 2 == 0 ? "127.0.0.1" : "::1"));
    ASSERT_OK(u);
    pipes.push_back(*u);
    auto c = rt.connect(tcp, server->local());
    ASSERT_OK(c);
    pipes.push_back(*c);
  }
  EXPECT_EQ(thread_count(), before);
  for (auto& p : pipes)
    if (p.info().proto == tcp)
      EXPECT_OK(p.send("x"));
  for (auto& p : pipes)
    if (p.info().proto == tcp)
      ASSERT_OK(p.recv());
  EXPECT_EQ(thread_count(), before);
}
