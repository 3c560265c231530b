// The in-process signalling hub and its channels.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/signal/signal_test_util.hpp"

#include "p2pd/api/runtime.hpp"
#include "p2pd/actors/signal/hub/signal_hub.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class SignalHub : public ::testing::Test {
protected:
  signal_stats stats_of_hub() {
    signal_stats out;
    calls.self()->request(hub, 5s, stats_atom::value)
      .receive([&](signal_stats& s) { out = std::move(s); },
               [&](caf::error& err) { ADD_FAILURE() << render(err); });
    return out;
  }

  runtime rt;
  channel_calls calls{rt.system()};
  signal_hub_actor hub = spawn_signal_hub(rt.system());
};

std::string hub_topic_of(const std::string& node) {
  return signal_topic("node-" + node);
}

} // namespace

TEST_F(SignalHub, TwoNodesExchangeMessagesBothWays) {
  channel_calls a_in{rt.system()};
  channel_calls b_in{rt.system()};
  auto a = hub_channel(rt.system(), hub, "a");
  auto b = hub_channel(rt.system(), hub, "b");
  ASSERT_OK(a_in.subscribe(a, hub_topic_of("a"), a_in.me()));
  ASSERT_OK(b_in.subscribe(b, hub_topic_of("b"), b_in.me()));

  EXPECT_OK(a_in.publish(a, hub_topic_of("b"), "hello b"));
  EXPECT_OK(b_in.publish(b, hub_topic_of("a"), "hello a"));
  auto at_b = b_in.next();
  ASSERT_TRUE(at_b);
  EXPECT_EQ(to_string(at_b->data), "hello b");
  EXPECT_EQ(at_b->channel, "b");
  EXPECT_EQ(at_b->topic, hub_topic_of("b"));
  auto at_a = a_in.next();
  ASSERT_TRUE(at_a);
  EXPECT_EQ(to_string(at_a->data), "hello a");

  auto sa = calls.stats(a);
  EXPECT_TRUE(sa.connected);
  EXPECT_EQ(sa.published, 1u);
  EXPECT_EQ(sa.acked, 1u);
  EXPECT_EQ(sa.received, 1u);
  EXPECT_OK(calls.close(a));
  EXPECT_OK(calls.close(b));
}

TEST_F(SignalHub, ThreeNodesReachEachOther) {
  std::vector<std::string> names{"a", "b", "c"};
  std::vector<std::unique_ptr<channel_calls>> in;
  std::vector<signal_channel_actor> ch;
  for (auto& n : names) {
    in.push_back(std::make_unique<channel_calls>(rt.system()));
    ch.push_back(hub_channel(rt.system(), hub, n));
    ASSERT_OK(in.back()->subscribe(ch.back(), hub_topic_of(n), in.back()->me()));
  }
  expect_all_reach_each_other(in, ch, names, hub_topic_of);
  EXPECT_EQ(stats_of_hub().acked, 6u);
  for (auto& c : ch)
    EXPECT_OK(calls.close(c));
}

TEST_F(SignalHub, TopicNobodyListensOnIsCountedAsDroppedNotAnError) {
  auto a = hub_channel(rt.system(), hub, "a");
  EXPECT_OK(calls.publish(a, hub_topic_of("nobody"), "into the void"));
  auto st = calls.stats(a);
  EXPECT_EQ(st.dropped_unclaimed, 1u);
  EXPECT_EQ(st.published, 1u);
  auto hs = stats_of_hub();
  EXPECT_EQ(hs.dropped_unclaimed, 1u);
  EXPECT_EQ(hs.acked, 0u);
  EXPECT_OK(calls.close(a));
}

TEST_F(SignalHub, MessageOverTheSizeLimitIsRefusedAndCounted) {
  hub = spawn_signal_hub(rt.system(), signal_hub_spec{100});
  channel_calls b_in{rt.system()};
  auto a = hub_channel(rt.system(), hub, "a");
  auto b = hub_channel(rt.system(), hub, "b");
  ASSERT_OK(b_in.subscribe(b, hub_topic_of("b"), b_in.me()));

  auto err = calls.publish(a, hub_topic_of("b"), std::string(101, 'x'));
  EXPECT_ERRC(err, errc::message_too_large);
  EXPECT_NE(what_of(err).find("101 bytes"), std::string::npos) << render(err);
  EXPECT_OK(calls.publish(a, hub_topic_of("b"), std::string(100, 'y')));
  auto m = b_in.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data.size(), 100u);
  EXPECT_EQ(calls.stats(a).dropped_oversized, 1u);
  EXPECT_EQ(stats_of_hub().dropped_oversized, 1u);
  EXPECT_OK(calls.close(a));
  EXPECT_OK(calls.close(b));
}

TEST_F(SignalHub, WildcardSubscriptionMatchesEveryNode) {
  auto a = hub_channel(rt.system(), hub, "a");
  auto watcher = hub_channel(rt.system(), hub, "watcher");
  ASSERT_OK(calls.subscribe(watcher, std::string{default_signal_prefix} + "/+", calls.me()));
  EXPECT_OK(calls.publish(a, hub_topic_of("x"), "1"));
  EXPECT_OK(calls.publish(a, hub_topic_of("y"), "2"));
  EXPECT_EQ(calls.distinct(2), (std::set<std::string>{"1", "2"}));
  EXPECT_OK(calls.close(a));
  EXPECT_OK(calls.close(watcher));
}

TEST_F(SignalHub, SubscriberThatTerminatedIsForgotten) {
  auto a = hub_channel(rt.system(), hub, "a");
  auto b = hub_channel(rt.system(), hub, "b");
  {
    channel_calls gone{rt.system()};
    ASSERT_OK(gone.subscribe(b, hub_topic_of("b"), gone.me()));
  }
  // `b` learns of the end through a monitor and then leaves the hub; from
  // then on the hub finds nobody for the topic and says so to `a`.
  uint64_t dropped = 0;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (dropped == 0 && std::chrono::steady_clock::now() < deadline) {
    EXPECT_OK(calls.publish(a, hub_topic_of("b"), "anyone?"));
    dropped = calls.stats(a).dropped_unclaimed;
  }
  EXPECT_GT(dropped, 0u);
  EXPECT_OK(calls.close(a));
  EXPECT_OK(calls.close(b));
}

TEST_F(SignalHub, ClosedChannelRefusesPublishes) {
  auto a = hub_channel(rt.system(), hub, "a");
  EXPECT_OK(calls.close(a));
  auto err = calls.publish(a, hub_topic_of("b"), "late", 2s);
  EXPECT_TRUE(err);
}
