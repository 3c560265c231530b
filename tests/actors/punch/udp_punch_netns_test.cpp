// Punches through real NATs: two hosts, each behind a router namespace that
// masquerades (nftables) and drops what its hosts did not ask for, joined
// by a third namespace (the internet). One process: the test makes every
// namespace from its own thread (unshare, setns) and binds each host's
// sockets inside its namespace; the punches adopt them through a test
// stack. Nothing is added to the host's namespace.
//
//   HA 192.168.1.2 -- lan0 RA wan0 10.100.1.2 -- W -- 10.100.2.2 wan0 RB lan0 -- 192.168.2.2 HB
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <regex>

#include "actors/punch/punch_fixture.hpp"
#include "support/netns.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

// The NAT of a router: `cone` keeps a host's port (Linux masquerade keeps
// it when free: endpoint-independent mapping), `random` gives each flow a
// random port of 40000-40999 (endpoint-dependent, port-randomising). Both
// filter by address and port (conntrack: only replies pass), and drop
// unsolicited traffic to the router itself in `input` so that no
// conntrack entry of a dropped probe ever takes a port (netlab pitfall 1).
// The counters count the host's UDP packets out and what was dropped.
std::string router_rules(bool random) {
  std::string masq = random ? "    oifname \"wan0\" meta l4proto udp masquerade to :40000-40999 "
                              "fully-random\n"
                            : "    oifname \"wan0\" masquerade\n";
  return "nft -f - <<'EOF'\n"
         "table ip nat {\n"
         "  chain post {\n"
         "    type nat hook postrouting priority srcnat; policy accept;\n"
         + masq
         + "  }\n"
           "}\n"
           "table inet filter {\n"
           "  chain input {\n"
           "    type filter hook input priority filter; policy accept;\n"
           "    iifname \"wan0\" ct state established,related accept\n"
           "    iifname \"wan0\" counter drop\n"
           "  }\n"
           "  chain forward {\n"
           "    type filter hook forward priority filter; policy drop;\n"
           "    iifname \"lan0\" meta l4proto udp counter\n"
           "    ct state established,related accept\n"
           "    iifname \"lan0\" oifname \"wan0\" accept\n"
           "  }\n"
           "}\n"
           "EOF";
}

// The namespaces of one lab, each held by a descriptor; the calling thread
// stays in `world` between steps.
class nat_lab {
public:
  int world = -1;
  int ra = -1;
  int rb = -1;
  int ha = -1;
  int hb = -1;

  ~nat_lab() {
    for (int fd : {world, ra, rb, ha, hb})
      if (fd >= 0)
        ::close(fd);
  }

  // "" when the lab stands, else what failed.
  std::string build(bool a_random, bool b_random) {
    world = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    for (int* fd : {&ra, &rb, &ha, &hb}) {
      if (::unshare(CLONE_NEWNET) != 0)
        return "unshare failed";
      *fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      ::setns(world, CLONE_NEWNET);
    }
    std::string err = sh("ip link set lo up && echo 1 > /proc/sys/net/ipv4/ip_forward"
                         " && ip link add ra type veth peer name wan0 netns " + path(ra)
                         + " && ip link add rb type veth peer name wan0 netns " + path(rb)
                         + " && ip addr add 10.100.1.1/24 dev ra && ip link set ra up"
                           " && ip addr add 10.100.2.1/24 dev rb && ip link set rb up");
    if (err.empty())
      err = router(ra, ha, "1", a_random);
    if (err.empty())
      err = router(rb, hb, "2", b_random);
    return err;
  }

  // Runs `cmd` in namespace `ns`.
  std::string in(int ns, const std::string& cmd) {
    ::setns(ns, CLONE_NEWNET);
    auto err = sh(cmd);
    ::setns(world, CLONE_NEWNET);
    return err;
  }

  // A UDP socket bound to `local` in namespace `ns`.
  net::unique_fd socket_in(int ns, const endpoint& local) {
    ::setns(ns, CLONE_NEWNET);
    auto fd = raw_udp(local);
    ::setns(world, CLONE_NEWNET);
    return fd;
  }

  // The packet counters of router `ns`: the host's UDP packets out, and
  // unsolicited packets dropped.
  std::pair<uint64_t, uint64_t> counters(int ns) {
    ::setns(ns, CLONE_NEWNET);
    std::string out;
    if (FILE* p = ::popen("nft list table inet filter 2>&1", "r")) {
      char buf[512];
      while (auto n = std::fread(buf, 1, sizeof(buf), p))
        out.append(buf, n);
      ::pclose(p);
    }
    ::setns(world, CLONE_NEWNET);
    std::regex drop{R"(counter packets (\d+) bytes \d+ drop)"};
    std::regex udp{R"(udp counter packets (\d+))"};
    std::smatch m;
    uint64_t sent = 0;
    uint64_t dropped = 0;
    if (std::regex_search(out, m, udp))
      sent = std::stoull(m[1]);
    if (std::regex_search(out, m, drop))
      dropped = std::stoull(m[1]);
    return {sent, dropped};
  }

private:
  static std::string path(int fd) {
    return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd);
  }

  std::string router(int r, int h, const std::string& site, bool random) {
    auto err = in(r, "ip link set lo up && echo 1 > /proc/sys/net/ipv4/ip_forward"
                     " && ip addr add 10.100." + site + ".2/24 dev wan0 && ip link set wan0 up"
                     " && ip route add default via 10.100." + site + ".1"
                     " && ip link add lan0 type veth peer name eth0 netns " + path(h)
                     + " && ip addr add 192.168." + site + ".1/24 dev lan0 && ip link set lan0 up"
                       " && " + router_rules(random));
    if (err.empty())
      err = in(h, "ip link set lo up && ip addr add 192.168." + site + ".2/24 dev eth0"
                  " && ip link set eth0 up && ip route add default via 192.168." + site + ".1");
    return err;
  }
};

const endpoint a_ext = at("10.100.1.2", 40001);
const endpoint b_ext = at("10.100.2.2", 40002);

udp_punch_spec lab_spec(adopting_stack& stack, std::vector<endpoint> local,
                        std::vector<endpoint> targets, const net::session_keys& keys,
                        bool controlling, caf::actor_clock::time_point start) {
  auto s = punch_spec(stack.stack(), std::move(local), std::move(targets), keys, controlling);
  s.start = start;
  return s;
}

// What every test here starts from, in its own namespace: the lab (B's NAT
// port-randomising or not), A's socket on its host, the stack that hands
// sockets to the punches, and both sides' keys.
struct lab_run {
  nat_lab lab;
  child_checks c;
  adopting_stack stack;
  endpoint la;
  punch_keys keys = make_punch_keys();
};

// Runs `body(run)` in a fresh namespace holding a lab; the outcome.
template <class Body>
netns_outcome in_lab(bool b_random, Body body) {
  return run_in_new_netns([&]() -> std::string {
    lab_run run;
    if (auto err = run.lab.build(false, b_random); !err.empty())
      return err;
    run.la = run.stack.add(run.lab.socket_in(run.lab.ha, at("192.168.1.2", 40001)));
    body(run);
    return run.c.failures();
  });
}

} // namespace

TEST(UdpPunchNetns, TwoPortRestrictedConesPunchBecauseBothSidesSend) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_lab(false, [](lab_run& run) {
    auto& [lab, c, stack, la, keys] = run;
    auto lb = stack.add(lab.socket_in(lab.hb, at("192.168.2.2", 40002)));
    {
      runtime rt;
      auto fds = open_fds();
      auto start = rt.system().clock().now() + 200ms;
      // Each aims at the other's router, at the port it keeps.
      punch_side a{rt.system(), lab_spec(stack, {la}, {b_ext}, keys.initiator, true, start)};
      punch_side b{rt.system(), lab_spec(stack, {lb}, {a_ext}, keys.responder, false, start)};
      auto [ia, ib] = open_both(a, b);
      if (!NETNS_EXPECT(c, ia && ib)) {
        auto why = (ia ? std::string{} : render(ia.error())) + " / "
                   + (ib ? std::string{} : render(ib.error()));
        c.expect(false, why.c_str(), __FILE__, __LINE__);
        return;
      }
      // Each sees the other's NAT, not its host.
      NETNS_EXPECT_EQ(c, ia->remote, b_ext);
      NETNS_EXPECT_EQ(c, ib->remote, a_ext);
      NETNS_EXPECT(c, !a.send("through two NATs"));
      auto m = b.next_msg();
      NETNS_EXPECT(c, m && to_string(m->data) == "through two NATs" && m->from == a_ext);
      NETNS_EXPECT(c, !b.send("and back"));
      auto back = a.next_msg();
      NETNS_EXPECT(c, back && to_string(back->data) == "and back");
      NETNS_EXPECT(c, static_cast<bool>(a.ask<caf::ok_atom>(caf::close_atom::value)));
      auto end = b.next_end();
      NETNS_EXPECT(c, end && code_of(end->reason) == errc::pipe_closed);
      NETNS_EXPECT(c, eventually([&] { return open_fds() <= fds - 2; }));
    }
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(UdpPunchNetns, OneSideAloneGetsNothingThroughThePeersNat) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_lab(false, [](lab_run& run) {
    auto& [lab, c, stack, la, keys] = run;
    // B's host has its socket, but B never punches.
    auto silent = lab.socket_in(lab.hb, at("192.168.2.2", 40002));
    {
      runtime rt;
      auto spec = lab_spec(stack, {la}, {b_ext}, keys.initiator, true, {});
      spec.window = 600ms;
      punch_side a{rt.system(), spec};
      a.open();
      auto ia = a.opened();
      NETNS_EXPECT(c, !ia);
      if (ia)
        return;
      NETNS_EXPECT(c, code_of(ia.error()) == errc::punch_failed);
      NETNS_EXPECT(c, what_of(ia.error()).find("no authentic datagram came")
                        != std::string::npos);
    }
    // B's NAT dropped every probe: none reached B's host.
    char buf[2048];
    NETNS_EXPECT(c, ::recv(silent.get(), buf, sizeof(buf), MSG_DONTWAIT) < 0);
    auto [a_out, a_dropped] = lab.counters(lab.ra);
    auto [b_out, b_dropped] = lab.counters(lab.rb);
    NETNS_EXPECT(c, a_out > 0);
    NETNS_EXPECT_EQ(c, b_dropped, a_out);
    NETNS_EXPECT_EQ(c, b_out, uint64_t{0});
  });
  EXPECT_TRUE(out.ok) << out.report;
}

// A host behind a port-randomising NAT (each flow a random port of 1000)
// facing a port-restricted cone: B opens 64 mappings toward A's one
// endpoint, A probes 400 distinct ports of B's router. Each mapping is hit
// with odds 0.4, so all 64 missed with odds 0.6^64 (about 6e-15); the
// search is bounded in sockets and probes whatever the outcome, which is
// what this checks besides the success.
TEST(UdpPunchNetns, ASprayFindsAPortRandomisingNatWithinItsBounds) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_lab(true, [](lab_run& run) {
    auto& [lab, c, stack, la, keys] = run;
    constexpr size_t b_sockets = 64;
    std::vector<endpoint> lb;
    for (size_t i = 0; i < b_sockets; ++i)
      lb.push_back(stack.add(lab.socket_in(lab.hb, at("192.168.2.2", 0))));
    constexpr size_t a_probes = 400;
    size_t a_max = 1000;
    size_t b_max = b_sockets * 10;
    {
      runtime rt;
      auto fds = open_fds();
      auto start = rt.system().clock().now() + 200ms;
      auto sa = lab_spec(stack, {la}, {}, keys.initiator, true, start);
      sa.spray_ip = b_ext.ip;
      sa.spray_probes = a_probes;
      sa.spray_port_min = 40000;
      sa.spray_port_max = 40999;
      sa.spray_seed = 7;
      sa.max_probes = a_max;
      auto sb = lab_spec(stack, lb, {a_ext}, keys.responder, false, start);
      sb.max_probes = b_max;
      punch_side a{rt.system(), sa};
      punch_side b{rt.system(), sb};
      auto [ia, ib] = open_both(a, b);
      NETNS_EXPECT(c, ia && ib);
      if (ia && ib) {
        NETNS_EXPECT_EQ(c, ia->remote.ip, b_ext.ip);
        NETNS_EXPECT(c, ia->remote.port >= 40000 && ia->remote.port <= 40999);
        NETNS_EXPECT_EQ(c, ib->remote, a_ext);
        NETNS_EXPECT(c, !a.send("found you"));
        auto m = b.next_msg();
        NETNS_EXPECT(c, m && to_string(m->data) == "found you");
        // B keeps one socket of 64: the other 63 are closed.
        NETNS_EXPECT(c, eventually([&] { return open_fds() <= fds - (b_sockets - 1); }));
      } else {
        c.expect(false, ((ia ? std::string{} : render(ia.error())) + " / "
                         + (ib ? std::string{} : render(ib.error())))
                          .c_str(),
                 __FILE__, __LINE__);
      }
      NETNS_EXPECT(c, static_cast<bool>(a.ask<caf::ok_atom>(caf::close_atom::value)));
      NETNS_EXPECT(c, b.next_end().has_value());
      NETNS_EXPECT(c, eventually([&] { return open_fds() <= fds - b_sockets - 1; }));
    }
    // Within bounds: what each host sent through its router is at most its
    // probes, an ack for each probe of the peer, and a few frames of the
    // exchange (nominations, data, close). (A run sends about 480 and 120.)
    auto [a_out, a_dropped] = lab.counters(lab.ra);
    auto [b_out, b_dropped] = lab.counters(lab.rb);
    NETNS_EXPECT(c, a_out <= a_max + b_max + 20);
    NETNS_EXPECT(c, b_out <= b_max + a_max + 20);
    NETNS_EXPECT(c, a_out >= a_probes && b_out >= b_sockets);
  });
  EXPECT_TRUE(out.ok) << out.report;
}
