// Signalling nodes through real mosquitto brokers that the tests start on
// free loopback ports (skipped when mosquitto is not installed).
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "support/mosquitto_fixture.hpp"
#include "actors/signal/node/signal_node_test_util.hpp"
#include "support/temp_dir.hpp"

#include "p2pd/api/runtime.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class SignalNodeMqtt : public ::testing::Test {
protected:
  void TearDown() override {
    node_calls calls{rt.system()};
    for (auto& n : nodes)
      calls.close(n);
  }

  /// Starts `count` brokers; skips the test when mosquitto is not installed.
  void start_brokers(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      std::string why;
      auto b = mosquitto_broker::start(why);
      if (!b && not_installed(why))
        GTEST_SKIP() << why;
      ASSERT_TRUE(b) << why;
      brokers.push_back(std::move(b));
    }
  }

  // Short backoffs and timeouts: every wait here is bounded.
  signal_node_spec spec_for(const std::string& name) {
    signal_node_spec s;
    s.data_dir = dir.path() + "/" + name;
    for (auto& b : brokers)
      s.brokers.push_back(b->uri());
    s.mqtt.keep_alive = 5s;
    s.mqtt.connect_timeout = 2s;
    s.mqtt.backoff_min = 20ms;
    s.mqtt.backoff_max = 100ms;
    s.mqtt.ack_timeout = 10s;
    return s;
  }

  /// Nodes named `names`, spawned together, each listening on every broker
  /// when this returns. Together:
  /// a paho client that connects while another one of the process sits idle
  /// waits up to a second per step (paho's receive thread polls its sockets
  /// once a second), so nodes started one after the other take ~2 s each.
  std::vector<signal_node_actor> start_all(const std::vector<std::string>& names) {
    std::vector<signal_node_actor> out;
    for (auto& name : names) {
      auto n = spawn_signal_node(rt.system(), spec_for(name));
      EXPECT_OK(n);
      if (!n)
        return {};
      nodes.push_back(*n);
      out.push_back(*n);
    }
    node_calls calls{rt.system()};
    for (auto& n : out)
      calls.self()
        ->request(n, 20s, online_atom::value, uint32_t{0})
        .receive([](caf::ok_atom) {}, [](caf::error& err) { ADD_FAILURE() << render(err); });
    return out;
  }

  /// A file of `size` bytes in the test's directory, written once.
  std::string filler_file(size_t size) {
    auto file = dir.path() + "/big-" + std::to_string(size);
    if (::access(file.c_str(), F_OK) == 0)
      return file;
    FILE* f = ::fopen(file.c_str(), "wb");
    EXPECT_NE(f, nullptr) << file;
    if (!f)
      return file;
    std::string chunk(64 * 1024, 'z');
    for (size_t left = size; left > 0;) {
      auto n = std::min(left, chunk.size());
      EXPECT_EQ(::fwrite(chunk.data(), 1, n, f), n);
      left -= n;
    }
    ::fclose(f);
    return file;
  }

  /// Publishes a file's bytes to `topic` on the first broker at QoS 1 with
  /// mosquitto_pub: a client no one here wrote.
  void publish_from_outside(const std::string& topic, const std::string& file) {
    std::string cmd = mosquitto_pub_path() + " -h 127.0.0.1 -p "
                      + std::to_string(brokers[0]->port()) + " -q 1 -t '" + topic
                      + "' -f '" + file + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  runtime rt;
  temp_dir dir;
  std::vector<std::unique_ptr<mosquitto_broker>> brokers;
  std::vector<signal_node_actor> nodes;
};

} // namespace

TEST_F(SignalNodeMqtt, TwoNodesExchangeMessagesThroughOneBroker) {
  start_brokers(1);
  auto ab = start_all({"a", "b"});
  ASSERT_EQ(ab.size(), 2u);
  auto a = ab[0];
  auto b = ab[1];
  node_calls at_a{rt.system()};
  node_calls at_b{rt.system()};
  ASSERT_FALSE(at_a.subscribe(a));
  ASSERT_FALSE(at_b.subscribe(b));
  auto ia = at_a.info(a);
  auto ib = at_b.info(b);
  auto id = at_a.send(a, ib.keys, "over mqtt");
  ASSERT_OK(id);
  auto m = at_b.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->plaintext), "over mqtt");
  EXPECT_EQ(m->sender, ia.id);
  EXPECT_EQ(m->id, *id);
  EXPECT_EQ(m->channel, brokers[0]->uri());
  ASSERT_TRUE(at_b.send(b, m->sender_keys, "and back"));
  auto r = at_a.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(to_string(r->plaintext), "and back");
  EXPECT_EQ(at_a.stats(a).channels_listening, 1u);
}

// Every message goes out on both brokers; each node delivers it once and
// counts the other copy as a duplicate.
TEST_F(SignalNodeMqtt, ThreeNodesThroughTwoBrokersGetEachMessageExactlyOnce) {
  start_brokers(2);
  std::vector<std::string> names{"a", "b", "c"};
  std::vector<std::unique_ptr<node_calls>> in;
  std::vector<signal_node_info> info;
  auto n = start_all(names);
  ASSERT_EQ(n.size(), names.size());
  for (auto& node : n) {
    in.push_back(std::make_unique<node_calls>(rt.system()));
    ASSERT_FALSE(in.back()->subscribe(node));
    info.push_back(in.back()->info(node));
    EXPECT_EQ(in.back()->stats(node).channels_listening, 2u);
  }
  for (size_t i = 0; i < n.size(); ++i)
    for (size_t j = 0; j < n.size(); ++j)
      if (i != j) {
        auto id = in[i]->send(n[i], info[j].keys, names[i] + ">" + names[j]);
        EXPECT_OK(id);
      }
  for (size_t j = 0; j < n.size(); ++j) {
    auto got = in[j]->texts(2);
    std::set<std::string> want;
    for (size_t i = 0; i < n.size(); ++i)
      if (i != j)
        want.insert(names[i] + ">" + names[j]);
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want) << "at " << names[j];
    // Both second copies come in; none of them reaches the subscriber.
    std::vector<signal_message> extra;
    signal_node_stats last;
    EXPECT_TRUE(in[j]->wait_stats(
      n[j], [](const signal_node_stats& s) { return s.duplicates == 2; }, extra, 10s, &last))
      << "duplicates at " << names[j] << ": " << last.duplicates;
    EXPECT_TRUE(extra.empty()) << extra.size() << " extra deliveries at " << names[j];
    EXPECT_EQ(last.delivered, 2u);
    EXPECT_EQ(last.refused(), 0u);
  }
}

// A broker goes down between sends and comes back: the other broker carries
// everything meanwhile, the channel of the one that was down resends what it
// held once it is back, and the receiver delivers every message once.
TEST_F(SignalNodeMqtt, BrokerStoppedMidExchangeAndRestartedLosesAndRepeatsNothing) {
  start_brokers(2);
  auto ab = start_all({"a", "b"});
  ASSERT_EQ(ab.size(), 2u);
  auto a = ab[0];
  auto b = ab[1];
  node_calls calls{rt.system()};
  node_calls at_b{rt.system()};
  ASSERT_FALSE(at_b.subscribe(b));
  auto ib = calls.info(b);
  constexpr size_t total = 30;
  std::vector<std::string> got;
  auto send_range = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      auto id = calls.send(a, ib.keys, "m" + std::to_string(i));
      EXPECT_OK(id) << "m" << i;
    }
  };
  send_range(0, 10);
  brokers[0]->stop();
  send_range(10, 20);
  std::string why;
  ASSERT_TRUE(brokers[0]->restart(why)) << why;
  send_range(20, total);
  auto arrived = at_b.texts(total, 20s);
  got.insert(got.end(), arrived.begin(), arrived.end());
  // Until the sender's channels answered every publish (the restarted
  // broker's resends included), copies may still be on their way.
  std::vector<signal_message> extra;
  EXPECT_TRUE(at_b.wait_stats(
    a, [](const signal_node_stats& s) { return s.pending_sends == 0; }, extra, 20s));
  // Then copies that are still travelling get a moment to show up.
  while (auto m = at_b.next(300ms))
    extra.push_back(std::move(*m));
  for (auto& m : extra)
    got.push_back(to_string(m.plaintext));
  auto counts = count_texts(got);
  EXPECT_EQ(counts.size(), total);
  for (size_t i = 0; i < total; ++i)
    EXPECT_EQ(counts["m" + std::to_string(i)], 1) << "m" << i;
  auto sb = calls.stats(b);
  EXPECT_EQ(sb.delivered, total);
  EXPECT_EQ(sb.refused(), 0u);
  EXPECT_EQ(calls.stats(a).sent, total);
}

TEST_F(SignalNodeMqtt, WithTwoBrokersAndOneKilledSendsKeepSucceeding) {
  start_brokers(2);
  auto ab = start_all({"a", "b"});
  ASSERT_EQ(ab.size(), 2u);
  auto a = ab[0];
  auto b = ab[1];
  node_calls calls{rt.system()};
  node_calls at_b{rt.system()};
  ASSERT_FALSE(at_b.subscribe(b));
  auto ib = calls.info(b);
  brokers[1]->kill();
  constexpr size_t sends = 10;
  for (size_t i = 0; i < sends; ++i) {
    auto id = calls.send(a, ib.keys, "k" + std::to_string(i), 1, 5s);
    EXPECT_OK(id) << "k" << i;
  }
  auto got = at_b.texts(sends);
  EXPECT_EQ(got.size(), sends);
  for (auto& [text, times] : count_texts(got))
    EXPECT_EQ(times, 1) << text;
  auto sa = calls.stats(a);
  EXPECT_EQ(sa.sent, sends);
  EXPECT_EQ(sa.send_failed, 0u);
}

// mosquitto_sub, a client no one here wrote, subscribes to every node's
// topic: what it sees is the recipient's id in the topic and ciphertext.
TEST_F(SignalNodeMqtt, OutsideSubscriberSeesOnlyCiphertext) {
  start_brokers(1);
  if (mosquitto_sub_path().empty())
    GTEST_SKIP() << "not installed: mosquitto_sub (Debian package mosquitto-clients)";
  auto ab = start_all({"a", "b"});
  ASSERT_EQ(ab.size(), 2u);
  auto a = ab[0];
  auto b = ab[1];
  node_calls calls{rt.system()};
  auto ib = calls.info(b);
  const std::string marker = "MARKER-plaintext-7f3a9c";
  std::string cmd = mosquitto_sub_path() + " -h 127.0.0.1 -p "
                    + std::to_string(brokers[0]->port()) + " -t 'p2pd/v1/#' -C 1 -W 5 -v";
  FILE* sub = ::popen(cmd.c_str(), "r");
  ASSERT_NE(sub, nullptr) << cmd;
  // mosquitto_sub says nothing when its subscription is in place: send
  // until it prints the first message it got (it exits after one), waiting
  // on its output at most 100 ms between sends.
  std::string out;
  pollfd pfd{::fileno(sub), POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + 6s;
  bool eof = false;
  while (!eof && std::chrono::steady_clock::now() < deadline) {
    if (out.empty()) {
      EXPECT_TRUE(calls.send(a, ib.keys, marker));
    }
    if (::poll(&pfd, 1, 100) <= 0)
      continue;
    char buf[4096];
    auto n = ::read(pfd.fd, buf, sizeof(buf));
    if (n <= 0)
      eof = true;
    else
      out.append(buf, static_cast<size_t>(n));
  }
  int status = ::pclose(sub);
  ASSERT_FALSE(out.empty()) << "mosquitto_sub printed nothing (exit status " << status << ")";
  EXPECT_EQ(out.rfind("p2pd/v1/" + ib.id + " ", 0), 0u) << out.substr(0, 80);
  EXPECT_EQ(out.find(marker), std::string::npos);
  EXPECT_GT(out.size(), 100u); // an envelope: keys, signature, ciphertext
}

// Messages over the node's size limit, published by a client no one here
// wrote: each is dropped unread by the channel and shows in the node's own
// counters as too_large; the node keeps working.
TEST_F(SignalNodeMqtt, OversizedMessagesFromOutsideAreCountedOrNeverSent) {
  // 64 KiB + 1 fits the Maximum Packet Size the channel announces and is
  // counted as too_large; 1 MB and 10 MB do not, and the broker drops them
  // unsent: the node never reads them, and a genuine message still comes.
  start_brokers(1);
  if (mosquitto_pub_path().empty())
    GTEST_SKIP() << "not installed: mosquitto_pub (Debian package mosquitto-clients)";
  auto ab = start_all({"a", "b"});
  ASSERT_EQ(ab.size(), 2u);
  auto a = ab[0];
  auto b = ab[1];
  node_calls calls{rt.system()};
  ASSERT_FALSE(calls.subscribe(b));
  auto ib = calls.info(b);
  for (size_t size : {size_t{64 * 1024 + 1}, size_t{1'000'000}, size_t{10'000'000}})
    ASSERT_NO_FATAL_FAILURE(publish_from_outside(ib.topic, filler_file(size)));
  // A genuine message published after them arrives after them.
  ASSERT_TRUE(calls.send(a, ib.keys, "still here"));
  auto m = calls.next(10s);
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->plaintext), "still here");
  auto st = calls.stats(b);
  EXPECT_EQ(st.too_large, 1u);
  EXPECT_EQ(st.refused(), 1u);
  EXPECT_EQ(st.delivered, 1u);
}

// Anyone may publish to a node's topic. mosquitto 2.0.11 keeps a QoS 1
// packet it dropped for the channel's Maximum Packet Size in flight, and
// after 20 of them it delivered nothing more to that client: the channels
// receive at QoS 0, so 25 such publishes leave the node listening.
TEST_F(SignalNodeMqtt, ManyOversizedPublishesFromOutsideDoNotSilenceTheNode) {
  start_brokers(1);
  if (mosquitto_pub_path().empty())
    GTEST_SKIP() << "not installed: mosquitto_pub (Debian package mosquitto-clients)";
  auto ab = start_all({"a", "b"});
  ASSERT_EQ(ab.size(), 2u);
  auto a = ab[0];
  auto b = ab[1];
  node_calls calls{rt.system()};
  ASSERT_FALSE(calls.subscribe(b));
  auto ib = calls.info(b);
  auto big = filler_file(1'000'000);
  for (int i = 0; i < 25; ++i)
    ASSERT_NO_FATAL_FAILURE(publish_from_outside(ib.topic, big));
  ASSERT_TRUE(calls.send(a, ib.keys, "still listening"));
  auto m = calls.next(10s);
  ASSERT_TRUE(m) << "the node received nothing after the oversized publishes";
  EXPECT_EQ(to_string(m->plaintext), "still listening");
  auto st = calls.stats(b);
  EXPECT_EQ(st.too_large, 0u) << "an oversized packet reached the node";
  EXPECT_EQ(st.delivered, 1u);
}
