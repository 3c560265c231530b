#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/values.hpp"

#include "transports.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

// Waits until a subscriber has seen `n` messages: the pipe has handled them.
void await_msgs(caf::scoped_actor& sub, int n) {
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(next<pipe_msg>(sub));
}

class PipeQueue : public on_transport {};

} // namespace

TEST_P(PipeQueue, FullQueueDropsTheOldestAndCountsIt) {
  caf::scoped_actor sub{rt.system()};
  net_conf conf;
  conf.max_qsize = 2;
  auto server = listen(udp, any_port("127.0.0.1"), {}, conf);
  ASSERT_OK(server);
  EXPECT_OK(server->subscribe(as_actor(sub), events::msgs));
  auto client = connect(udp, server->local());
  ASSERT_OK(client);
  for (auto m : {"1", "2", "3"})
    EXPECT_OK(client->send(m));
  await_msgs(sub, 3);
  auto first = server->recv();
  auto second = server->recv();
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(to_string(first->data), "2");
  EXPECT_EQ(to_string(second->data), "3");
  EXPECT_ERRC(server->recv(50ms), errc::recv_timeout);
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->dropped_queue_full, 1u);
}

TEST_P(PipeQueue, RecvFiltersByPatternAndBySender) {
  auto server = listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  auto a = connect(udp, server->local());
  auto b = connect(udp, server->local());
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_OK(a->send("apple from a"));
  EXPECT_OK(b->send("banana from b"));
  auto banana = server->recv(5s, msg_filter::contains("banana"));
  ASSERT_OK(banana);
  EXPECT_EQ(banana->from.port, b->local().port);
  auto from_a = server->recv(5s, msg_filter::sender(seen_from(*a)));
  ASSERT_OK(from_a);
  EXPECT_EQ(to_string(from_a->data), "apple from a");
}

TEST(PipeQueueFilter, SenderFilterWithPortZeroMatchesAnyPort) {
  msg_filter f = msg_filter::sender(*endpoint::parse("127.0.0.1:0"));
  auto data = std::string{"x"};
  EXPECT_TRUE(f.matches(data.data(), data.size(), *endpoint::parse("127.0.0.1:4000")));
  EXPECT_FALSE(f.matches(data.data(), data.size(), *endpoint::parse("127.0.0.2:4000")));
}

TEST_P(PipeQueue, RepeatedMessagesAreDroppedWithMsgIds) {
  caf::scoped_actor sub{rt.system()};
  net_conf conf;
  conf.enable_msg_ids = true;
  auto server = listen(udp, any_port("127.0.0.1"), {}, conf);
  ASSERT_OK(server);
  auto client = connect(udp, server->local());
  ASSERT_OK(client);
  for (auto m : {"same", "same", "other"})
    EXPECT_OK(client->send(m));
  auto one = server->recv();
  auto two = server->recv();
  ASSERT_OK(one);
  ASSERT_OK(two);
  EXPECT_EQ(to_string(one->data), "same");
  EXPECT_EQ(to_string(two->data), "other");
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->dropped_duplicate, 1u);
}

TEST_P(PipeQueue, NamedQueueCollectsOnlyItsMessages) {
  auto server = listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  caf::scoped_actor self{rt.system()};
  uint64_t id = 0;
  self->request(server->handle(), 5s, queue_atom::value, msg_filter::contains("keep"))
    .receive([&](uint64_t x) { id = x; }, [](caf::error&) {});
  ASSERT_NE(id, 0u);
  auto client = connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("drop me"));
  EXPECT_OK(client->send("keep me"));
  std::string got;
  self->request(server->handle(), 5s, recv_atom::value, id, caf::timespan{2s})
    .receive([&](pipe_msg& m) { got = to_string(m.data); }, [](caf::error&) {});
  EXPECT_EQ(got, "keep me");
  caf::error removed;
  self->request(server->handle(), 5s, caf::unsubscribe_atom::value, id)
    .receive([](caf::ok_atom) {}, [&](caf::error& e) { removed = e; });
  EXPECT_OK(removed);
}

TEST_P(PipeQueue, MessagesWithNoTakerAreCounted) {
  caf::scoped_actor sub{rt.system()};
  // A message subscriber at open means no default queue; switched to error
  // reports only, nothing takes messages any more.
  auto spec = server_spec(udp, any_port("127.0.0.1"));
  spec.conf.reader_limit = 64;
  spec.subscribers.push_back({as_actor(sub), events::msgs});
  auto server = open(spec);
  ASSERT_OK(server);
  EXPECT_OK(server->subscribe(as_actor(sub), events::errors));
  auto client = connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("nobody wants me"));
  // The pipe reports an oversized datagram after handling the one before it.
  EXPECT_OK(client->send(std::string(100, 'x')));
  ASSERT_TRUE(next<pipe_error>(sub));
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->dropped_unclaimed, 1u);
}

TEST_P(PipeQueue, UnsubscribedActorGetsNothingMore) {
  caf::scoped_actor sub{rt.system()};
  auto server = listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  EXPECT_OK(server->subscribe(as_actor(sub), events::msgs));
  auto client = connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("one"));
  ASSERT_TRUE(next<pipe_msg>(sub));
  EXPECT_OK(server->unsubscribe(as_actor(sub)));
  EXPECT_OK(client->send("two"));
  ASSERT_OK(server->recv(5s, msg_filter::contains("two"))); // the pipe has it ...
  EXPECT_FALSE(next<pipe_msg>(sub, 50ms));                 // ... the actor does not
}

TEST_P(PipeQueue, MaxMsgIdsForgetsTheOldestId) {
  net_conf conf;
  conf.enable_msg_ids = true;
  conf.max_msg_ids = 1;
  auto server = listen(udp, any_port("127.0.0.1"), {}, conf);
  ASSERT_OK(server);
  auto client = connect(udp, server->local());
  ASSERT_OK(client);
  for (auto m : {"a", "b", "a"}) // "a" is forgotten once "b" is remembered
    EXPECT_OK(client->send(m));
  for (auto m : {"a", "b", "a"}) {
    auto got = server->recv();
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), m);
  }
}

TEST_P(PipeQueue, UdpServerTracksAtMostMaxClientsSenders) {
  net_conf conf;
  conf.max_clients = 1;
  auto server = listen(udp, any_port("127.0.0.1"), {}, conf);
  ASSERT_OK(server);
  auto a = connect(udp, server->local());
  auto b = connect(udp, server->local());
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_OK(a->send("a"));
  ASSERT_OK(server->recv());
  EXPECT_OK(b->send("b"));
  ASSERT_OK(server->recv());
  auto clients = server->clients();
  ASSERT_OK(clients);
  ASSERT_EQ(clients->size(), 1u);
  EXPECT_EQ(clients->front().port, b->local().port); // the newest replaced the oldest
}

namespace {

// A UDP server and a client of it, for the pattern filter tests.
class PipeQueueRegex : public on_transport {
protected:
  void SetUp() override {
    auto s = listen(udp, any_port("127.0.0.1"));
    ASSERT_OK(s);
    server = *s;
    auto c = connect(udp, server->local());
    ASSERT_OK(c);
    client = *c;
  }

  std::optional<p2pd::pipe_handle> server;
  std::optional<p2pd::pipe_handle> client;
};

} // namespace

TEST_P(PipeQueueRegex, RegexFilterTakesOnlyMatchingMessages) {
  for (auto m : {"PING 12", "ping", "PONG 7", "PING x"})
    EXPECT_OK(client->send(m));
  auto f = msg_filter::regex(R"(^P[IO]NG \d+$)");
  auto first = server->recv(5s, f);
  auto second = server->recv(5s, f);
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(to_string(first->data), "PING 12");
  EXPECT_EQ(to_string(second->data), "PONG 7");
  EXPECT_ERRC(server->recv(100ms, f), errc::recv_timeout);
}

TEST_P(PipeQueueRegex, RegexFilterMatchesBinaryBytesOneByOne) {
  EXPECT_OK(client->send(std::string("\x00\xff\x01", 3))); // not UTF-8
  EXPECT_OK(client->send(std::string("\x00\x01", 2)));
  auto got = server->recv(5s, msg_filter::regex(R"(\x00\xff)"));
  ASSERT_OK(got);
  EXPECT_EQ(got->data.size(), 3u);
}

TEST_P(PipeQueueRegex, RegexWithASenderTakesOnlyThatSendersMatches) {
  auto a = connect(udp, server->local());
  auto b = connect(udp, server->local());
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_OK(b->send("hello from b"));
  EXPECT_OK(a->send("bye from a"));
  EXPECT_OK(a->send("hello from a"));
  auto got = server->recv(5s, msg_filter::regex_from("^hello", seen_from(*a)));
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "hello from a");
}

TEST_P(PipeQueueRegex, AnInvalidRegexIsRefusedWhenAskedFor) {
  auto got = server->recv(5s, msg_filter::regex("(unclosed"));
  ASSERT_FALSE(got);
  EXPECT_ERRC(got, errc::invalid_argument);
  EXPECT_NE(what_of(got.error()).find("not a valid RE2 expression"), std::string::npos)
    << render(got.error());
  // Backreferences are not RE2 (they would make matching exponential).
  EXPECT_ERRC(server->recv(5s, msg_filter::regex(R"((a)\1)")), errc::invalid_argument);
  EXPECT_ERRC(server->recv(5s, msg_filter::regex(std::string(5000, 'a'))),
              errc::invalid_argument);
}

TEST_P(PipeQueueRegex, AShortRegexWhoseProgramIsTooLargeIsRefused) {
  // 160 characters, but twenty counted repeats of a thousand compile to a
  // program above the 1 MiB RE2 may use: refused when asked for, so no
  // message is ever matched against it.
  std::string re;
  for (int i = 0; i < 20; ++i)
    re += R"(\w{1000})";
  auto got = server->recv(5s, msg_filter::regex(re));
  ASSERT_FALSE(got);
  EXPECT_ERRC(got, errc::invalid_argument);
  EXPECT_NE(what_of(got.error()).find("pattern too large"), std::string::npos)
    << render(got.error());
}

TEST_P(PipeQueueRegex, AskWithAnInvalidRegexSendsNothing) {
  auto got = client->ask("question", msg_filter::regex("[z-a]"));
  ASSERT_FALSE(got);
  EXPECT_ERRC(got, errc::invalid_argument);
  EXPECT_ERRC(server->recv(200ms), errc::recv_timeout);
}

TEST_P(PipeQueueRegex, ARegexThatWouldBacktrackExponentiallyStaysLinear) {
  // (a+)+$ against "aaaa...b" takes exponential time with a backtracking
  // engine; RE2 answers at once whatever the length.
  EXPECT_OK(client->send(std::string(60000, 'a') + "b"));
  EXPECT_OK(client->send("aaa"));
  auto got = server->recv(5s, msg_filter::regex("^(a+)+$"));
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "aaa");
}

INSTANTIATE_TEST_SUITE_P(Transports, PipeQueue, transports());
INSTANTIATE_TEST_SUITE_P(Transports, PipeQueueRegex, transports());
