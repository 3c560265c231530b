#include <atomic>
#include <set>

#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class PipeUdp : public ::testing::TestWithParam<const char*> {
protected:
  endpoint loopback() const { return any_port(GetParam()); }
  runtime rt;
};

} // namespace

TEST_P(PipeUdp, EchoesAndReportsTheSender) {
  endpoint seen;
  auto server = rt.listen(udp, loopback(),
                          [&seen](pipe_io& io, std::string_view data, const endpoint& from) {
                            seen = from; // runs on the I/O thread, read after the reply
                            io.reply(data);
                          });
  ASSERT_OK(server);
  auto client = rt.connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("udp msg"));
  auto out = client->recv();
  ASSERT_OK(out);
  EXPECT_EQ(to_string(out->data), "udp msg");
  EXPECT_EQ(out->from, server->local());
  EXPECT_EQ(seen.port, client->local().port);
  EXPECT_EQ(seen.ip, server->local().ip);
}

TEST_P(PipeUdp, ServerRepliesToEachSender) {
  auto server = rt.listen(udp, loopback());
  ASSERT_OK(server);
  auto a = rt.connect(udp, server->local());
  auto b = rt.connect(udp, server->local());
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_OK(a->send("I am a"));
  EXPECT_OK(b->send("I am b"));
  for (int i = 0; i < 2; ++i) {
    auto req = server->recv();
    ASSERT_OK(req);
    EXPECT_OK(server->send("you said: " + to_string(req->data), req->from));
  }
  auto ra = a->recv();
  auto rb = b->recv();
  ASSERT_OK(ra);
  ASSERT_OK(rb);
  EXPECT_EQ(to_string(ra->data), "you said: I am a");
  EXPECT_EQ(to_string(rb->data), "you said: I am b");
  auto clients = server->clients();
  ASSERT_OK(clients);
  EXPECT_EQ(clients->size(), 2u);
}

TEST_P(PipeUdp, ClientAcceptsRepliesFromOtherAddresses) {
  // STUN change requests and hole punching need replies from anyone.
  auto server = rt.listen(udp, loopback());
  auto other = rt.listen(udp, loopback());
  ASSERT_OK(server);
  ASSERT_OK(other);
  auto client = rt.connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("hi"));
  auto req = server->recv();
  ASSERT_OK(req);
  EXPECT_OK(other->send("from elsewhere", req->from));
  auto got = client->recv();
  ASSERT_OK(got);
  EXPECT_EQ(got->from, other->local());
}

TEST_P(PipeUdp, DatagramLargerThanReaderLimitIsDroppedAndReported) {
  caf::scoped_actor sub{rt.system()};
  auto spec = server_spec(udp, loopback());
  spec.conf.reader_limit = 512;
  spec.subscribers.push_back({as_actor(sub), events::errors | events::msgs});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto client = rt.connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send(std::string(1000, 'b')));
  auto err = next<pipe_error>(sub);
  ASSERT_TRUE(err);
  EXPECT_ERRC(err->reason, errc::message_too_large);
  EXPECT_NE(what_of(err->reason).find("1000 bytes"), std::string::npos) << render(err->reason);
  EXPECT_EQ(err->peer.port, client->local().port); // the client is bound to the any-address
  EXPECT_OK(client->send(std::string(100, 's')));
  auto ok = next<pipe_msg>(sub);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->data.size(), 100u); // the small one whole, the big one never cut short
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->dropped_oversized, 1u);
}

TEST_P(PipeUdp, TheLargestDatagramOfTheFamilyIsSentAndDelivered) {
  auto fam = loopback().fam();
  auto most = net::max_udp_payload(fam);
  auto server = rt.listen(udp, loopback());
  ASSERT_OK(server);
  auto client = rt.connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send(std::string(most, 'x')));
  auto got = server->recv();
  ASSERT_OK(got);
  EXPECT_EQ(got->data.size(), most);
  EXPECT_ERRC(client->send(std::string(most + 1, 'y')), errc::message_too_large);
}

TEST(PipeUdpIpv6, DatagramsAboveTheIpv4LimitAreDeliveredOverIpv6) {
  // 65,508 to 65,527 bytes fit in an IPv6 datagram but not in an IPv4 one;
  // sent from a plain socket, so only the pipe's receive side is tried.
  runtime rt;
  auto server = rt.listen(udp, any_port("::1"));
  ASSERT_OK(server);
  auto fd = raw_udp(any_port("::1"));
  for (size_t size : {size_t{65508}, size_t{65527}}) {
    ASSERT_TRUE(raw_send_to(fd.get(), server->local(), std::string(size, 'v'))) << size;
    auto got = server->recv();
    ASSERT_OK(got);
    EXPECT_EQ(got->data.size(), size);
  }
}

TEST_P(PipeUdp, AskResendsUntilAReplyComes) {
  auto requests = std::make_shared<std::atomic<int>>(0);
  auto server = rt.listen(udp, loopback(),
                          [requests](pipe_io& io, std::string_view data, const endpoint&) {
                            if (++*requests >= 3) // the first two are "lost"
                              io.reply(data);
                          });
  ASSERT_OK(server);
  net_conf conf;
  conf.recv_timeout = 100ms;
  conf.send_retry = 2;
  auto client = rt.connect(udp, server->local(), conf);
  ASSERT_OK(client);
  auto reply = client->ask("are you there?");
  ASSERT_OK(reply);
  EXPECT_EQ(to_string(reply->data), "are you there?");
  EXPECT_EQ(requests->load(), 3);
}

TEST_P(PipeUdp, AskGivesUpAfterSendRetryResends) {
  auto server = rt.listen(udp, loopback(), [](pipe_io&, std::string_view, const endpoint&) {});
  ASSERT_OK(server);
  net_conf conf;
  conf.recv_timeout = 50ms;
  conf.send_retry = 2;
  auto client = rt.connect(udp, server->local(), conf);
  ASSERT_OK(client);
  auto reply = client->ask("hello?");
  ASSERT_FALSE(reply);
  EXPECT_ERRC(reply, errc::recv_timeout);
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->rx_msgs, 3u); // the request and two resends
}

TEST_P(PipeUdp, AdoptsABoundSocket) {
  auto fd = net::open_bound_socket(net::protocol::udp, loopback());
  ASSERT_TRUE(fd);
  pipe_spec spec;
  spec.proto = udp;
  spec.adopt_fd = fd->release();
  spec.on_msg = echo_handler();
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto client = rt.connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("adopted udp"));
  ASSERT_OK(client->recv());
}

TEST_P(PipeUdp, ZeroLengthDatagramsAreDelivered) {
  auto server = rt.listen(udp, loopback());
  ASSERT_OK(server);
  auto client = rt.connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send(""));
  auto got = server->recv();
  ASSERT_OK(got);
  EXPECT_TRUE(got->data.empty());
}

INSTANTIATE_TEST_SUITE_P(Loopback, PipeUdp, ::testing::Values("127.0.0.1", "::1"));

TEST(PipeUdpOptions, BroadcastOptionAllowsSendingToABroadcastAddress) {
  // 127.255.255.255 is loopback's broadcast address: nothing leaves the host.
  runtime rt;
  auto dest = *endpoint::parse("127.255.255.255:9");
  auto plain = rt.connect(udp, dest);
  ASSERT_OK(plain);
  EXPECT_ERRC(plain->send("x"), errc::send_failed); // EACCES without SO_BROADCAST
  net_conf conf;
  conf.broadcast = true;
  auto bcast = rt.connect(udp, dest, conf);
  ASSERT_OK(bcast);
  EXPECT_OK(bcast->send("x"));
}

TEST(PipeUdpOptions, ReuseAddrLetsTwoSocketsShareAPort) {
  runtime rt;
  net_conf conf;
  conf.reuse_addr = true;
  auto a = rt.listen(udp, any_port("127.0.0.1"), {}, conf);
  ASSERT_OK(a);
  auto b = rt.listen(udp, a->local(), {}, conf);
  ASSERT_OK(b);
  EXPECT_EQ(a->local(), b->local());
}

TEST(PipeUdpOptions, PortZeroWithReuseAddrGetsAPortOfItsOwn) {
  // Set before bind(), SO_REUSEPORT lets the kernel hand two sockets one port.
  runtime rt;
  net_conf conf;
  conf.reuse_addr = true;
  std::set<uint16_t> ports;
  std::vector<p2pd::pipe_handle> pipes;
  for (int i = 0; i < 200; ++i) {
    auto p = rt.listen(udp, any_port("127.0.0.1"), {}, conf);
    ASSERT_OK(p);
    ports.insert(p->local().port);
    pipes.push_back(*p);
  }
  EXPECT_EQ(ports.size(), 200u);
}
