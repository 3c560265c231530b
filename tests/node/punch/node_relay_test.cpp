// Relayed connections between nodes on loopback, through the test's own
// coturn (tests/lab proves them across real NATs): a sealed datagram link
// between two UDP allocations, a TLS stream between two TCP allocations
// (RFC 6062), messages both ways, refusals.
#include "node/node_fixture.hpp"
#include "support/coturn_fixture.hpp"
#include "support/turn_account.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NodeRelay : public node_fixture {
protected:
  void SetUp() override {
    coturn_options o;
    o.turn = true;
    // Both nodes allocate on a's account: two allocations, and a third
    // only once one of them is deleted.
    o.user_quota = 2;
    std::string why;
    turn = coturn_server::start(why, o);
    if (!turn && not_installed(why))
      GTEST_SKIP() << why;
    ASSERT_TRUE(turn) << why;
  }

  /// A node whose relay is the test's coturn.
  node_spec relay_spec(caf::scoped_actor* sub = nullptr) {
    auto spec = spec_for();
    spec.turn = {turn_account(*turn)};
    spec.turn_timing = loopback_stun_timing();
    if (sub != nullptr)
      spec.subscribers.push_back(caf::actor_cast<caf::actor>(sub->ptr()));
    return spec;
  }

  static node::connect_options relay_only(node::transport kind = node::transport::datagram) {
    node::connect_options o;
    o.strategies = {node::strategy::relay};
    o.families = {net::family::v4};
    o.kind = kind;
    return o;
  }

  std::unique_ptr<coturn_server> turn;
};

} // namespace

TEST_F(NodeRelay, ARelayGivesASealedDatagramLinkBothWays) {
  caf::scoped_actor sub{rt.system()};
  auto a = start(relay_spec());
  auto b = start(relay_spec(&sub));
  auto conn = a.connect(b.address(), relay_only());
  ASSERT_TRUE(conn) << render(conn.error());
  EXPECT_EQ(conn->report.how, node::strategy::relay) << conn->report.to_string();
  EXPECT_EQ(conn->report.kind, node::transport::datagram);
  EXPECT_EQ(conn->report.path, node::path_kind::relayed);
  // The link's remote is b's relayed address on the server.
  EXPECT_EQ(conn->report.remote.ip, turn->primary().ip) << conn->report.to_string();
  auto up = next_where<node_peer_up>(sub, [&](const node_peer_up& u) { return u.conn.peer == a.id(); });
  ASSERT_TRUE(up) << "b saw no link from a";
  EXPECT_EQ(up->conn.report.how, node::strategy::relay);
  ASSERT_FALSE(a.send(b.id(), "through the relay"));
  auto got = next_where<node_msg>(sub, [&](const node_msg& m) { return m.peer == a.id(); });
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(got->data.begin(), got->data.end()), "through the relay");
}

TEST_F(NodeRelay, ANodeThatClosesEndsItsRelayedDatagramLinkAtThePeer) {
  // The sealed close goes out through a's TURN pipe, which ends with a: a
  // close that did not wait for the link left b to its idle timeout.
  caf::scoped_actor sub{rt.system()};
  auto a = start(relay_spec());
  auto b = start(relay_spec(&sub));
  auto conn = a.connect(b.address(), relay_only());
  ASSERT_TRUE(conn) << render(conn.error());
  ASSERT_TRUE(next_where<node_peer_up>(sub, [&](const node_peer_up& u) { return u.conn.peer == a.id(); }));
  ASSERT_FALSE(a.close());
  auto end = next_where<node_peer_end>(sub, [&](const node_peer_end& e) { return e.peer == a.id(); });
  ASSERT_TRUE(end) << "b's link did not end when a closed";
  EXPECT_NE(render(end->reason).find("closed by the peer"), std::string::npos) << render(end->reason);
}

TEST_F(NodeRelay, TheResponderNeedsNoTurnServerOfItsOwn) {
  caf::scoped_actor sub{rt.system()};
  auto a = start(relay_spec());
  auto b = start(spec_for()); // no TURN server: it allocates with a's offer
  auto conn = a.connect(b.address(), relay_only());
  ASSERT_TRUE(conn) << render(conn.error());
  EXPECT_EQ(conn->report.how, node::strategy::relay);
}

TEST_F(NodeRelay, AStreamThroughTheRelayIsATlsLinkBothWays) {
  caf::scoped_actor sub_a{rt.system()};
  caf::scoped_actor sub_b{rt.system()};
  auto a = start(relay_spec(&sub_a));
  auto b = start(relay_spec(&sub_b));
  auto conn = a.connect(b.address(), relay_only(node::transport::stream));
  ASSERT_TRUE(conn) << render(conn.error());
  EXPECT_EQ(conn->report.how, node::strategy::relay) << conn->report.to_string();
  EXPECT_EQ(conn->report.kind, node::transport::stream);
  EXPECT_EQ(conn->report.path, node::path_kind::relayed);
  EXPECT_EQ(conn->report.remote.ip, turn->primary().ip) << conn->report.to_string();
  auto up = next_where<node_peer_up>(sub_b, [&](const node_peer_up& u) { return u.conn.peer == a.id(); });
  ASSERT_TRUE(up) << "b saw no link from a";
  EXPECT_EQ(up->conn.report.how, node::strategy::relay);
  EXPECT_EQ(up->conn.report.kind, node::transport::stream);
  ASSERT_FALSE(a.send(b.id(), "a to b through the relay"));
  auto got = next_where<node_msg>(sub_b, [&](const node_msg& m) { return m.peer == a.id(); });
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(got->data.begin(), got->data.end()), "a to b through the relay");
  ASSERT_FALSE(b.send(a.id(), "b to a"));
  auto back = next_where<node_msg>(sub_a, [&](const node_msg& m) { return m.peer == b.id(); });
  ASSERT_TRUE(back);
  EXPECT_EQ(std::string(back->data.begin(), back->data.end()), "b to a");
}

TEST_F(NodeRelay, AStreamResponderNeedsNoTurnServerOfItsOwn) {
  auto a = start(relay_spec());
  auto b = start(spec_for());
  auto conn = a.connect(b.address(), relay_only(node::transport::stream));
  ASSERT_TRUE(conn) << render(conn.error());
  EXPECT_EQ(conn->report.kind, node::transport::stream);
}

TEST_F(NodeRelay, ARelayedStreamsAllocationsGoWhenItsLinkCloses) {
  // coturn's log says each deletion (a refresh to lifetime 0); the quota
  // (2) holds one connect's two allocations, so each connect after the
  // first also needs the last one's freed.
  turn.reset();
  coturn_options o;
  o.turn = true;
  o.user_quota = 2;
  o.verbose = true;
  std::string why;
  turn = coturn_server::start(why, o);
  ASSERT_TRUE(turn) << why;
  auto deletions = [&] {
    size_t n = 0;
    auto log = turn->log();
    for (auto at = log.find("lifetime=0"); at != std::string::npos; at = log.find("lifetime=0", at + 1))
      ++n;
    return n;
  };
  caf::scoped_actor sub{rt.system()};
  auto a = start(relay_spec(&sub));
  auto b = start(relay_spec());
  for (size_t i = 0; i < 3; ++i) {
    // coturn frees a deleted allocation's quota on its next timer tick
    // (about a second): a refusal for the quota is tried again, 3 s at most.
    auto conn = a.connect(b.address(), relay_only(node::transport::stream));
    for (int t = 0; t < 6 && !conn && render(conn.error()).find("486") != std::string::npos; ++t) {
      sub->receive(caf::after(std::chrono::milliseconds(500)) >> [] {});
      conn = a.connect(b.address(), relay_only(node::transport::stream));
    }
    ASSERT_TRUE(conn) << "connect " << i << ": " << render(conn.error());
    ASSERT_FALSE(a.disconnect(b.id()));
    ASSERT_TRUE(next_where<node_peer_end>(sub, [&](const node_peer_end& e) { return e.peer == b.id(); }));
    for (int t = 0; t < 50 && deletions() < 2 * (i + 1); ++t)
      sub->receive(caf::after(std::chrono::milliseconds(100)) >> [] {});
    ASSERT_EQ(deletions(), 2 * (i + 1)) << "both allocations of connect " << i
                                        << " are deleted with its link\n" << turn->log();
  }
}

TEST_F(NodeRelay, APeerThatRefusesRelayOffersSaysSo) {
  auto a = start(relay_spec());
  auto spec = spec_for();
  spec.accept_relay_offers = false;
  auto b = start(spec);
  auto conn = a.connect(b.address(), relay_only());
  ASSERT_FALSE(conn);
  EXPECT_NE(render(conn.error()).find("accept_relay_offers"), std::string::npos)
    << render(conn.error());
}

TEST_F(NodeRelay, WrongCredentialsFailTheAttemptWithTheServersRefusal) {
  auto spec = relay_spec();
  spec.turn[0].password = "not-it";
  auto a = start(spec);
  auto b = start(relay_spec());
  auto conn = a.connect(b.address(), relay_only());
  ASSERT_FALSE(conn);
  EXPECT_NE(render(conn.error()).find("401"), std::string::npos) << render(conn.error());
}

TEST_F(NodeRelay, WithoutATurnServerNoRelayIsPlanned) {
  auto a = start(spec_for());
  auto b = start(relay_spec());
  auto conn = a.connect(b.address(), relay_only());
  ASSERT_FALSE(conn);
}
