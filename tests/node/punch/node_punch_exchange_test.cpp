// The punch exchange over signalling (node_punch.cpp): what a node answers
// to an offer, and what it refuses: pairs that cannot punch, messages that
// do not decode, aim at odd ports, answer nothing asked, replay an offer or
// come in a flood. Each refusal is counted and told to subscribers.
#include "node/node_fixture.hpp"
#include "node/punch/raw_peer.hpp"

#include "p2pd/actors/signal/node/signal_node.hpp"
#include "p2pd/api/blocking.hpp"
#include "p2pd/node/punch/punch_offer.hpp"
#include "p2pd/proto/envelope_codec.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NodePunchExchange : public node_fixture {
protected:
  /// A node whose loopback NAT is `nat` with port allocation `delta`.
  node_spec behind(net::nat_type nat, net::delta_type delta) {
    auto spec = spec_for();
    nat_summary n;
    n.fam = net::family::v4;
    n.nat = nat;
    n.delta = delta;
    spec.iface.nats = {n};
    return spec;
  }

  static net::public_keys keys_of(node_handle& n) {
    return node::parse_peer_address(n.address())->keys;
  }

  /// An offer as a node behind a full cone would make it.
  static node::punch_message offer(uint64_t id) {
    node::punch_message m;
    m.request_id = id;
    m.phase = node::punch_phase::offer;
    m.proto = net::protocol::tcp;
    m.fam = net::family::v4;
    m.nat = net::nat_type::full_cone;
    m.delta = {net::delta_type::equal, 0};
    m.predictions = {*net::endpoint::parse("127.0.0.1:40000")};
    m.local_ports = {40000};
    m.ephemeral_key = std::array<uint8_t, 32>{};
    m.ephemeral_key->fill(1);
    return m;
  }
};

node::connect_options punch_only() {
  node::connect_options o;
  o.strategies = {node::strategy::punch};
  o.families = {net::family::v4};
  return o;
}

} // namespace

TEST_F(NodePunchExchange, APairThatCannotPunchIsRefusedAtOnceWithTheReason) {
  auto a = start(behind(net::nat_type::symmetric, net::delta_type::random));
  auto b = start(behind(net::nat_type::symmetric, net::delta_type::random));
  auto t0 = std::chrono::steady_clock::now();
  auto conn = a.connect(b.address(), punch_only());
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(conn);
  auto why = render(conn.error());
  EXPECT_NE(why.find("refused at once"), std::string::npos) << why;
  EXPECT_NE(why.find("random"), std::string::npos) << why;
  // Said at once: no budget, no timeout spent on it.
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(b.stats()->refused_punch, 0u); // nothing was even offered
}

TEST_F(NodePunchExchange, AnOfferIsAnsweredWithPredictionsAndAKey) {
  auto b = start(behind(net::nat_type::full_cone, net::delta_type::equal));
  raw_peer p{rt, hub};
  p.send(keys_of(b), offer(11));
  auto answer = p.next();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->phase, node::punch_phase::answer);
  EXPECT_EQ(answer->request_id, 11u);
  EXPECT_EQ(answer->proto, net::protocol::tcp);
  ASSERT_TRUE(answer->ephemeral_key);
  ASSERT_FALSE(answer->local_ports.empty());
  ASSERT_FALSE(answer->predictions.empty());
  // No STUN server: a port-keeping NAT's mapping is the local port.
  EXPECT_EQ(answer->predictions.front().port, answer->local_ports.front());
  EXPECT_EQ(b.stats()->refused_punch, 0u);
}

TEST_F(NodePunchExchange, AnOfferThatCannotWorkIsAnsweredWithARefusal) {
  caf::scoped_actor sub{rt.system()};
  auto b = start_watched(sub, behind(net::nat_type::symmetric, net::delta_type::random));
  raw_peer p{rt, hub};
  auto m = offer(12);
  m.nat = net::nat_type::symmetric;
  m.delta = {net::delta_type::random, 0};
  p.send(keys_of(b), m);
  auto answer = p.next();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->phase, node::punch_phase::refuse);
  EXPECT_NE(answer->reason.find("random"), std::string::npos) << answer->reason;
  EXPECT_TRUE(next_refused(sub, "punch"));
  EXPECT_EQ(b.stats()->refused_punch, 1u);
}

TEST_F(NodePunchExchange, APayloadThatDoesNotDecodeIsRefusedAndCounted) {
  caf::scoped_actor sub{rt.system()};
  auto b = start_watched(sub);
  raw_peer p{rt, hub};
  p.send(keys_of(b), std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff, 0x0f});
  auto refused = next_refused(sub, "punch");
  ASSERT_TRUE(refused);
  EXPECT_ERRC(refused->reason, errc::malformed);
  EXPECT_EQ(refused->peer, p.id->id().to_string());
  EXPECT_EQ(b.stats()->refused_punch, 1u);
}

TEST_F(NodePunchExchange, APredictionBelowThePortFloorIsRefused) {
  caf::scoped_actor sub{rt.system()};
  auto b = start_watched(sub);
  raw_peer p{rt, hub};
  auto m = offer(13);
  m.predictions = {*net::endpoint::parse("127.0.0.1:22")};
  p.send(keys_of(b), m);
  auto refused = next_refused(sub, "punch");
  ASSERT_TRUE(refused);
  EXPECT_ERRC(refused->reason, errc::invalid_argument);
  EXPECT_NE(render(refused->reason).find("prediction 0"), std::string::npos)
    << render(refused->reason);
  EXPECT_EQ(b.stats()->punches + b.stats()->punches_failed, 0u); // nothing was started
}

TEST_F(NodePunchExchange, AnAnswerNobodyAskedForIsRefused) {
  caf::scoped_actor sub{rt.system()};
  auto b = start_watched(sub);
  raw_peer p{rt, hub};
  auto m = offer(777);
  m.phase = node::punch_phase::answer;
  p.send(keys_of(b), m);
  auto refused = next_refused(sub, "punch");
  ASSERT_TRUE(refused);
  EXPECT_ERRC(refused->reason, errc::not_for_us);
  EXPECT_EQ(b.stats()->refused_punch, 1u);
}

TEST_F(NodePunchExchange, ASecondOfferWithTheSameIdIsRefusedAsReplayed) {
  caf::scoped_actor sub{rt.system()};
  auto b = start_watched(sub, behind(net::nat_type::full_cone, net::delta_type::equal));
  raw_peer p{rt, hub};
  p.send(keys_of(b), offer(21));
  ASSERT_TRUE(p.next()); // answered
  p.send(keys_of(b), offer(21));
  auto refused = next_refused(sub, "punch");
  ASSERT_TRUE(refused);
  EXPECT_ERRC(refused->reason, errc::replayed);
}

TEST_F(NodePunchExchange, AFloodOfOffersIsBoundedAndCounted) {
  caf::scoped_actor sub{rt.system()};
  auto spec = behind(net::nat_type::full_cone, net::delta_type::equal);
  spec.max_pending_requests = 2;
  auto b = start_watched(sub, spec);
  raw_peer p{rt, hub};
  const uint64_t offers = 6;
  for (uint64_t i = 1; i <= offers; ++i)
    p.send(keys_of(b), offer(100 + i));
  size_t full = 0;
  auto last = next_where<node_refused>(sub, [&](const node_refused& r) {
    full += r.what == "punch" && code_of(r.reason) == errc::queue_full;
    return full == offers - 2;
  });
  EXPECT_TRUE(last) << full << " refused as over the limit";
  EXPECT_EQ(b.stats()->refused_punch, offers - 2);
}

TEST_F(NodePunchExchange, APunchWhosePeerNeverStartsEndsInTimeAndFreesItsSlot) {
  caf::scoped_actor sub{rt.system()};
  auto spec = behind(net::nat_type::full_cone, net::delta_type::equal);
  spec.max_pending_requests = 1;
  spec.punch_window = std::chrono::milliseconds(500);
  auto b = start_watched(sub, spec);
  raw_peer p{rt, hub};
  p.send(keys_of(b), offer(31));
  ASSERT_TRUE(p.next());
  node::punch_message sync = offer(31);
  sync.phase = node::punch_phase::sync;
  sync.start_time_ms = 1; // not NTP time: the node starts after its margin
  sync.clock_synced = false;
  p.send(keys_of(b), sync);
  // Nobody punches from the other side: it ends, and says so.
  ASSERT_TRUE(progress_seen(sub, "punch 31", std::chrono::seconds(10)));
  EXPECT_EQ(b.stats()->punches_failed, 1u);
  // Its slot is free again: a new offer is answered.
  p.send(keys_of(b), offer(32));
  auto answer = p.next();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->phase, node::punch_phase::answer);
}
