// Punched connections between nodes on loopback (tests/lab proves them
// across real NATs): TCP and UDP, authenticated both ways, messages in both
// directions, nothing left open, and a peer that never punches.
#include <future>

#include "node/node_fixture.hpp"
#include "node/punch/raw_peer.hpp"
#include "support/chrony_fixture.hpp"

#include "p2pd/actors/ntp/ntp_clock.hpp"
#include "p2pd/actors/signal/node/signal_node.hpp"
#include "p2pd/api/blocking.hpp"
#include "p2pd/net/crypto/session_key.hpp"
#include "p2pd/node/punch/punch_offer.hpp"
#include "p2pd/proto/envelope_codec.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

/// A well-formed answer from the open Internet to `offer`.
node::punch_message answer_to(const node::punch_message& offer) {
  auto key = net::ephemeral_key::generate();
  node::punch_message answer;
  answer.request_id = offer.request_id;
  answer.phase = node::punch_phase::answer;
  answer.proto = offer.proto;
  answer.fam = offer.fam;
  answer.nat = net::nat_type::open_internet;
  answer.predictions = {*net::endpoint::parse("127.0.0.1:9999")};
  answer.local_ports = {9999};
  if (key)
    answer.ephemeral_key = key->pub();
  answer.interval_ms = offer.interval_ms;
  answer.window_ms = offer.window_ms;
  return answer;
}

class NodePunch : public node_fixture {
protected:
  /// A node on loopback that says it is on the open Internet: a punch
  /// needs no prediction, so the mechanisms themselves are what is tested.
  node_spec open_spec(caf::scoped_actor* sub = nullptr) {
    auto spec = spec_for();
    nat_summary n;
    n.fam = net::family::v4;
    n.nat = net::nat_type::open_internet;
    n.delta = net::delta_type::not_applicable;
    spec.iface.nats = {n};
    spec.punch_window = std::chrono::seconds(4); // room for a loaded machine
    if (sub != nullptr)
      spec.subscribers.push_back(caf::actor_cast<caf::actor>(sub->ptr()));
    return spec;
  }

  static node::connect_options punch_over(node::transport kind) {
    node::connect_options o;
    o.strategies = {node::strategy::punch};
    o.families = {net::family::v4};
    o.kind = kind;
    return o;
  }

  /// Connects a to b by punching over `kind`, and checks a message each way.
  void punch_and_talk(node::transport kind) {
    caf::scoped_actor sub{rt.system()};
    auto a = start(open_spec());
    auto b = start(open_spec(&sub));
    auto conn = a.connect(b.address(), punch_over(kind));
    ASSERT_TRUE(conn) << render(conn.error());
    EXPECT_EQ(conn->report.how, node::strategy::punch) << conn->report.to_string();
    EXPECT_EQ(conn->report.kind, kind);
    EXPECT_EQ(conn->peer, b.id());
    auto up = next_where<node_peer_up>(sub, [&](const node_peer_up& u) { return u.conn.peer == a.id(); });
    ASSERT_TRUE(up) << "b saw no link from a";
    ASSERT_FALSE(a.send(b.id(), "over the punch"));
    auto got = next_where<node_msg>(sub, [&](const node_msg& m) { return m.peer == a.id(); });
    ASSERT_TRUE(got);
    EXPECT_EQ(std::string(got->data.begin(), got->data.end()), "over the punch");
    ASSERT_FALSE(b.send(a.id(), "and back"));
    EXPECT_EQ(a.stats()->punches, 1u);
    EXPECT_EQ(b.stats()->punches, 1u);
  }
};

} // namespace

TEST_F(NodePunch, TcpPunchConnectsAndCarriesMessagesBothWays) {
  punch_and_talk(node::transport::stream);
}

TEST_F(NodePunch, UdpPunchGivesASealedDatagramLink) {
  punch_and_talk(node::transport::datagram);
}

TEST_F(NodePunch, BothSidesMeetOnNtpTimeFromTheirClocksLastEstimate) {
  std::string why;
  auto chrony = chrony_server::start(why);
  if (!chrony)
    GTEST_SKIP() << "chronyd: " << why;
  ntp_clock_spec cs;
  cs.endpoints = {chrony->endpoint()};
  cs.samples = 1;
  cs.spacing = caf::timespan{0};
  auto with_clock = [&] {
    auto spec = open_spec();
    spec.clock = cs;
    return spec;
  };
  auto a = start(with_clock());
  auto b = start(with_clock());
  // Each node asked its clock at the start; the clock answers everyone once
  // measured, the test after the node (which asked first).
  caf::scoped_actor self{rt.system()};
  for (auto* n : {&a, &b}) {
    auto cs_now = n->children();
    ASSERT_OK(cs_now);
    for (auto& c : *cs_now)
      if (c.name == "NTP clock") {
        ASSERT_TRUE(c.actor);
        auto clk = caf::actor_cast<ntp_clock_actor>(c.actor);
        bool measured = false;
        self->request(clk, std::chrono::seconds(10), caf::get_atom::value)
          .receive([&](clock_offset& o) { measured = o.servers > 0; },
                   [&](caf::error& e) { ADD_FAILURE() << render(e); });
        ASSERT_TRUE(measured);
      }
  }
  auto conn = a.connect(b.address(), punch_over(node::transport::datagram));
  ASSERT_TRUE(conn) << render(conn.error());
  // The meeting time came from the estimate the node holds, without asking
  // the clock mid-exchange.
  std::string said;
  for (auto& r : conn->report.attempts)
    said += r.outcome + "\n";
  EXPECT_NE(said.find("(NTP time)"), std::string::npos) << said;
}

TEST_F(NodePunch, APunchLeavesOnlyItsConnectionOpen) {
  auto a = start(open_spec());
  auto b = start(open_spec());
  auto before = open_fds();
  auto conn = a.connect(b.address(), punch_over(node::transport::stream));
  ASSERT_TRUE(conn) << render(conn.error());
  // One connection, both ends in this process: two sockets, and nothing of
  // the listener, the losing connects or the mapping's STUN socket.
  EXPECT_TRUE(eventually([&] { return open_fds() <= before + 2; })) << open_fds() - before;
  ASSERT_FALSE(a.disconnect(b.id()));
  EXPECT_TRUE(eventually([&] { return open_fds() <= before; })) << open_fds() - before;
}

TEST_F(NodePunch, AnInitiatorWhosePeerNeverPunchesFailsWithinTheWindow) {
  // The peer answers the offer and then does nothing.
  auto a = start(open_spec());
  raw_peer peer{rt, hub};
  auto fut = std::async(std::launch::async, [&] {
    return a.connect(peer.address(), punch_over(node::transport::datagram));
  });
  auto m = peer.next();
  ASSERT_TRUE(m);
  peer.send(peer.last_sender, answer_to(*m));
  auto conn = fut.get();
  ASSERT_FALSE(conn);
  auto why = render(conn.error());
  EXPECT_NE(why.find("punch"), std::string::npos) << why;
  EXPECT_EQ(a.stats()->punches_failed, 1u);
  EXPECT_EQ(a.stats()->connections, 0u);
}

TEST_F(NodePunch, AnAnswerTheInitiatorRefusesEndsItsPunchAtOnceWithTheReason) {
  auto a = start(open_spec());
  raw_peer peer{rt, hub};
  auto fut = std::async(std::launch::async, [&] {
    return a.connect(peer.address(), punch_over(node::transport::datagram));
  });
  auto m = peer.next();
  ASSERT_TRUE(m);
  auto answer = answer_to(*m);
  answer.local_ports = {80}; // below the floor: the decoder refuses it
  peer.send(peer.last_sender, answer);
  auto conn = fut.get();
  ASSERT_FALSE(conn);
  auto why = render(conn.error());
  EXPECT_NE(why.find("local_ports"), std::string::npos) << why;
  EXPECT_EQ(a.stats()->refused_punch, 1u);
  EXPECT_EQ(a.stats()->punches_failed, 1u);
}
