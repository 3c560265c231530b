// Signalling nodes on the in-process hub, and their identity.
#include <sys/stat.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/signal/node/signal_node_test_util.hpp"
#include "support/temp_dir.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/api/runtime.hpp"
#include "p2pd/actors/signal/mqtt/mqtt_channel.hpp"
#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/net/crypto/key_file.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class SignalNodeHub : public ::testing::Test {
protected:
  void TearDown() override {
    node_calls calls{rt.system()};
    for (auto& n : nodes)
      calls.close(n);
  }

  signal_node_spec spec_for(const std::string& name) {
    signal_node_spec s;
    s.data_dir = dir.path() + "/" + name;
    s.hub = hub;
    return s;
  }

  signal_node_actor start(signal_node_spec s) {
    auto n = start_signal_node(rt.system(), std::move(s));
    EXPECT_OK(n);
    if (!n)
      return {};
    nodes.push_back(*n);
    return *n;
  }

  runtime rt;
  temp_dir dir;
  signal_hub_actor hub = spawn_signal_hub(rt.system());
  std::vector<signal_node_actor> nodes;
};

} // namespace

TEST_F(SignalNodeHub, TwoNodesExchangeMessagesBothWays) {
  auto a = start(spec_for("a"));
  auto b = start(spec_for("b"));
  ASSERT_TRUE(a && b);
  node_calls at_a{rt.system()};
  node_calls at_b{rt.system()};
  ASSERT_FALSE(at_a.subscribe(a));
  ASSERT_FALSE(at_b.subscribe(b));
  auto ia = at_a.info(a);
  auto ib = at_b.info(b);
  EXPECT_NE(ia.id, ib.id);
  EXPECT_EQ(ib.topic, "p2pd/v1/" + ib.id);

  auto id = at_a.send(a, ib.keys, "hello b", 1);
  ASSERT_OK(id);
  auto at_b_msg = at_b.next();
  ASSERT_TRUE(at_b_msg);
  EXPECT_EQ(to_string(at_b_msg->plaintext), "hello b");
  EXPECT_EQ(at_b_msg->sender, ia.id);
  EXPECT_EQ(at_b_msg->sender_keys, ia.keys);
  EXPECT_EQ(at_b_msg->id, *id);
  EXPECT_EQ(at_b_msg->type, 1u);
  EXPECT_TRUE(at_b_msg->known_type);
  EXPECT_EQ(at_b_msg->channel, "hub");

  // The answer goes to the keys the message came with; a type this build
  // does not know is delivered and flagged.
  auto back = at_b.send(b, at_b_msg->sender_keys, "hello a", 4242);
  ASSERT_OK(back);
  auto at_a_msg = at_a.next();
  ASSERT_TRUE(at_a_msg);
  EXPECT_EQ(to_string(at_a_msg->plaintext), "hello a");
  EXPECT_EQ(at_a_msg->sender, ib.id);
  EXPECT_EQ(at_a_msg->type, 4242u);
  EXPECT_FALSE(at_a_msg->known_type);

  auto sa = at_a.stats(a);
  EXPECT_EQ(sa.sent, 1u);
  EXPECT_EQ(sa.delivered, 1u);
  EXPECT_EQ(sa.refused(), 0u);
  EXPECT_EQ(sa.channels, 1u);
  EXPECT_EQ(sa.channels_listening, 1u);
  EXPECT_EQ(sa.subscribers, 1u);
}

TEST_F(SignalNodeHub, ThreeNodesReachEachOther) {
  std::vector<std::string> names{"a", "b", "c"};
  std::vector<signal_node_actor> n;
  std::vector<std::unique_ptr<node_calls>> in;
  std::vector<signal_node_info> info;
  for (auto& name : names) {
    n.push_back(start(spec_for(name)));
    ASSERT_TRUE(n.back());
    in.push_back(std::make_unique<node_calls>(rt.system()));
    ASSERT_FALSE(in.back()->subscribe(n.back()));
    info.push_back(in.back()->info(n.back()));
  }
  for (size_t i = 0; i < n.size(); ++i)
    for (size_t j = 0; j < n.size(); ++j)
      if (i != j) {
        auto id = in[i]->send(n[i], info[j].keys, names[i] + ">" + names[j]);
        EXPECT_OK(id);
      }
  for (size_t j = 0; j < n.size(); ++j) {
    std::set<std::string> want;
    for (size_t i = 0; i < n.size(); ++i)
      if (i != j)
        want.insert(names[i] + ">" + names[j]);
    auto got = in[j]->texts(want.size());
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want) << "at " << names[j];
  }
}

// A simulation's scale: fifty nodes in one actor system on one hub, their
// identities made in memory (no key files).
TEST_F(SignalNodeHub, FiftyNodesOnOneHubEachSendToTheNext) {
  constexpr size_t count = 50;
  node_calls calls{rt.system()};
  std::vector<signal_node_actor> n;
  std::vector<signal_node_info> info;
  for (size_t i = 0; i < count; ++i) {
    auto id = net::identity::generate();
    ASSERT_TRUE(id) << id.error().what;
    signal_node_spec s;
    s.identity = std::make_shared<const net::identity>(std::move(*id));
    s.hub = hub;
    n.push_back(start(std::move(s)));
    ASSERT_TRUE(n.back());
    ASSERT_FALSE(calls.subscribe(n.back()));
    info.push_back(calls.info(n.back()));
  }
  std::set<std::string> want;
  for (size_t i = 0; i < count; ++i) {
    auto text = std::to_string(i) + ">" + std::to_string((i + 1) % count);
    want.insert(text);
    auto id = calls.send(n[i], info[(i + 1) % count].keys, text);
    EXPECT_OK(id);
  }
  auto got = calls.texts(count, 20s);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want);
  EXPECT_EQ(got.size(), count);
  for (size_t i = 0; i < count; ++i) {
    auto s = calls.stats(n[i]);
    EXPECT_EQ(s.sent, 1u) << "node " << i;
    EXPECT_EQ(s.delivered, 1u) << "node " << i;
    EXPECT_EQ(s.refused(), 0u) << "node " << i;
  }
}

TEST_F(SignalNodeHub, NodeWithoutChannelsUsesAPrivateHubAndReachesItself) {
  signal_node_spec s;
  s.data_dir = dir.path() + "/alone";
  auto alone = start(std::move(s));
  ASSERT_TRUE(alone);
  node_calls calls{rt.system()};
  ASSERT_FALSE(calls.subscribe(alone));
  auto me = calls.info(alone);
  auto id = calls.send(alone, me.keys, "note to self");
  ASSERT_OK(id);
  auto m = calls.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->plaintext), "note to self");
  EXPECT_EQ(m->sender, me.id);
  EXPECT_EQ(calls.stats(alone).channels, 1u);
}

// Redundancy 1 with three channels still publishes on two: one channel
// failing must not lose a message. The receiver drops the second copies.
TEST_F(SignalNodeHub, EachMessageGoesOutOnAtLeastTwoChannelsAndArrivesOnce) {
  node_calls calls{rt.system()};
  std::vector<signal_channel_actor> chans;
  for (auto name : {"one", "two", "three"})
    chans.push_back(hub_channel(rt.system(), hub, name));
  auto s = spec_for("a");
  s.hub = signal_hub_actor{};
  s.channels = chans;
  s.redundancy = 1;
  auto a = start(std::move(s));
  auto b = start(spec_for("b"));
  ASSERT_TRUE(a && b);
  ASSERT_FALSE(calls.subscribe(b));
  auto ib = calls.info(b);
  constexpr size_t sends = 6;
  for (size_t i = 0; i < sends; ++i) {
    auto id = calls.send(a, ib.keys, "m" + std::to_string(i));
    EXPECT_OK(id);
  }
  auto got = calls.texts(sends);
  EXPECT_EQ(got.size(), sends);
  for (auto& [text, times] : count_texts(got))
    EXPECT_EQ(times, 1) << text;
  std::vector<signal_message> extra;
  EXPECT_TRUE(calls.wait_stats(
    b, [&](const signal_node_stats& st) { return st.duplicates == sends; }, extra));
  EXPECT_TRUE(extra.empty());
  uint64_t published = 0;
  for (auto& ch : chans)
    calls.self()
      ->request(ch, 5s, stats_atom::value)
      .receive([&](signal_stats& st) { published += st.published; },
               [&](caf::error& err) { ADD_FAILURE() << render(err); });
  EXPECT_EQ(published, 2u * sends);
  EXPECT_EQ(calls.stats(b).replayed, 0u);
  for (auto& ch : chans)
    anon_send(ch, caf::close_atom::value);
}

// Two channels to a port where no broker listens: each publish ends with the
// channel's ack timeout, and the error names both channels.
TEST_F(SignalNodeHub, SendFailsOnlyWhenEveryChannelFailedAndNamesEach) {
  node_calls calls{rt.system()};
  signal_node_spec s = spec_for("a");
  s.hub = signal_hub_actor{};
  for (auto name : {"broker-one", "broker-two"}) {
    mqtt_channel_spec m;
    m.broker_uri = "tcp://127.0.0.1:9";
    m.name = name;
    m.ack_timeout = 300ms;
    m.backoff_min = 50ms;
    m.backoff_max = 100ms;
    auto ch = spawn_mqtt_channel(rt.system(), m);
    ASSERT_OK(ch);
    s.channels.push_back(*ch);
  }
  auto chans = s.channels;
  auto a = spawn_signal_node(rt.system(), std::move(s));
  ASSERT_OK(a);
  nodes.push_back(*a);
  auto peer = net::identity::generate();
  ASSERT_TRUE(peer);
  auto id = calls.send(*a, peer->pub(), "lost");
  ASSERT_FALSE(id);
  EXPECT_ERRC(id, errc::ack_timeout);
  auto what = what_of(id.error());
  EXPECT_NE(what.find("broker-one: "), std::string::npos) << what;
  EXPECT_NE(what.find("broker-two: "), std::string::npos) << what;
  auto st = calls.stats(*a);
  EXPECT_EQ(st.send_failed, 1u);
  EXPECT_EQ(st.sent, 0u);
  EXPECT_EQ(st.channel_failures, 2u);
  for (auto& ch : chans)
    anon_send(ch, caf::close_atom::value);
}

// One channel works, the other cannot reach its broker: the node is online
// for one channel at once, and asking for all ends with the other's error.
TEST_F(SignalNodeHub, OnlineAnswersOnceTheChannelsAskedForListen) {
  node_calls calls{rt.system()};
  mqtt_channel_spec m;
  m.broker_uri = "tcp://127.0.0.1:9";
  m.name = "nowhere";
  m.ack_timeout = 300ms;
  m.backoff_min = 50ms;
  m.backoff_max = 100ms;
  auto dead = spawn_mqtt_channel(rt.system(), m);
  ASSERT_OK(dead);
  auto s = spec_for("a");
  s.channels.push_back(*dead);
  auto a = spawn_signal_node(rt.system(), std::move(s));
  ASSERT_OK(a);
  nodes.push_back(*a);
  auto online = [&](uint32_t n) {
    caf::error out;
    calls.self()
      ->request(*a, 5s, online_atom::value, n)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { out = std::move(err); });
    return out;
  };
  EXPECT_FALSE(online(1));
  auto err = online(0);
  ASSERT_TRUE(err);
  EXPECT_ERRC(err, errc::ack_timeout);
  EXPECT_NE(what_of(err).find("nowhere: "), std::string::npos) << render(err);
  EXPECT_NE(what_of(err).find("1 of 2 channels"), std::string::npos) << render(err);
  auto st = calls.stats(*a);
  EXPECT_EQ(st.channels, 2u);
  EXPECT_EQ(st.channels_listening, 1u);
  anon_send(*dead, caf::close_atom::value);
}

TEST_F(SignalNodeHub, PayloadTypeZeroIsRefused) {
  auto a = start(spec_for("a"));
  ASSERT_TRUE(a);
  node_calls calls{rt.system()};
  auto me = calls.info(a);
  auto id = calls.send(a, me.keys, "untyped", 0);
  ASSERT_FALSE(id);
  EXPECT_ERRC(id, errc::invalid_argument);
  EXPECT_EQ(calls.stats(a).send_failed, 1u);
}

TEST(SignalNodeIdentity, KeyFileIsCreated0600AndTheIdIsStableAcrossRestarts) {
  runtime rt;
  temp_dir dir;
  ASSERT_TRUE(dir);
  node_calls calls{rt.system()};
  signal_node_spec s;
  s.data_dir = dir.path() + "/node";
  auto first = start_signal_node(rt.system(), s);
  ASSERT_OK(first);
  auto before = calls.info(*first);
  EXPECT_FALSE(calls.close(*first));

  struct stat st {};
  auto key_file = dir.path() + "/node/" + net::identity_file_name;
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0) << key_file;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<size_t>(st.st_size), net::identity_file_size);

  auto second = start_signal_node(rt.system(), s);
  ASSERT_OK(second);
  auto after = calls.info(*second);
  EXPECT_EQ(after.id, before.id);
  EXPECT_EQ(after.keys, before.keys);
  EXPECT_EQ(net::node_id::of(after.keys).to_string(), after.id);
  EXPECT_FALSE(calls.close(*second));
}

TEST(SignalNodeIdentity, KeyFileReadableByOthersMakesSpawnFailWithTheReason) {
  runtime rt;
  temp_dir dir;
  ASSERT_TRUE(dir);
  {
    auto created = net::load_or_create_identity(dir.path());
    ASSERT_TRUE(created) << created.error().what;
  }
  auto key_file = dir.path() + "/" + net::identity_file_name;
  ASSERT_EQ(::chmod(key_file.c_str(), 0644), 0);
  signal_node_spec s;
  s.data_dir = dir.path();
  auto node = spawn_signal_node(rt.system(), s);
  ASSERT_FALSE(node);
  EXPECT_ERRC(node, errc::bad_key_file);
  auto what = what_of(node.error());
  EXPECT_NE(what.find("0644"), std::string::npos) << what;
  EXPECT_NE(what.find(key_file), std::string::npos) << what;
}
