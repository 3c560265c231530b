// MQTT signalling channels against a mosquitto the test starts on a free
// loopback port.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/mosquitto_fixture.hpp"
#include "actors/signal/signal_test_util.hpp"

#include "p2pd/api/runtime.hpp"
#include "p2pd/actors/signal/mqtt/mqtt_channel.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class MqttChannel : public ::testing::Test {
protected:
  void SetUp() override { start_broker(); }

  void start_broker() {
    std::string why;
    broker = mosquitto_broker::start(why);
    if (!broker && not_installed(why))
      GTEST_SKIP() << why;
    ASSERT_TRUE(broker) << why;
  }

  void TearDown() override {
    channel_calls calls{rt.system()};
    for (auto& ch : channels)
      calls.close(ch);
  }

  // Short backoffs and timeouts: every wait in these tests is bounded.
  mqtt_channel_spec spec_for(const std::string& name, std::vector<std::string> topics) {
    mqtt_channel_spec s;
    s.broker_uri = broker->uri();
    s.name = name;
    s.client_id = "p2pd-test-" + name;
    s.topics = std::move(topics);
    s.keep_alive = 5s;
    s.connect_timeout = 5s; // paho checks it only every 3 s: no tighter
    s.backoff_min = 20ms;
    s.backoff_max = 100ms;
    s.ack_timeout = 10s;
    return s;
  }

  signal_channel_actor open(mqtt_channel_spec s) {
    auto ch = spawn_mqtt_channel(rt.system(), std::move(s));
    EXPECT_OK(ch);
    if (!ch)
      return {};
    channels.push_back(*ch);
    return *ch;
  }

  runtime rt;
  std::unique_ptr<mosquitto_broker> broker;
  std::vector<signal_channel_actor> channels;
};

std::string topic_of(const std::string& node) {
  return signal_topic("node-" + node, "p2pd-test/v1");
}

// A publish made by an actor of its own, so that the test can ask whether
// the answer has come without waiting for it.
struct probe_state {
  bool answered = false;
  caf::error err;
};

caf::behavior probe(caf::stateful_actor<probe_state>* self, signal_channel_actor ch,
                    std::string topic, std::string data) {
  self->request(ch, 10s, caf::publish_atom::value, std::move(topic), to_bytes(data))
    .then([self](caf::ok_atom) { self->state.answered = true; },
          [self](caf::error& err) {
            self->state.answered = true;
            self->state.err = std::move(err);
          });
  return {
    [self](caf::get_atom) {
      return caf::make_message(self->state.answered, self->state.err);
    },
  };
}

} // namespace

TEST_F(MqttChannel, TwoChannelsExchangeMessagesBothWays) {
  channel_calls a_in{rt.system()};
  channel_calls b_in{rt.system()};
  auto a = open(spec_for("a", {topic_of("a")}));
  auto b = open(spec_for("b", {topic_of("b")}));
  ASSERT_OK(a_in.subscribe(a, topic_of("a"), a_in.me()));
  ASSERT_OK(b_in.subscribe(b, topic_of("b"), b_in.me()));

  EXPECT_OK(a_in.publish(a, topic_of("b"), "hello b"));
  EXPECT_OK(b_in.publish(b, topic_of("a"), "hello a"));

  auto at_b = b_in.next();
  ASSERT_TRUE(at_b);
  EXPECT_EQ(to_string(at_b->data), "hello b");
  EXPECT_EQ(at_b->topic, topic_of("b"));
  EXPECT_EQ(at_b->channel, "b");
  auto at_a = a_in.next();
  ASSERT_TRUE(at_a);
  EXPECT_EQ(to_string(at_a->data), "hello a");

  auto sa = a_in.stats(a);
  EXPECT_TRUE(sa.connected);
  EXPECT_EQ(sa.published, 1u);
  EXPECT_EQ(sa.acked, 1u);
  EXPECT_EQ(sa.received, 1u);
  EXPECT_EQ(sa.outbox, 0u);
  EXPECT_EQ(sa.reconnects, 0u);
}

TEST_F(MqttChannel, PublishIsAnsweredOnlyAfterTheBrokerAcknowledged) {
  channel_calls calls{rt.system()};
  auto a = open(spec_for("a", {topic_of("a")}));
  ASSERT_OK(calls.subscribe(a, topic_of("a"), calls.me()));

  // A stopped broker keeps its socket: the PUBLISH is sent, no PUBACK comes.
  broker->pause();
  auto p = rt.system().spawn(probe, a, topic_of("a"), std::string{"held"});
  ASSERT_TRUE(calls.wait_stats(a, [](const signal_stats& s) { return s.published == 1; }));
  // The channel handled the publish before this stats request: had it
  // answered then, the answer would be ahead of this question in the
  // probe's mailbox.
  bool answered = true;
  calls.self()->request(p, 5s, caf::get_atom::value)
    .receive([&](bool x, caf::error&) { answered = x; },
             [&](caf::error& err) { ADD_FAILURE() << render(err); });
  EXPECT_FALSE(answered) << "the publish was answered before the broker acknowledged it";
  EXPECT_EQ(calls.stats(a).acked, 0u);

  broker->resume();
  // Once the channel counts the PUBACK it has answered the probe: that
  // answer is ahead of the question below in the probe's mailbox.
  ASSERT_TRUE(calls.wait_stats(a, [](const signal_stats& s) { return s.acked == 1; }));
  caf::error result;
  answered = false;
  calls.self()->request(p, 5s, caf::get_atom::value)
    .receive(
      [&](bool x, caf::error& err) {
        answered = x;
        result = std::move(err);
      },
      [&](caf::error& err) { ADD_FAILURE() << render(err); });
  ASSERT_TRUE(answered);
  EXPECT_OK(result);
  EXPECT_EQ(calls.stats(a).acked, 1u);
  auto m = calls.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->data), "held");
  caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
}

TEST_F(MqttChannel, ThreeClientsReachEachOther) {
  std::vector<std::string> names{"a", "b", "c"};
  std::vector<std::unique_ptr<channel_calls>> in;
  std::vector<signal_channel_actor> ch;
  for (auto& n : names) {
    in.push_back(std::make_unique<channel_calls>(rt.system()));
    ch.push_back(open(spec_for(n, {topic_of(n)})));
  }
  for (size_t i = 0; i < names.size(); ++i)
    ASSERT_OK(in[i]->subscribe(ch[i], topic_of(names[i]), in[i]->me()));
  expect_all_reach_each_other(in, ch, names, topic_of);
}

TEST_F(MqttChannel, MessageOverTheSizeLimitIsRefusedAndCounted) {
  channel_calls calls{rt.system()};
  auto s = spec_for("a", {topic_of("a")});
  s.max_message_size = 1024;
  auto a = open(s);
  ASSERT_OK(calls.subscribe(a, topic_of("a"), calls.me()));

  auto err = calls.publish(a, topic_of("a"), std::string(1025, 'x'));
  EXPECT_ERRC(err, errc::message_too_large);
  EXPECT_NE(what_of(err).find("1025 bytes"), std::string::npos) << render(err);
  EXPECT_NE(what_of(err).find("1024"), std::string::npos) << render(err);
  EXPECT_OK(calls.publish(a, topic_of("a"), std::string(1024, 'y')));

  auto m = calls.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data.size(), 1024u);
  auto st = calls.stats(a);
  EXPECT_EQ(st.dropped_oversized, 1u);
  EXPECT_EQ(st.published, 1u);
  EXPECT_EQ(st.acked, 1u);
}

TEST_F(MqttChannel, IncomingMessageOverTheSizeLimitIsDroppedAndCounted) {
  channel_calls calls{rt.system()};
  auto big = open(spec_for("big", {}));
  auto s = spec_for("small", {topic_of("small")});
  s.max_message_size = 100;
  auto small = open(s);
  ASSERT_OK(calls.subscribe(small, topic_of("small"), calls.me()));

  EXPECT_OK(calls.publish(big, topic_of("small"), std::string(101, 'x')));
  EXPECT_OK(calls.publish(big, topic_of("small"), "fits"));
  // Messages of one publisher arrive in order: first the notice that the big
  // one was dropped unread (so the receiver can count it), then the small one.
  auto notice = calls.next();
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->oversized, 101u);
  EXPECT_TRUE(notice->data.empty());
  auto m = calls.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->data), "fits");
  EXPECT_EQ(m->oversized, 0u);
  auto st = calls.stats(small);
  EXPECT_EQ(st.dropped_oversized, 1u);
  EXPECT_EQ(st.received, 1u);
}

TEST_F(MqttChannel, PacketsAboveTheAnnouncedMaximumAreDroppedByTheBroker) {
  // The receiver announces max_message_size + mqtt_packet_overhead as its
  // MQTT 5 Maximum Packet Size: a message between the two still reaches it
  // (and is counted as oversized); a larger one is never sent to it, so it
  // is neither read nor allocated here.
  channel_calls calls{rt.system()};
  auto bs = spec_for("big", {});
  bs.max_message_size = 1'000'000;
  auto big = open(bs);
  auto s = spec_for("small", {topic_of("small")});
  s.max_message_size = 100;
  auto small = open(s);
  ASSERT_OK(calls.subscribe(small, topic_of("small"), calls.me()));
  EXPECT_EQ(max_packet_size(s), 100 + mqtt_packet_overhead);

  EXPECT_OK(calls.publish(big, topic_of("small"), std::string(2000, 'x')));
  EXPECT_OK(calls.publish(big, topic_of("small"), std::string(500'000, 'y')));
  EXPECT_OK(calls.publish(big, topic_of("small"), "fits"));
  auto notice = calls.next();
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->oversized, 2000u);
  auto m = calls.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->oversized, 0u) << "the 500,000-byte packet reached the client";
  EXPECT_EQ(to_string(m->data), "fits");
  auto st = calls.stats(small);
  EXPECT_EQ(st.dropped_oversized, 1u);
  EXPECT_EQ(st.received, 1u);
}

TEST_F(MqttChannel, MessageOfTheLargestSizeOnTheLongestTopicIsDelivered) {
  // The announced Maximum Packet Size counts the whole packet, topic
  // included: a message of max_message_size bytes must reach the channel
  // whatever legal topic (up to 65,535 bytes) it came on.
  channel_calls calls{rt.system()};
  auto topic = "p2pd-test/v1/" + std::string(65535 - 13, 'n');
  ASSERT_EQ(topic.size(), 65535u);
  auto s = spec_for("long", {topic});
  s.max_message_size = 100;
  auto receiver = open(s);
  auto sender = open(spec_for("sender", {}));
  ASSERT_OK(calls.subscribe(receiver, topic, calls.me()));

  EXPECT_OK(calls.publish(sender, topic, std::string(100, 'x')));
  auto m = calls.next(10s);
  ASSERT_TRUE(m) << "the broker dropped a message of the allowed size";
  EXPECT_EQ(m->data.size(), 100u);
  EXPECT_EQ(m->oversized, 0u);
  EXPECT_EQ(m->topic, topic);
}

TEST_F(MqttChannel, ManyPacketsAboveTheAnnouncedMaximumDoNotStallDelivery) {
  // mosquitto 2.0.11 counts a QoS 1 packet it dropped for size as in flight
  // to the receiver, waiting for a PUBACK that cannot come; after
  // max_inflight_messages (20) of them it sent nothing more on that
  // connection. Receiving at QoS 0 leaves nothing in flight to wait for.
  channel_calls calls{rt.system()};
  auto bs = spec_for("big", {});
  bs.max_message_size = 1'000'000;
  auto big = open(bs);
  auto s = spec_for("small", {topic_of("small")});
  s.max_message_size = 100;
  auto small = open(s);
  ASSERT_OK(calls.subscribe(small, topic_of("small"), calls.me()));

  constexpr size_t flood = 25; // more than mosquitto's 20 in flight
  for (size_t i = 0; i < flood; ++i)
    EXPECT_OK(calls.publish(big, topic_of("small"), std::string(200'000, 'y')));
  EXPECT_OK(calls.publish(big, topic_of("small"), "after the flood"));
  auto m = calls.next(10s);
  ASSERT_TRUE(m) << "nothing reached the receiver after the oversized packets";
  EXPECT_EQ(to_string(m->data), "after the flood");
  auto st = calls.stats(small);
  EXPECT_EQ(st.dropped_oversized, 0u) << "an oversized packet reached the client";
  EXPECT_EQ(st.received, 1u);
  // The broker, not the client, dropped them: it says so for each.
  auto log = broker->log();
  size_t drops = 0;
  for (auto at = log.find("Dropping too large outgoing PUBLISH"); at != std::string::npos;
       at = log.find("Dropping too large outgoing PUBLISH", at + 1))
    ++drops;
  EXPECT_EQ(drops, flood);
}

TEST_F(MqttChannel, PublishWhileTheBrokerIsDownIsSentOnceItStarts) {
  // The channel comes up first and keeps retrying.
  broker->stop();
  channel_calls calls{rt.system()};
  auto s = spec_for("a", {topic_of("a")});
  s.subscribers.push_back(calls.me());
  auto a = open(s);
  auto p = rt.system().spawn(probe, a, topic_of("a"), std::string{"waited"});
  ASSERT_TRUE(calls.wait_stats(a, [](const signal_stats& st) { return st.outbox == 1; }));
  EXPECT_FALSE(calls.stats(a).connected);

  std::string why;
  ASSERT_TRUE(broker->restart(why)) << why;
  // The channel resubscribes before it resends, so its own subscription sees
  // the message.
  auto m = calls.next(10s);
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->data), "waited");
  signal_stats st;
  EXPECT_TRUE(calls.wait_stats(a, [](const signal_stats& x) { return x.acked == 1; }, 10s, &st));
  EXPECT_EQ(st.outbox, 0u);
  EXPECT_TRUE(st.connected);
  EXPECT_EQ(st.reconnects, 0u); // the first connection came late, it is no reconnect
  caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
}

TEST_F(MqttChannel, BrokerRestartMidExchangeLosesNoMessage) {
  // With clean sessions a broker drops a message for a topic nobody is
  // subscribed to at that moment. To check the channel and nothing else,
  // the receiver `b` resubscribes (on its own, after its backoff) before
  // the sender `a` reconnects: `a` has a backoff too long to fire during the
  // test, and is told to connect when the test wants it to.
  channel_calls a_in{rt.system()};
  channel_calls b_in{rt.system()};
  auto sa = spec_for("a", {topic_of("a")});
  sa.subscribers.push_back(a_in.me());
  sa.backoff_min = 60s;
  sa.backoff_max = 60s;
  sa.ack_timeout = 60s; // nothing expires, however slow the machine
  auto a = open(sa);
  auto sb = spec_for("b", {topic_of("b")});
  sb.subscribers.push_back(b_in.me());
  auto b = open(sb);
  auto up = [](const signal_stats& s) { return s.connected; };
  auto down = [](const signal_stats& s) { return !s.connected; };
  ASSERT_TRUE(a_in.wait_stats_connecting(a, up));
  ASSERT_TRUE(b_in.wait_stats(b, up));

  std::set<std::string> sent;
  auto msg = [](int i) { return "m" + std::to_string(i); };
  // Before: acknowledged normally.
  for (int i = 0; i < 10; ++i) {
    EXPECT_OK(a_in.publish(a, topic_of("b"), msg(i)));
    sent.insert(msg(i));
  }
  // A PUBACK says the broker has the message, not that it passed it on yet.
  auto got = b_in.distinct(sent.size());
  ASSERT_EQ(got, sent);
  // The broker hangs: these are sent and never acknowledged...
  broker->pause();
  std::vector<caf::actor> probes;
  for (int i = 10; i < 20; ++i) {
    probes.push_back(rt.system().spawn(probe, a, topic_of("b"), msg(i)));
    sent.insert(msg(i));
  }
  ASSERT_TRUE(a_in.wait_stats(a, [](const signal_stats& s) { return s.published == 20; }));
  // ... and lost when it dies.
  broker->kill();
  ASSERT_TRUE(a_in.wait_stats(a, down));
  ASSERT_TRUE(b_in.wait_stats(b, down));
  // During the outage: they wait in the outbox.
  for (int i = 20; i < 30; ++i) {
    probes.push_back(rt.system().spawn(probe, a, topic_of("b"), msg(i)));
    sent.insert(msg(i));
  }
  ASSERT_TRUE(a_in.wait_stats(a, [](const signal_stats& s) { return s.outbox == 20; }));

  std::string why;
  ASSERT_TRUE(broker->restart(why)) << why;
  signal_stats st_b;
  ASSERT_TRUE(b_in.wait_stats(
    b, [](const signal_stats& s) { return s.connected && s.reconnects >= 1; }, 10s, &st_b))
    << "b: reconnects " << st_b.reconnects;
  signal_stats st_a;
  ASSERT_TRUE(a_in.wait_stats_connecting(
    a, [](const signal_stats& s) { return s.outbox == 0 && s.connected; }, 10s, &st_a))
    << "outbox " << st_a.outbox;
  // After: normal again, both ways (`a` resubscribed too).
  for (int i = 30; i < 40; ++i) {
    EXPECT_OK(a_in.publish(a, topic_of("b"), msg(i)));
    sent.insert(msg(i));
  }
  EXPECT_OK(b_in.publish(b, topic_of("a"), "back"));

  for (auto& m : b_in.distinct(sent.size() - got.size()))
    got.insert(m);
  st_b = b_in.stats(b);
  EXPECT_EQ(got, sent) << "b: received " << st_b.received << ", reconnects "
                       << st_b.reconnects;
  auto back = a_in.next();
  ASSERT_TRUE(back);
  EXPECT_EQ(to_string(back->data), "back");
  st_a = a_in.stats(a);
  EXPECT_GE(st_a.reconnects, 1u);
  EXPECT_GE(st_a.resent, 10u); // the ten the hung broker never acknowledged
  EXPECT_EQ(st_a.acked, 40u);
  EXPECT_EQ(st_a.expired, 0u);
  for (auto& p : probes)
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
}

TEST_F(MqttChannel, FullOutboxRefusesAndCounts) {
  broker->stop();
  channel_calls calls{rt.system()};
  auto s = spec_for("a", {topic_of("a")});
  s.max_outbox = 3;
  auto a = open(s);
  std::vector<caf::actor> probes;
  for (int i = 0; i < 3; ++i)
    probes.push_back(rt.system().spawn(probe, a, topic_of("a"), std::to_string(i)));
  ASSERT_TRUE(calls.wait_stats(a, [](const signal_stats& st) { return st.outbox == 3; }));

  auto err = calls.publish(a, topic_of("a"), "one too many", 2s);
  EXPECT_ERRC(err, errc::queue_full);
  EXPECT_NE(what_of(err).find("max_outbox"), std::string::npos) << render(err);
  auto st = calls.stats(a);
  EXPECT_EQ(st.dropped_full, 1u);
  EXPECT_EQ(st.outbox, 3u);
  EXPECT_EQ(st.published, 3u);

  // Closing answers the waiting ones.
  EXPECT_OK(calls.close(a));
  for (auto& p : probes) {
    bool answered = false;
    caf::error perr;
    calls.self()->request(p, 5s, caf::get_atom::value)
      .receive(
        [&](bool x, caf::error& e) {
          answered = x;
          perr = std::move(e);
        },
        [&](caf::error& e) { ADD_FAILURE() << render(e); });
    EXPECT_TRUE(answered);
    EXPECT_ERRC(perr, errc::channel_closed);
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  }
}

TEST_F(MqttChannel, CloseWhileTheBrokerIsDownEndsPromptly) {
  broker->stop();
  channel_calls calls{rt.system()};
  auto a = open(spec_for("a", {topic_of("a")}));
  calls.self()->monitor(a);
  auto p = rt.system().spawn(probe, a, topic_of("a"), std::string{"never"});
  ASSERT_TRUE(calls.wait_stats(a, [](const signal_stats& st) { return st.outbox == 1; }));

  auto t0 = std::chrono::steady_clock::now();
  EXPECT_OK(calls.close(a, 2s));
  bool down = false;
  calls.self()->receive([&](caf::down_msg&) { down = true; }, caf::after(2s) >> [] {});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(down);
  EXPECT_LT(took, 1s);
  caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
}

TEST_F(MqttChannel, UnreferencedChannelEndsByItself) {
  // Retrying a dead broker must not keep a channel alive that nobody holds:
  // ~actor_system would wait for it forever.
  broker->stop();
  channel_calls calls{rt.system()};
  auto ch = spawn_mqtt_channel(rt.system(), spec_for("a", {topic_of("a")}));
  ASSERT_OK(ch);
  signal_channel_actor a = std::move(*ch);
  EXPECT_FALSE(calls.stats(a).connected); // it is retrying
  calls.self()->monitor(a);
  a = signal_channel_actor{};
  bool down = false;
  calls.self()->receive([&](caf::down_msg&) { down = true; }, caf::after(5s) >> [] {});
  EXPECT_TRUE(down);
}

TEST_F(MqttChannel, MosquittoSubReceivesExactlyThePublishedBytes) {
  auto sub_tool = mosquitto_sub_path();
  if (sub_tool.empty())
    GTEST_SKIP() << "not installed: mosquitto_sub (Debian package mosquitto-clients)";
  channel_calls calls{rt.system()};
  auto a = open(spec_for("a", {}));
  ASSERT_TRUE(calls.wait_stats(a, [](const signal_stats& st) { return st.connected; }));

  // mosquitto_sub prints the payload in hex (-F %x), so its output is text
  // even for binary payloads. Its stdout goes to a file, fully buffered
  // until it exits: the broker's log tells when it has subscribed.
  auto log = broker->dir() + "/sub.log";
  child_process sub;
  std::string why;
  ASSERT_TRUE(sub.start({sub_tool, "-h", "127.0.0.1", "-p", std::to_string(broker->port()),
                         "-i", "p2pd-test-sub", "-t", topic_of("x"), "-q", "1", "-C", "1",
                         "-F", "%x"},
                        log, why))
    << why;
  auto subscribed = "p2pd-test-sub 1 " + topic_of("x");
  ASSERT_TRUE(sub.wait_for_text(broker->dir() + "/mosquitto.log", subscribed, 0, 10000))
    << broker->log();

  std::string payload{"\x00\x01 signal\n\xff\xfe", 12};
  EXPECT_OK(calls.publish(a, topic_of("x"), payload));
  // mosquitto_sub -C 1 exits after the first message.
  EXPECT_TRUE(sub.wait_exit(10000)) << "mosquitto_sub got nothing: " << read_file(log);
  std::string hex;
  for (unsigned char c : payload) {
    const char* digits = "0123456789abcdef";
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  EXPECT_EQ(read_file(log), hex + "\n");
}

TEST_F(MqttChannel, SpecThatCannotWorkIsRefused) {
  auto s = spec_for("a", {});
  s.broker_uri = "ssl://127.0.0.1:8883";
  auto ch = spawn_mqtt_channel(rt.system(), s);
  ASSERT_FALSE(ch);
  EXPECT_ERRC(ch, errc::invalid_argument);
  s = spec_for("a", {"p2pd/#/x"});
  ch = spawn_mqtt_channel(rt.system(), s);
  ASSERT_FALSE(ch);
  EXPECT_NE(what_of(ch.error()).find("p2pd/#/x"), std::string::npos) << render(ch.error());
}
