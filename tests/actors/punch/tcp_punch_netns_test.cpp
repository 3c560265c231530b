// TCP punches between two hosts behind NAT routers, in network namespaces
// of the test's own: each host is a runtime whose threads (so whose
// sockets) live in the host's namespace, each router masquerades (keeping
// ports) with stateful filtering, and between the routers is the test's
// own namespace. An unsolicited SYN is dropped, as home routers do, or
// answered with RST by a router that says so; the punch connects only when
// both sides run.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "support/expect.hpp"
#include "support/netns.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

#include "actors/punch/tcp_punch_probe.hpp"
#include "node/node_fixture.hpp" // open_fds(), eventually()

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

// The network of a lab: host A (10.1.0.2) behind router A (public
// 192.0.2.2), host B (10.2.0.2) behind router B (198.51.100.2).
const endpoint a_local = ep("10.1.0.2:40001");
const endpoint b_local = ep("10.2.0.2:40002");
const endpoint a_public = ep("192.0.2.2:40001");    // what B aims at
const endpoint b_public = ep("198.51.100.2:40002"); // what A aims at

// How a router treats what comes from its WAN side, and how it maps ports.
struct router_kind {
  /// An unsolicited packet gets an RST (true) or nothing (false, as home
  /// routers do).
  bool rst = false;
  /// The NAT rule: plain masquerade keeps the source port when it is free;
  /// "meta l4proto tcp masquerade to :45000" maps every TCP connection to
  /// that port instead.
  std::string nat = "masquerade";
};

// A router's rules: NAT out of the WAN port, forward only what the LAN
// began, and to an unsolicited packet on the WAN side, nothing or an RST.
std::string router_rules(const std::string& wan, const std::string& lan, const router_kind& k) {
  bool rst = k.rst;
  std::string q = "\"";
  return "nft -f - <<'EOF'\n"
         "table inet filter {\n"
         "  chain input { type filter hook input priority 0; policy accept;\n"
         "    iifname " + q + wan + q + " ct state established,related accept\n"
         + (rst ? "    iifname " + q + wan + q + " meta l4proto tcp reject with tcp reset\n" : "")
         + "    iifname " + q + wan + q + " drop\n"
         "  }\n"
         "  chain forward { type filter hook forward priority 0; policy drop;\n"
         "    ct state established,related accept\n"
         "    iifname " + q + lan + q + " oifname " + q + wan + q + " accept\n"
         "  }\n"
         "}\n"
         "table ip nat {\n"
         "  chain postrouting { type nat hook postrouting priority 100; policy accept;\n"
         "    oifname " + q + wan + q + " " + k.nat + "\n"
         "  }\n"
         "}\n"
         "EOF";
}

// Network namespaces of this process, each held by a descriptor. A thread
// enters one with setns(); a runtime made there keeps its threads there.
class nat_lab {
  // Runs `f` on this thread inside `ns`.
  template <class F>
  auto in(int ns, F f) {
    ::setns(ns, CLONE_NEWNET);
    auto result = f();
    ::setns(home_, CLONE_NEWNET);
    return result;
  }

public:
  ~nat_lab() {
    for (int fd : {ra_, rb_, ha_, hb_, home_})
      if (fd >= 0)
        ::close(fd);
  }

  /// Builds the lab around the calling thread's namespace; "" or why not.
  std::string build(const router_kind& b_router) {
    home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    for (int* fd : {&ra_, &rb_, &ha_, &hb_}) {
      if (::unshare(CLONE_NEWNET) != 0)
        return "unshare failed";
      *fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      if (*fd < 0 || ::setns(home_, CLONE_NEWNET) != 0)
        return "cannot hold or leave a new namespace";
    }
    auto to = [](int fd) { return " netns /proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd); };
    std::string wan = "ip link set lo up"
                      " && ip link add wa type veth peer name ra-wan"
                      " && ip link add wb type veth peer name rb-wan"
                      " && ip link add ra-lan type veth peer name ha-eth"
                      " && ip link add rb-lan type veth peer name hb-eth"
                      " && ip link set ra-wan" + to(ra_) + " && ip link set ra-lan" + to(ra_)
                      + " && ip link set rb-wan" + to(rb_) + " && ip link set rb-lan" + to(rb_)
                      + " && ip link set ha-eth" + to(ha_) + " && ip link set hb-eth" + to(hb_)
                      + " && ip addr add 192.0.2.1/24 dev wa && ip link set wa up"
                        " && ip addr add 198.51.100.1/24 dev wb && ip link set wb up"
                        " && sysctl -qw net.ipv4.ip_forward=1";
    auto router = [](const std::string& n, const std::string& wan_ip, const std::string& gw,
                     const std::string& lan_ip, const router_kind& k) {
      return "ip link set lo up && ip addr add " + wan_ip + "/24 dev " + n + "-wan && ip link set "
             + n + "-wan up && ip addr add " + lan_ip + "/24 dev " + n + "-lan && ip link set "
             + n + "-lan up && ip route add default via " + gw
             + " && sysctl -qw net.ipv4.ip_forward=1 && " + router_rules(n + "-wan", n + "-lan", k);
    };
    auto host = [](const std::string& nic, const std::string& ip, const std::string& gw) {
      return "ip link set lo up && ip addr add " + ip + "/24 dev " + nic + " && ip link set " + nic
             + " up && ip route add default via " + gw;
    };
    for (auto& step : {std::make_pair(home_, wan),
                       std::make_pair(ra_, router("ra", "192.0.2.2", "192.0.2.1", "10.1.0.1", {})),
                       std::make_pair(rb_, router("rb", "198.51.100.2", "198.51.100.1", "10.2.0.1",
                                                  b_router)),
                       std::make_pair(ha_, host("ha-eth", "10.1.0.2", "10.1.0.1")),
                       std::make_pair(hb_, host("hb-eth", "10.2.0.2", "10.2.0.1"))})
      if (auto err = in(step.first, [&] { return sh(step.second); }); !err.empty())
        return err;
    return {};
  }

  /// A runtime of host A's (or B's) namespace.
  std::unique_ptr<runtime> host_a() { return in(ha_, [] { return std::make_unique<runtime>(); }); }
  std::unique_ptr<runtime> host_b() { return in(hb_, [] { return std::make_unique<runtime>(); }); }

private:
  int home_ = -1;
  int ra_ = -1;
  int rb_ = -1;
  int ha_ = -1;
  int hb_ = -1;
};

std::shared_ptr<net::tls_context> ctx(const net::identity& me, const net::identity& peer) {
  auto c = net::tls_context::make_node(me, tcp_punch_role(me.id(), peer.id()) == tls_role::server);
  return c ? *c : nullptr;
}

tcp_punch_spec spec_for(const net::identity& me, const net::identity& peer, endpoint local,
                        endpoint remote) {
  tcp_punch_spec s;
  s.local = local;
  s.remotes = {remote};
  s.tls = ctx(me, peer);
  s.expect_node = peer.id();
  s.interval = 100ms;
  s.window = 5s;
  return s;
}

// Runs `body(checks, host A's runtime, host B's)` in a lab of its own.
template <class Body>
netns_outcome in_lab(const router_kind& b_router, Body body) {
  return run_in_new_netns([&]() -> std::string {
    nat_lab lab;
    if (auto err = lab.build(b_router); !err.empty())
      return err;
    child_checks c;
    auto rta = lab.host_a();
    auto rtb = lab.host_b();
    // What the process opens once (a listener's spare descriptor) before
    // the descriptors are counted.
    auto l = rta->listen(tcp, any_port("10.1.0.2"));
    if (!NETNS_EXPECT(c, static_cast<bool>(l)))
      return c.failures();
    auto at = l->local();
    l->close();
    NETNS_EXPECT(c, eventually([&] { return !socket_bound_to(at); }));
    body(c, *rta, *rtb);
    return c.failures();
  });
}

// Alice punches at once, bob `b_later`; both keep the first connection up.
// Checks what every successful punch must give (the peers' public
// endpoints, their node ids, a message each way, nothing open but the two
// ends of the connection, then nothing), and hands both kept events to
// `more` for the rest.
template <class More>
void punch_both(child_checks& c, runtime& rta, runtime& rtb, caf::timespan b_later, More more) {
  auto alice = make_identity();
  auto bob = make_identity();
  auto base = open_fds();
  caf::scoped_actor oa{rta.system()};
  caf::scoped_actor ob{rtb.system()};
  auto sa = spec_for(alice, bob, a_local, b_public);
  auto sb = spec_for(bob, alice, b_local, a_public);
  sb.start = rtb.system().clock().now() + b_later;
  auto a = rta.system().spawn(punch_probe, as_actor(oa), sa, keep_rule::first_up);
  auto b = rtb.system().spawn(punch_probe, as_actor(ob), sb, keep_rule::first_up);
  auto ka = next_event(oa, "kept");
  auto kb = next_event(ob, "kept");
  if (NETNS_EXPECT(c, ka && kb)) {
    NETNS_EXPECT_EQ(c, render(ka->err), std::string{"none"});
    NETNS_EXPECT_EQ(c, render(kb->err), std::string{"none"});
    NETNS_EXPECT_EQ(c, ka->conn.remote, b_public);
    NETNS_EXPECT_EQ(c, kb->conn.remote, a_public);
    NETNS_EXPECT_EQ(c, ka->conn.peer_node, bob.id().to_string());
    NETNS_EXPECT_EQ(c, kb->conn.peer_node, alice.id().to_string());
    more(*ka, *kb);
    oa->send(a, say_atom::value, std::string{"through two NATs"});
    auto mb = next_event(ob, "msg");
    NETNS_EXPECT(c, mb && mb->data == "through two NATs");
    ob->send(b, say_atom::value, std::string{"and back"});
    auto ma = next_event(oa, "msg");
    NETNS_EXPECT(c, ma && ma->data == "and back");
    NETNS_EXPECT(c, eventually([&] { return open_fds() == base + 2; }));
  }
  oa->send_exit(a, caf::exit_reason::user_shutdown);
  ob->send_exit(b, caf::exit_reason::user_shutdown);
  NETNS_EXPECT(c, eventually([&] { return open_fds() <= base; }));
}

} // namespace

TEST(TcpPunchNetns, BothBehindDroppingNatsConnectBySimultaneousOpen) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_lab({}, [](child_checks& c, runtime& rta, runtime& rtb) {
    // Alice's first SYN is dropped by bob's router; bob's, later, meets
    // alice's mapping and her socket still waiting in SYN_SENT.
    punch_both(c, rta, rtb, 300ms, [&](const probe_event& ka, const probe_event& kb) {
      // Both connected, neither accepted: a simultaneous open through both NATs.
      NETNS_EXPECT(c, !ka.conn.accepted && !kb.conn.accepted);
      // One connect each, never refused: the first SYN's attempt waited.
      NETNS_EXPECT_EQ(c, ka.stats.attempts, 1u);
      NETNS_EXPECT_EQ(c, kb.stats.attempts, 1u);
    });
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(TcpPunchNetns, APeerThatNeverStartsLeavesTheConnectUnansweredUntilTheWindowEnds) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_lab({}, [](child_checks& c, runtime& rta, runtime&) {
    auto alice = make_identity();
    auto bob = make_identity();
    auto base = open_fds();
    caf::scoped_actor oa{rta.system()};
    auto sa = spec_for(alice, bob, a_local, b_public);
    sa.window = 1500ms;
    auto a = rta.system().spawn(punch_probe, as_actor(oa), sa, keep_rule::first_up);
    auto f = next_event(oa, "failed");
    if (!NETNS_EXPECT(c, f.has_value()))
      return;
    NETNS_EXPECT_EQ(c, std::string{net::to_string(code_of(f->err))}, std::string{"connect_timeout"});
    NETNS_EXPECT(c, render(f->err).find("timed out") != std::string::npos);
    NETNS_EXPECT_EQ(c, f->stats.attempts, 1u);
    NETNS_EXPECT_EQ(c, f->stats.timed_out, 1u);
    NETNS_EXPECT_EQ(c, f->stats.refused, 0u);
    NETNS_EXPECT(c, eventually([&] { return open_fds() <= base; }));
    oa->send_exit(a, caf::exit_reason::user_shutdown);
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(TcpPunchNetns, SynsRefusedByARouterAreSentAgainUntilThePeerRuns) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_lab({true}, [](child_checks& c, runtime& rta, runtime& rtb) {
    // Bob's router answers alice's SYNs with RST until bob's own SYN has
    // made a mapping there, a few rounds later.
    punch_both(c, rta, rtb, 350ms, [&](const probe_event& ka, const probe_event&) {
      NETNS_EXPECT(c, ka.stats.refused >= 2);
      NETNS_EXPECT_EQ(c, ka.stats.attempts, ka.stats.refused + 1);
    });
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(TcpPunchNetns, APeerWhoseNatMovesItsPortIsNotReachedAndBothSidesSayWhy) {
  P2PD_SKIP_UNLESS_NETNS();
  // Bob's router maps him to port 45000, not the 40002 alice aims at: her
  // SYNs find no mapping there, and his come from a port her mapping does
  // not expect. Both give up at the window's end, with nothing left open.
  auto out = in_lab({false, "meta l4proto tcp masquerade to :45000"}, [](child_checks& c, runtime& rta,
                                                         runtime& rtb) {
    auto alice = make_identity();
    auto bob = make_identity();
    auto base = open_fds();
    caf::scoped_actor oa{rta.system()};
    caf::scoped_actor ob{rtb.system()};
    auto sa = spec_for(alice, bob, a_local, b_public);
    auto sb = spec_for(bob, alice, b_local, a_public);
    sa.window = sb.window = 1500ms;
    auto a = rta.system().spawn(punch_probe, as_actor(oa), sa, keep_rule::first_up);
    auto b = rtb.system().spawn(punch_probe, as_actor(ob), sb, keep_rule::first_up);
    for (auto* o : {&oa, &ob}) {
      auto f = next_event(*o, "failed");
      if (!NETNS_EXPECT(c, f.has_value()))
        continue;
      NETNS_EXPECT_EQ(c, std::string{net::to_string(code_of(f->err))},
                      std::string{"connect_timeout"});
      NETNS_EXPECT_EQ(c, f->stats.connected, 0u);
      NETNS_EXPECT_EQ(c, f->stats.timed_out, 1u);
    }
    NETNS_EXPECT(c, eventually([&] { return open_fds() <= base; }));
    oa->send_exit(a, caf::exit_reason::user_shutdown);
    ob->send_exit(b, caf::exit_reason::user_shutdown);
  });
  EXPECT_TRUE(out.ok) << out.report;
}
