// TCP punches on loopback, each held by a small actor as the node holds
// one: two toward each other keep one authenticated connection each and
// nothing else; a peer that never starts, one that proves another node,
// strangers on the port, a cancel. Descriptors are counted before and after.
#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

#include "actors/pipe/syn_sink.hpp"
#include "actors/punch/tcp_punch_probe.hpp"
#include "node/node_fixture.hpp" // open_fds(), eventually()

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

class TcpPunch : public ::testing::Test {
protected:
  void SetUp() override {
    // What a process opens once and keeps (a listener's spare descriptor)
    // is opened before the count.
    auto l = rt.listen(tcp, any_port("127.0.0.1"));
    ASSERT_OK(l);
    auto at = l->local();
    ASSERT_OK(l->close());
    ASSERT_TRUE(eventually([&] { return !socket_bound_to(at); }));
    base = open_fds();
  }

  static std::shared_ptr<net::tls_context> ctx(const net::identity& me, tls_role role) {
    auto c = net::tls_context::make_node(me, role == tls_role::server);
    EXPECT_OK(c);
    return c ? *c : nullptr;
  }

  // `me` punching from `local` toward `remotes`, expecting `peer`, in the
  // TLS role the rule gives.
  tcp_punch_spec spec_for(const net::identity& me, const net::identity& peer, endpoint local,
                          std::vector<endpoint> remotes) {
    tcp_punch_spec s;
    s.local = local;
    s.remotes = std::move(remotes);
    s.tls = ctx(me, tcp_punch_role(me.id(), peer.id()));
    s.expect_node = peer.id();
    s.interval = 100ms;
    s.window = 3s;
    return s;
  }

  // Ends the probes a failed assertion left running (their punches would
  // hold the runtime's end until their windows close).
  void TearDown() override {
    for (auto& p : probes)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  }

  caf::actor probe(caf::scoped_actor& observer, tcp_punch_spec s,
                   keep_rule rule = keep_rule::first_up) {
    probes.push_back(rt.system().spawn(punch_probe, as_actor(observer), std::move(s), rule));
    return probes.back();
  }

  // Two distinct ports free now.
  std::pair<endpoint, endpoint> two_ports() {
    auto a = at("127.0.0.1", free_port(tcp));
    auto b = a;
    while (b.port == a.port)
      b = at("127.0.0.1", free_port(tcp));
    return {a, b};
  }

  // Alice, as the TLS end `alice_is`, expects carol and punches toward bob,
  // who expects alice; neither keeps what comes up, each fails in 1 s.
  void alice_expects_carol(caf::scoped_actor& oa, caf::scoped_actor& ob, tls_role alice_is) {
    auto [pa, pb] = two_ports();
    auto sa = spec_for(alice, carol, pa, {pb});
    sa.tls = ctx(alice, alice_is);
    auto sb = spec_for(bob, alice, pb, {pa});
    sb.tls = ctx(bob, alice_is == tls_role::client ? tls_role::server : tls_role::client);
    sa.window = sb.window = 1s;
    sa.start = sb.start = rt.system().clock().now() + 20ms;
    probe(oa, sa, keep_rule::never);
    probe(ob, sb, keep_rule::never);
  }

  // Alice alone, from a free port toward a sink that drops her SYNs, for
  // `window`; the count of descriptors starts after the sink's.
  caf::actor toward_sink(caf::scoped_actor& oa, caf::timespan window) {
    sink = syn_sink::make();
    EXPECT_TRUE(sink);
    base = open_fds();
    auto sa = spec_for(alice, bob, at("127.0.0.1", 0), {sink ? sink->local : endpoint{}});
    sa.window = window;
    return probe(oa, sa);
  }

  bool fds_back() {
    return eventually([&] { return open_fds() <= base; });
  }

  runtime rt;
  net::identity alice = make_identity();
  net::identity bob = make_identity();
  net::identity carol = make_identity();
  size_t base = 0;
  std::vector<caf::actor> probes;
  std::optional<syn_sink> sink;
};

} // namespace

TEST_F(TcpPunch, TwoPunchesTowardEachOtherKeepOneConnectionEach) {
  auto sink = syn_sink::make(); // a remote whose SYNs vanish: its attempt stays pending
  ASSERT_TRUE(sink);
  base = open_fds();
  auto [pa, pb] = two_ports();
  caf::scoped_actor oa{rt.system()};
  caf::scoped_actor ob{rt.system()};
  auto start = rt.system().clock().now() + 50ms;
  auto sa = spec_for(alice, bob, pa, {pb, sink->local});
  auto sb = spec_for(bob, alice, pb, {pa, sink->local});
  sa.start = sb.start = start;
  auto a = probe(oa, sa);
  auto b = probe(ob, sb);
  auto ka = next_event(oa, "kept");
  auto kb = next_event(ob, "kept");
  ASSERT_TRUE(ka && kb);
  ASSERT_OK(ka->err);
  ASSERT_OK(kb->err);
  // One connection, seen from both ends, each proving the node expected.
  EXPECT_EQ(ka->conn.local, kb->conn.remote);
  EXPECT_EQ(ka->conn.remote, kb->conn.local);
  EXPECT_EQ(ka->conn.peer_node, bob.id().to_string());
  EXPECT_EQ(kb->conn.peer_node, alice.id().to_string());
  oa->send(a, say_atom::value, std::string{"hello bob"});
  auto mb = next_event(ob, "msg");
  ASSERT_TRUE(mb);
  EXPECT_EQ(mb->data, "hello bob");
  ob->send(b, say_atom::value, std::string{"hello alice"});
  auto ma = next_event(oa, "msg");
  ASSERT_TRUE(ma);
  EXPECT_EQ(ma->data, "hello alice");
  // Everything else closed: the two ends of the kept connection remain.
  EXPECT_TRUE(eventually([&] { return open_fds() == base + 2; }))
    << open_fds() << " descriptors, " << base << " + 2 expected";
  oa->request(a, 5s, stats_atom::value)
    .receive([&](tcp_punch_stats& s) {
      EXPECT_EQ(s.connected, 1u) << s.to_string();
      // At least the connect toward the sink, pending until keep().
      EXPECT_GE(s.closed, 1u) << s.to_string();
    },
             [&](caf::error& err) { ADD_FAILURE() << render(err); });
  oa->send_exit(a, caf::exit_reason::user_shutdown);
  ob->send_exit(b, caf::exit_reason::user_shutdown);
  EXPECT_TRUE(fds_back()) << open_fds() << " > " << base;
}

TEST_F(TcpPunch, APeerThatNeverStartsFailsAfterTheWindowWithTheRefusals) {
  auto [pa, pb] = two_ports(); // nothing listens on pb: every SYN gets an RST
  caf::scoped_actor oa{rt.system()};
  auto sa = spec_for(alice, bob, pa, {pb});
  sa.window = 800ms;
  auto began = rt.system().clock().now();
  auto a = probe(oa, sa);
  auto f = next_event(oa, "failed");
  ASSERT_TRUE(f);
  EXPECT_GE(rt.system().clock().now() - began, sa.window);
  EXPECT_ERRC(f->err, errc::connect_refused);
  auto why = render(f->err);
  EXPECT_NE(why.find("refused"), std::string::npos) << why;
  EXPECT_NE(why.find(pb.to_string()), std::string::npos) << why;
  EXPECT_GE(f->stats.rounds, 5u) << f->stats.to_string();
  EXPECT_EQ(f->stats.refused, f->stats.attempts) << f->stats.to_string();
  EXPECT_GE(f->stats.attempts, f->stats.rounds - 1) << "a refused connect goes again each round";
  EXPECT_EQ(f->stats.connected, 0u);
  EXPECT_TRUE(fds_back()) << open_fds() << " > " << base;
  oa->send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(TcpPunch, AConnectNeverAnsweredTimesOutWithTheWindow) {
  caf::scoped_actor oa{rt.system()};
  toward_sink(oa, 600ms);
  auto f = next_event(oa, "failed");
  ASSERT_TRUE(f);
  EXPECT_ERRC(f->err, errc::connect_timeout);
  // One connect, left pending for the whole window (the peer's SYN could
  // still have met it), not one per round.
  EXPECT_EQ(f->stats.attempts, 1u) << f->stats.to_string();
  EXPECT_EQ(f->stats.timed_out, 1u) << f->stats.to_string();
  EXPECT_GE(f->stats.rounds, 4u) << f->stats.to_string();
  EXPECT_TRUE(fds_back()) << open_fds() << " > " << base;
}

TEST_F(TcpPunch, APeerThatProvesAnotherNodeIsRefusedAndCounted) {
  caf::scoped_actor oa{rt.system()};
  caf::scoped_actor ob{rt.system()};
  // Alice, the TLS client, checks bob's certificate first and refuses it.
  alice_expects_carol(oa, ob, tls_role::client);
  auto fa = next_event(oa, "failed");
  ASSERT_TRUE(fa);
  EXPECT_ERRC(fa->err, errc::tls_verify_failed);
  EXPECT_GE(fa->stats.wrong_node, 1u) << fa->stats.to_string();
  EXPECT_EQ(fa->stats.connected, 0u) << fa->stats.to_string();
  auto why = render(fa->err);
  EXPECT_NE(why.find("not " + carol.id().to_string()), std::string::npos) << why;
  auto fb = next_event(ob, "failed");
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->stats.connected, 0u) << fb->stats.to_string();
  EXPECT_TRUE(fds_back()) << open_fds() << " > " << base;
}

TEST_F(TcpPunch, AConnectionThePeerRefusesAfterOurHandshakeIsLost) {
  caf::scoped_actor oa{rt.system()};
  caf::scoped_actor ob{rt.system()};
  // Alice is the TLS server: bob's TLS 1.3 handshake is done before alice
  // checks his certificate, so bob sees the connection up, then lost.
  alice_expects_carol(oa, ob, tls_role::server);
  auto lost = next_event(ob, "lost");
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->conn.peer_node, alice.id().to_string());
  auto fa = next_event(oa, "failed");
  ASSERT_TRUE(fa);
  EXPECT_ERRC(fa->err, errc::tls_verify_failed);
  EXPECT_GE(fa->stats.wrong_node, 1u) << fa->stats.to_string();
  auto fb = next_event(ob, "failed");
  ASSERT_TRUE(fb);
  EXPECT_GE(fb->stats.lost, 1u) << fb->stats.to_string();
  EXPECT_TRUE(fds_back()) << open_fds() << " > " << base;
}

TEST_F(TcpPunch, StrangersOnThePortDoNotKeepThePeerOut) {
  auto [pa, pb] = two_ports();
  caf::scoped_actor oa{rt.system()};
  caf::scoped_actor ob{rt.system()};
  auto sa = spec_for(alice, bob, pa, {pb});
  sa.max_attempts = 8; // the listener holds 8 connections at most
  sa.start = rt.system().clock().now();
  auto a = probe(oa, sa);
  // Until alice's listener is there, its port refuses: strangers get in
  // once it is, then say nothing (each holds a slot until its handshake
  // times out, or a newcomer pushes it out).
  std::vector<net::unique_fd> strangers;
  // A copy: a lambda may not capture a structured binding before C++20.
  ASSERT_TRUE(eventually([&, port = pa] { return find_listening_fd(port) >= 0; }));
  for (int i = 0; i < 20; ++i)
    if (auto fd = raw_connect(pa))
      strangers.push_back(std::move(fd));
  EXPECT_EQ(strangers.size(), 20u);
  auto sb = spec_for(bob, alice, pb, {pa});
  auto b = probe(ob, sb);
  auto ka = next_event(oa, "kept");
  ASSERT_TRUE(ka);
  EXPECT_EQ(ka->conn.peer_node, bob.id().to_string());
  EXPECT_TRUE(next_event(ob, "kept"));
  oa->send_exit(a, caf::exit_reason::user_shutdown);
  ob->send_exit(b, caf::exit_reason::user_shutdown);
  strangers.clear();
  EXPECT_TRUE(fds_back()) << open_fds() << " > " << base;
}

TEST_F(TcpPunch, CancelClosesEverythingThePunchOpened) {
  caf::scoped_actor oa{rt.system()};
  auto a = toward_sink(oa, 30s);
  // The listener and the pending connect.
  ASSERT_TRUE(eventually([&] { return open_fds() >= base + 2; }));
  oa->send(a, caf::close_atom::value);
  EXPECT_TRUE(fds_back()) << open_fds() << " > " << base;
}

TEST_F(TcpPunch, AnOwnerThatEndsTakesThePunchAndItsSocketsWithIt) {
  caf::scoped_actor oa{rt.system()};
  auto a = toward_sink(oa, 30s);
  ASSERT_TRUE(eventually([&] { return open_fds() >= base + 2; }));
  oa->send_exit(a, caf::exit_reason::user_shutdown);
  EXPECT_TRUE(fds_back()) << open_fds() << " > " << base;
}

TEST_F(TcpPunch, StartRefusesASpecThatCannotWork) {
  caf::scoped_actor oa{rt.system()};
  auto check = [&](tcp_punch_spec s, const std::string& says) {
    auto a = probe(oa, std::move(s));
    auto e = next_event(oa, "start", 5s);
    ASSERT_TRUE(e) << says;
    EXPECT_ERRC(e->err, errc::invalid_argument);
    EXPECT_NE(render(e->err).find(says), std::string::npos) << render(e->err);
    oa->send_exit(a, caf::exit_reason::user_shutdown);
  };
  auto good = spec_for(alice, bob, at("127.0.0.1", 0), {at("127.0.0.1", 9)});
  auto s = good;
  s.remotes.clear();
  check(s, "at least one remote");
  s = good;
  s.remotes = {at("::1", 9)};
  check(s, "families differ");
  s = good;
  s.tls = nullptr;
  check(s, "expect_node needs");
  s = good;
  s.start = rt.system().clock().now() - 10s;
  check(s, "window ended");
  EXPECT_TRUE(fds_back()) << open_fds() << " > " << base;
}

TEST_F(TcpPunch, KeepRefusesAConnectionItDoesNotHaveAndAPunchThatIsOver) {
  auto [pa, pb] = two_ports();
  caf::scoped_actor oa{rt.system()};
  caf::scoped_actor ob{rt.system()};
  auto a = probe(oa, spec_for(alice, bob, pa, {pb}));
  auto keep = [&](const pipe_actor& pipe, const endpoint& remote) {
    std::string out;
    oa->request(a, 5s, keep_atom::value, pipe, remote)
      .receive([&](std::string& x) { out = x; }, [&](caf::error& err) { out = render(err); });
    return out;
  };
  // A pipe that is not the punch's.
  auto stranger = rt.listen(tcp, any_port("127.0.0.1"));
  ASSERT_OK(stranger);
  auto said = keep(stranger->handle(), pb);
  EXPECT_NE(said.find("unknown_peer"), std::string::npos) << said;
  // Kept once, the punch is over.
  auto b = probe(ob, spec_for(bob, alice, pb, {pa}));
  auto ka = next_event(oa, "kept");
  ASSERT_TRUE(ka);
  said = keep(ka->conn.pipe, ka->conn.remote);
  EXPECT_NE(said.find("pipe_closed"), std::string::npos) << said;
  EXPECT_TRUE(next_event(ob, "kept"));
  oa->send_exit(a, caf::exit_reason::user_shutdown);
  ob->send_exit(b, caf::exit_reason::user_shutdown);
}

TEST_F(TcpPunch, APortHeldWithoutReuseFailsThePunchAtOnce) {
  auto held = rt.listen(tcp, any_port("127.0.0.1")); // SO_REUSEADDR alone
  ASSERT_OK(held);
  caf::scoped_actor oa{rt.system()};
  auto sa = spec_for(alice, bob, held->local(), {at("127.0.0.1", 9)});
  sa.window = 30s;
  probe(oa, sa);
  auto f = next_event(oa, "failed", 5s); // long before the window's end
  ASSERT_TRUE(f);
  EXPECT_ERRC(f->err, errc::bind_failed);
  auto why = render(f->err);
  EXPECT_NE(why.find("cannot listen on " + held->local().to_string()), std::string::npos) << why;
  EXPECT_EQ(f->stats.attempts, 0u);
}

TEST_F(TcpPunch, TheTlsServerKeepsTheConnectionTheClientsFirstMessageCameOn) {
  auto [pa, pb] = two_ports();
  caf::scoped_actor oa{rt.system()};
  caf::scoped_actor ob{rt.system()};
  // The rule a node follows: the TLS client keeps the first connection up
  // and speaks on it; the TLS server keeps the one that message comes on.
  bool alice_client = tcp_punch_role(alice.id(), bob.id()) == tls_role::client;
  auto sa = spec_for(alice, bob, pa, {pb});
  auto sb = spec_for(bob, alice, pb, {pa});
  auto a = probe(oa, sa, alice_client ? keep_rule::first_up : keep_rule::first_message);
  auto b = probe(ob, sb, alice_client ? keep_rule::first_message : keep_rule::first_up);
  auto& client_obs = alice_client ? oa : ob;
  auto& server_obs = alice_client ? ob : oa;
  auto client = alice_client ? a : b;
  auto kc = next_event(client_obs, "kept");
  ASSERT_TRUE(kc);
  ASSERT_OK(kc->err);
  client_obs->send(client, say_atom::value, std::string{"this one"});
  auto ks = next_event(server_obs, "kept");
  ASSERT_TRUE(ks);
  ASSERT_OK(ks->err);
  EXPECT_EQ(ks->conn.remote, kc->conn.local);
  EXPECT_EQ(ks->conn.local, kc->conn.remote);
  auto m = next_event(server_obs, "msg");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "this one");
}
