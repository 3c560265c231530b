// A TCP server's limits on its clients: idle clients time out, a full table
// sheds its longest idle client, and with a framer only whole messages are
// delivered while half messages and garbage end the connection.

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

// Messages whose first byte is their whole length; a 0 byte is garbage.
net::result<size_t> length_byte_framer(std::string_view buffered) {
  auto n = static_cast<uint8_t>(buffered[0]);
  if (n == 0)
    return net::error{net::errc::malformed, "a message cannot be 0 bytes long"};
  return size_t{n};
}

class PipeLimits : public ::testing::TestWithParam<const char*> {
protected:
  endpoint loopback() const { return any_port(GetParam()); }

  caf::expected<p2pd::pipe_handle> listen(net_conf conf, framer_fn framer = {}) {
    auto spec = server_spec(tcp, loopback());
    spec.conf = conf;
    spec.framer = std::move(framer);
    return rt.open(std::move(spec));
  }

  pipe_stats stats_of(p2pd::pipe_handle& p) {
    auto st = p.stats();
    return st ? *st : pipe_stats{};
  }

  runtime rt;
};

} // namespace

TEST_P(PipeLimits, AFullTableResetsItsLongestIdleClientToMakeRoom) {
  net_conf conf;
  conf.max_clients = 2;
  auto server = listen(conf);
  ASSERT_OK(server);
  auto first = rt.connect(tcp, server->local());
  ASSERT_OK(first);
  EXPECT_OK(first->send("1"));
  ASSERT_OK(server->recv(5s, msg_filter::contains("1")));
  auto second = rt.connect(tcp, server->local());
  ASSERT_OK(second);
  EXPECT_OK(second->send("2"));
  ASSERT_OK(server->recv(5s, msg_filter::contains("2")));
  auto third = rt.connect(tcp, server->local());
  ASSERT_OK(third);
  EXPECT_OK(third->send("3"));
  // the newcomer is served
  ASSERT_OK(server->recv(5s, msg_filter::contains("3")));
  // the longest idle made room
  EXPECT_ERRC(first->recv(5s), errc::pipe_closed);
  EXPECT_OK(second->send("still here"));
  ASSERT_OK(server->recv(5s, msg_filter::contains("still here")));
  auto st = stats_of(*server);
  EXPECT_EQ(st.clients_shed, 1u);
  EXPECT_EQ(st.clients_accepted, 3u);
}

TEST_P(PipeLimits, NoRoomIsMadeWhenMaxClientsIsZero) {
  net_conf conf;
  conf.max_clients = 0;
  auto server = listen(conf);
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_TRUE(fd.get() >= 0);
  EXPECT_TRUE(raw_wait_closed(fd.get(), 5000ms));
  EXPECT_EQ(stats_of(*server).clients_shed, 1u);
  EXPECT_EQ(stats_of(*server).clients_accepted, 0u);
}

TEST_P(PipeLimits, AClientThatSendsNothingIsResetAfterIdleTimeout) {
  net_conf conf;
  conf.idle_timeout = 200ms;
  auto server = listen(conf);
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_TRUE(fd.get() >= 0);
  EXPECT_FALSE(raw_wait_closed(fd.get(), 100ms)) << "reset before its idle_timeout";
  EXPECT_TRUE(raw_wait_closed(fd.get(), 5000ms));
  auto st = stats_of(*server);
  EXPECT_EQ(st.clients_timed_out, 1u);
  auto clients = server->clients();
  ASSERT_OK(clients);
  EXPECT_TRUE(clients->empty());
}

TEST_P(PipeLimits, ATimedOutClientsSubscribersSeeWhy) {
  caf::scoped_actor sub{rt.system()};
  auto spec = server_spec(tcp, loopback());
  spec.conf.idle_timeout = 100ms;
  spec.subscribers.push_back({as_actor(sub), events::end});
  auto server = rt.open(std::move(spec));
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_TRUE(fd.get() >= 0);
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->whole);
  EXPECT_ERRC(end->reason, errc::idle_timeout);
}

TEST_P(PipeLimits, AClientThatKeepsSendingIsNotTimedOut) {
  net_conf conf;
  conf.idle_timeout = 300ms;
  auto server = listen(conf);
  ASSERT_OK(server);
  auto client = rt.connect(tcp, server->local());
  ASSERT_OK(client);
  for (int i = 0; i < 8; ++i) { // 800 ms in all: past two idle_timeouts
    auto text = "tick " + std::to_string(i);
    EXPECT_OK(client->send(text));
    ASSERT_OK(server->recv(5s, msg_filter::contains(text)));
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(stats_of(*server).clients_timed_out, 0u);
  auto clients = server->clients();
  ASSERT_OK(clients);
  EXPECT_EQ(clients->size(), 1u);
}

TEST_P(PipeLimits, AFramerDeliversWholeMessagesHoweverTheBytesArrive) {
  auto server = listen({}, length_byte_framer);
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_TRUE(fd.get() >= 0);
  // Two messages in one write, then one message in two writes.
  std::string one = "\x03" "ab" "\x02" "c" "\x05" "de";
  ASSERT_EQ(::send(fd.get(), one.data(), one.size(), 0), static_cast<ssize_t>(one.size()));
  auto a = server->recv();
  ASSERT_OK(a);
  EXPECT_EQ(to_string(a->data), "\x03" "ab");
  auto b = server->recv();
  ASSERT_OK(b);
  EXPECT_EQ(to_string(b->data), "\x02" "c");
  // half a message delivered
  EXPECT_ERRC(server->recv(200ms), errc::recv_timeout);
  ASSERT_EQ(::send(fd.get(), "fg", 2, 0), 2);
  auto c = server->recv();
  ASSERT_OK(c);
  EXPECT_EQ(to_string(c->data), "\x05" "defg");
}

TEST_P(PipeLimits, AMessageTrickledByteByByteIsDeliveredWhole) {
  auto server = listen({}, length_byte_framer);
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_GE(fd.get(), 0);
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::string msg(200, 'q');
  msg[0] = static_cast<char>(200);
  msg += "\x02z"; // and a second message, in the same trickle
  for (char c : msg)
    ASSERT_EQ(::send(fd.get(), &c, 1, 0), 1);
  auto a = server->recv();
  ASSERT_OK(a);
  EXPECT_EQ(to_string(a->data), msg.substr(0, 200));
  auto b = server->recv();
  ASSERT_OK(b);
  EXPECT_EQ(to_string(b->data), "\x02z");
}

TEST_P(PipeLimits, AMessageNotWholeWithinMsgDeadlineResetsTheClient) {
  net_conf conf;
  conf.msg_deadline = 200ms;
  auto server = listen(conf, length_byte_framer);
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_TRUE(fd.get() >= 0);
  ASSERT_EQ(::send(fd.get(), "\x09" "abc", 4, 0), 4);
  EXPECT_TRUE(raw_wait_closed(fd.get(), 5000ms));
  auto st = stats_of(*server);
  EXPECT_EQ(st.clients_timed_out, 1u);
  EXPECT_EQ(st.rx_msgs, 0u);
}

TEST_P(PipeLimits, MsgDeadlineCountsFromTheMessagesFirstByte) {
  // Whole messages keep coming, each sent in two halves 100 ms apart: the
  // deadline runs per message, so the client is never reset although the
  // messages take longer than it in all. (The margin per message, 500 ms,
  // is wide: a loaded machine once stretched a 100 ms pause past 300 ms.)
  net_conf conf;
  conf.msg_deadline = 600ms;
  auto server = listen(conf, length_byte_framer);
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_TRUE(fd.get() >= 0);
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(::send(fd.get(), "\x03" "x", 2, 0), 2);
    std::this_thread::sleep_for(100ms);
    ASSERT_EQ(::send(fd.get(), "y", 1, 0), 1);
    ASSERT_OK(server->recv());
  }
  EXPECT_EQ(stats_of(*server).clients_timed_out, 0u);
}

TEST_P(PipeLimits, BytesTheFramerRefusesResetTheClient) {
  auto server = listen({}, length_byte_framer);
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_TRUE(fd.get() >= 0);
  std::string garbage("\x02" "a" "\x00" "zzz", 6);
  ASSERT_EQ(::send(fd.get(), garbage.data(), garbage.size(), 0), 6);
  auto first = server->recv();
  // the message before the garbage is delivered
  ASSERT_OK(first);
  EXPECT_EQ(to_string(first->data), "\x02" "a");
  EXPECT_TRUE(raw_wait_closed(fd.get(), 5000ms));
  EXPECT_EQ(stats_of(*server).clients_malformed, 1u);
}

TEST_P(PipeLimits, AFramedMessageAboveReaderLimitResetsTheClient) {
  net_conf conf;
  conf.reader_limit = 100;
  auto server = listen(conf, length_byte_framer);
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_TRUE(fd.get() >= 0);
  ASSERT_EQ(::send(fd.get(), "\xc8" "abc", 4, 0), 4); // announces 200 bytes
  EXPECT_TRUE(raw_wait_closed(fd.get(), 5000ms));
  EXPECT_EQ(stats_of(*server).clients_malformed, 1u);
}

TEST_P(PipeLimits, AFramerThatNeverFindsABoundaryIsStoppedAtReaderLimit) {
  net_conf conf;
  conf.reader_limit = 64;
  auto server = listen(conf, [](std::string_view) -> net::result<size_t> { return size_t{0}; });
  ASSERT_OK(server);
  auto fd = raw_connect(server->local());
  ASSERT_TRUE(fd.get() >= 0);
  std::string lots(1000, 'x');
  ::send(fd.get(), lots.data(), lots.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(raw_wait_closed(fd.get(), 5000ms));
  EXPECT_EQ(stats_of(*server).clients_malformed, 1u);
}

INSTANTIATE_TEST_SUITE_P(Loopback, PipeLimits, ::testing::Values("127.0.0.1", "::1"));
