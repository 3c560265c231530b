// The in-process hub's latency, jitter, loss and in-flight bound, on CAF's
// test coordinator: deliveries wait for the virtual clock, and the same seed
// gives the same run.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "caf/scheduler/test_coordinator.hpp"
#include "caf/scoped_actor.hpp"

#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/api/system_config.hpp"

using namespace std::chrono_literals;
using namespace p2pd;

namespace {

p2pd::config virtual_time_config() {
  p2pd::config cfg;
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

std::string hub_lat_topic(const std::string& node) {
  return signal_topic("node-" + node);
}

/// A hub and its channels on virtual time. Every call sends, runs the actors
/// until nothing is left to run, and reads the answer: no real waiting.
class HubLatency : public ::testing::Test {
protected:
  ~HubLatency() override {
    for (auto& ch : channels)
      caf::anon_send_exit(ch, caf::exit_reason::user_shutdown);
    channels.clear();
    hub = nullptr;
    sched.run();
    // Ticks still in the clock hold the hub: drop them, then let it end.
    sched.clock().cancel_all();
    sched.run();
  }

  void start_hub(signal_hub_spec spec) { hub = spawn_signal_hub(sys, spec); }

  /// A hub of `spec`, a sender `a` and a channel `b` whose messages go to
  /// `inbox`: what most tests need.
  void start_pair(signal_hub_spec spec) {
    start_hub(spec);
    a = sender("a");
    b = channel("b", inbox);
  }

  /// A channel named `name` whose messages on its own topic go to `inbox`.
  signal_channel_actor channel(const std::string& name, caf::scoped_actor& inbox) {
    auto ch = hub_channel(sys, hub, name);
    channels.push_back(ch);
    me->send(ch, caf::subscribe_atom::value, hub_lat_topic(name),
             caf::actor_cast<caf::actor>(inbox.ptr()));
    sched.run();
    expect_ok("subscribe " + name);
    return ch;
  }

  /// A channel that only publishes.
  signal_channel_actor sender(const std::string& name) {
    auto ch = hub_channel(sys, hub, name);
    channels.push_back(ch);
    return ch;
  }

  void publish(const signal_channel_actor& ch, const std::string& to, const std::string& data) {
    me->send(ch, caf::publish_atom::value, hub_lat_topic(to), bytes(data.begin(), data.end()));
    sched.run();
    expect_ok("publish to " + to);
  }

  void expect_ok(const std::string& what) {
    me->receive([](caf::ok_atom) {},
                [&](caf::error& err) { ADD_FAILURE() << what << ": " << sys.render(err); },
                caf::after(0s) >> [&] { ADD_FAILURE() << what << ": no answer"; });
  }

  /// What arrived at `inbox` by now (nothing waits).
  std::vector<std::string> arrived(caf::scoped_actor& inbox) {
    std::vector<std::string> out;
    for (int i = 0; i < 10'000; ++i) {
      bool got = false;
      inbox->receive(
        [&](signal_in& m) {
          got = true;
          out.emplace_back(m.data.begin(), m.data.end());
        },
        caf::after(0s) >> [] {});
      if (!got)
        break;
    }
    return out;
  }

  signal_stats hub_stats() {
    signal_stats out;
    me->send(hub, stats_atom::value);
    sched.run();
    me->receive([&](signal_stats& s) { out = std::move(s); },
                caf::after(0s) >> [] { ADD_FAILURE() << "no stats from the hub"; });
    return out;
  }

  /// Moves virtual time on by `d` and runs what became due.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    sched.run();
  }

  /// Publishes `n` numbered messages from a sender to `b`, then moves the
  /// clock 1 ms at a time for at most `steps` ms and returns the virtual
  /// millisecond at which each arrived (-1: never).
  std::vector<int> arrival_ms(signal_hub_spec spec, int n, int steps) {
    start_pair(spec);
    for (int i = 0; i < n; ++i)
      publish(a, "b", std::to_string(i));
    std::vector<int> at(n, -1);
    for (int ms = 0; ms <= steps; ++ms) {
      for (auto& m : arrived(inbox))
        at[std::stoi(m)] = ms;
      advance(1ms);
    }
    return at;
  }

  p2pd::config cfg = virtual_time_config();
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor me{sys};
  caf::scoped_actor inbox{sys};
  signal_hub_actor hub;
  std::vector<signal_channel_actor> channels;
  signal_channel_actor a;
  signal_channel_actor b;
};

} // namespace

TEST_F(HubLatency, ADeliveryWaitsForTheLatencyOnTheVirtualClock) {
  signal_hub_spec spec;
  spec.latency = 250ms;
  start_pair(spec);
  publish(a, "b", "hello");
  EXPECT_TRUE(arrived(inbox).empty()) << "delivered before the clock moved";
  EXPECT_EQ(hub_stats().outbox, 1u);
  advance(249ms);
  EXPECT_TRUE(arrived(inbox).empty()) << "delivered before 250 ms";
  advance(1ms);
  EXPECT_EQ(arrived(inbox), std::vector<std::string>{"hello"});
  auto st = hub_stats();
  EXPECT_EQ(st.outbox, 0u);
  EXPECT_EQ(st.received, 1u);
  EXPECT_EQ(st.acked, 1u);
}

TEST_F(HubLatency, ZeroLatencyDeliversAtOnceWithoutTheClock) {
  start_pair({});
  publish(a, "b", "now");
  EXPECT_EQ(arrived(inbox), std::vector<std::string>{"now"});
  auto st = hub_stats();
  EXPECT_EQ(st.received, 1u);
  EXPECT_EQ(st.outbox, 0u);
  EXPECT_EQ(st.lost, 0u);
  EXPECT_EQ(st.dropped_full, 0u);
}

TEST_F(HubLatency, OneChannelsDeliveriesKeepTheirOrderUnderJitter) {
  signal_hub_spec spec;
  spec.latency = 10ms;
  spec.jitter = 50ms;
  spec.seed = 42;
  auto at = arrival_ms(spec, 20, 100);
  for (size_t i = 0; i < at.size(); ++i) {
    EXPECT_GE(at[i], 10) << "message " << i;
    EXPECT_LE(at[i], 60) << "message " << i;
    if (i > 0) {
      EXPECT_GE(at[i], at[i - 1]) << "message " << i << " came before message " << i - 1;
    }
  }
  // The jitter spread them: not all at one time.
  EXPECT_NE(at.front(), at.back());
}

TEST_F(HubLatency, TheSameSeedGivesTheSameDeliveryTimes) {
  signal_hub_spec spec;
  spec.latency = 5ms;
  spec.jitter = 40ms;
  spec.seed = 7;
  auto first = arrival_ms(spec, 10, 60);
  // A second hub in the same world, seeded alike.
  for (auto& ch : channels)
    caf::anon_send_exit(ch, caf::exit_reason::user_shutdown);
  channels.clear();
  sched.run();
  auto again = arrival_ms(spec, 10, 60);
  EXPECT_EQ(first, again);
  for (auto ms : first)
    EXPECT_GE(ms, 5);
}

TEST_F(HubLatency, DeliveriesBeyondTheInFlightBoundAreDroppedAndCounted) {
  signal_hub_spec spec;
  spec.latency = 1s;
  spec.max_in_flight = 3;
  start_pair(spec);
  for (int i = 0; i < 5; ++i)
    publish(a, "b", std::to_string(i));
  auto st = hub_stats();
  EXPECT_EQ(st.outbox, 3u);
  EXPECT_EQ(st.dropped_full, 2u);
  EXPECT_EQ(st.published, 5u);
  advance(1s);
  EXPECT_EQ(arrived(inbox), (std::vector<std::string>{"0", "1", "2"}));
  // Room again once they went out.
  publish(a, "b", "5");
  advance(1s);
  EXPECT_EQ(arrived(inbox), std::vector<std::string>{"5"});
  st = hub_stats();
  EXPECT_EQ(st.dropped_full, 2u);
  EXPECT_EQ(st.received, 4u);
  EXPECT_EQ(st.outbox, 0u);
}

TEST_F(HubLatency, DeliveriesBeyondTheInFlightByteBoundAreDroppedAndCounted) {
  signal_hub_spec spec;
  spec.latency = 1s;
  const auto topic = hub_lat_topic("b").size();
  spec.max_in_flight_bytes = 2 * (topic + 1000); // two of the 1000-byte ones
  start_pair(spec);
  publish(a, "b", std::string(1000, 'x'));
  publish(a, "b", std::string(1000, 'y'));
  publish(a, "b", std::string(1000, 'z'));
  auto st = hub_stats();
  EXPECT_EQ(st.outbox, 2u);
  EXPECT_EQ(st.dropped_full, 1u);
  advance(1s);
  EXPECT_EQ(arrived(inbox).size(), 2u);
  // The bytes went out with them: room for two more.
  publish(a, "b", std::string(1000, 'u'));
  publish(a, "b", std::string(1000, 'v'));
  EXPECT_EQ(hub_stats().dropped_full, 1u);
  advance(1s);
  EXPECT_EQ(arrived(inbox).size(), 2u);
}

TEST_F(HubLatency, LossDropsTheDrawnShareAndCountsIt) {
  signal_hub_spec spec;
  spec.loss = 0.5;
  spec.seed = 3;
  start_pair(spec);
  for (int i = 0; i < 200; ++i)
    publish(a, "b", std::to_string(i));
  auto got = arrived(inbox);
  auto st = hub_stats();
  EXPECT_EQ(st.lost + got.size(), 200u);
  EXPECT_EQ(st.received, got.size());
  EXPECT_GT(st.lost, 60u);
  EXPECT_LT(st.lost, 140u);
  // What is not lost keeps its order.
  for (size_t i = 1; i < got.size(); ++i)
    EXPECT_LT(std::stoi(got[i - 1]), std::stoi(got[i]));
}

TEST_F(HubLatency, ADeliveryToAChannelThatEndedMeanwhileGoesNowhere) {
  signal_hub_spec spec;
  spec.latency = 100ms;
  start_pair(spec);
  publish(a, "b", "late");
  me->send(b, caf::close_atom::value);
  sched.run();
  expect_ok("close b");
  advance(100ms);
  EXPECT_TRUE(arrived(inbox).empty());
  auto st = hub_stats();
  EXPECT_EQ(st.outbox, 0u);
  EXPECT_EQ(st.received, 0u);
  EXPECT_EQ(st.dropped_unclaimed, 1u);
}
