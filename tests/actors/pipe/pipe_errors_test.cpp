// Bad input: each case must give a clear error value, never a crash, a hang
// or a silent drop.
#include <fcntl.h>
#include <sys/stat.h>

#include <thread>

#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class PipeErrors : public ::testing::Test {
protected:
  runtime rt;
};

// (An argument, because CAF 0.17 dereferences a null pointer for spawns of
// functions without arguments.)
caf::behavior idle_actor(int) {
  return {[](int) {}};
}

bool fd_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

} // namespace

TEST_F(PipeErrors, ConnectToAPortNobodyListensOnIsRefused) {
  // A bound socket that does not listen holds the port: SYNs get an RST.
  auto holder = net::open_bound_socket(net::protocol::tcp, any_port("127.0.0.1"));
  ASSERT_TRUE(holder);
  auto port = net::local_endpoint(holder->get())->port;
  auto client = rt.connect(tcp, "127.0.0.1", port);
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::connect_refused);
  EXPECT_NE(what_of(client.error()).find("127.0.0.1:" + std::to_string(port)),
            std::string::npos)
    << render(client.error());
}

TEST_F(PipeErrors, ConnectThatGetsNoAnswerTimesOut) {
  // A listener with a full backlog drops further SYNs, like a black hole.
  auto hole = net::open_bound_socket(net::protocol::tcp, any_port("127.0.0.1"));
  ASSERT_TRUE(hole);
  ASSERT_EQ(::listen(hole->get(), 0), 0);
  auto at = *net::local_endpoint(hole->get());
  std::vector<net::unique_fd> fillers;
  for (int i = 0; i < 4; ++i) {
    net::unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    sockaddr_storage ss;
    auto len = at.to_sockaddr(ss);
    ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len);
    fillers.push_back(std::move(fd));
  }
  net_conf conf;
  conf.con_timeout = 300ms;
  auto started = std::chrono::steady_clock::now();
  auto client = rt.connect(tcp, at, conf);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::connect_timeout);
  EXPECT_LT(took, 5s);
}

TEST_F(PipeErrors, BindToAnAddressNotOnThisHostFails) {
  // A documentation address this host does not have. Binding sends nothing.
  auto server = rt.listen(tcp, any_port(foreign_ipv4().c_str()));
  ASSERT_FALSE(server);
  EXPECT_ERRC(server, errc::bind_failed);
  EXPECT_NE(what_of(server.error()).find("not on this host"), std::string::npos)
    << render(server.error());
}

TEST_F(PipeErrors, BindToAPortInUseFails) {
  auto first = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(first);
  auto second = rt.listen(udp, first->local());
  ASSERT_FALSE(second);
  EXPECT_ERRC(second, errc::bind_failed);
  EXPECT_NE(what_of(second.error()).find("port in use"), std::string::npos)
    << render(second.error());
}

TEST_F(PipeErrors, HostNameThatDoesNotResolveFails) {
  // .invalid never resolves (RFC 6761) and is answered without a query.
  auto client = rt.connect(tcp, "no-such-host.invalid", 80);
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::resolve_failed);
  EXPECT_NE(what_of(client.error()).find("no-such-host.invalid"), std::string::npos);
}

TEST_F(PipeErrors, ResolverSlowerThanDnsTimeoutFails) {
  auto spec = client_spec(tcp, "slow.example", 80);
  spec.conf.dns_timeout = 100ms;
  spec.resolver = [](const std::string&, std::optional<net::family>)
    -> net::result<std::vector<net::ip_address>> {
    std::this_thread::sleep_for(500ms); // a resolver that hangs, not a sync point
    return std::vector<net::ip_address>{net::ip_address::loopback(net::family::v4)};
  };
  auto client = rt.open(spec);
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::resolve_timeout);
}

TEST_F(PipeErrors, SendOnAPipeWhosePeerClosedFails) {
  auto server = rt.listen(tcp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  auto client = rt.connect(tcp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("x"));
  ASSERT_OK(server->recv());
  EXPECT_OK(server->close());
  EXPECT_ERRC(client->recv(5s), errc::pipe_closed); // the end has arrived
  EXPECT_ERRC(client->send("too late"), errc::pipe_closed);
}

TEST_F(PipeErrors, SendOnAClosedPipeFails) {
  auto p = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(p);
  auto dest = p->local();
  EXPECT_OK(p->close());
  EXPECT_ERRC(p->send("too late", dest), errc::pipe_closed);
}

TEST_F(PipeErrors, SendToAClientTheServerDoesNotHaveFails) {
  auto server = rt.listen(tcp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  EXPECT_ERRC(server->send("x", *endpoint::parse("127.0.0.1:9")), errc::unknown_peer);
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->dropped_send, 1u);
}

TEST_F(PipeErrors, SubscriberThatDiedIsDroppedAndCounted) {
  auto server = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  auto doomed = rt.system().spawn(idle_actor, 0);
  {
    caf::scoped_actor waiter{rt.system()};
    waiter->monitor(doomed);
    waiter->send_exit(doomed, caf::exit_reason::kill);
    ASSERT_TRUE(next<caf::down_msg>(waiter));
  }
  // Subscribing a dead actor makes the pipe's monitor fire at once.
  EXPECT_OK(server->subscribe(doomed, events::all));
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->dead_subscribers, 1u);
  // The pipe goes on working.
  auto client = rt.connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("still served"));
  ASSERT_OK(server->recv());
}

TEST_F(PipeErrors, SubscriberDyingWhileSubscribedDoesNotStopDelivery) {
  caf::scoped_actor alive{rt.system()};
  auto server = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  auto doomed = rt.system().spawn(idle_actor, 0);
  EXPECT_OK(server->subscribe(doomed, events::msgs));
  EXPECT_OK(server->subscribe(as_actor(alive), events::msgs));
  alive->send_exit(doomed, caf::exit_reason::kill);
  auto client = rt.connect(udp, server->local());
  ASSERT_OK(client);
  for (int i = 0; i < 3; ++i) {
    EXPECT_OK(client->send("m" + std::to_string(i)));
    auto got = next<pipe_msg>(alive);
    ASSERT_TRUE(got);
    EXPECT_EQ(to_string(got->data), "m" + std::to_string(i));
  }
}

TEST_F(PipeErrors, FullSendBufferRefusesFurtherSends) {
  auto server = rt.listen(tcp, any_port("127.0.0.1"), {}, [] {
    net_conf c;
    c.max_write_buffer = 256 * 1024;
    return c;
  }());
  ASSERT_OK(server);
  auto raw = raw_connect(server->local()); // a peer that never reads
  ASSERT_TRUE(raw);
  int small = 4096;
  ::setsockopt(raw.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  ASSERT_EQ(::send(raw.get(), "hi", 2, 0), 2);
  auto hello = server->recv();
  ASSERT_OK(hello);
  std::string chunk(64 * 1024, 'z');
  caf::error err;
  for (int i = 0; i < 1000 && !err; ++i)
    err = server->send(chunk, hello->from);
  EXPECT_ERRC(err, errc::send_failed);
  EXPECT_NE(what_of(err).find("full"), std::string::npos) << render(err);
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_GE(stats->dropped_send, 1u);
}

TEST_F(PipeErrors, AdoptingASocketOfTheWrongProtocolFails) {
  auto fd = net::open_bound_socket(net::protocol::udp, any_port("127.0.0.1"));
  ASSERT_TRUE(fd);
  pipe_spec spec;
  spec.proto = tcp;
  spec.adopt_fd = fd->get();
  spec.conf.do_close = false; // hand the socket back on failure
  auto p = rt.open(spec);
  ASSERT_FALSE(p);
  EXPECT_ERRC(p, errc::invalid_argument);
  EXPECT_TRUE(fd_open(fd->get()));
}

TEST_F(PipeErrors, AdoptFailureClosesTheSocketWithDoClose) {
  auto fd = net::open_bound_socket(net::protocol::udp, any_port("127.0.0.1"));
  ASSERT_TRUE(fd);
  int raw = fd->release();
  struct stat before {};
  ASSERT_EQ(::fstat(raw, &before), 0);
  pipe_spec spec;
  spec.proto = tcp;
  spec.adopt_fd = raw;
  auto p = rt.open(spec);
  ASSERT_FALSE(p);
  // Closed, or its number already reused by another thread for another file.
  struct stat after {};
  EXPECT_TRUE(::fstat(raw, &after) != 0 || after.st_ino != before.st_ino)
    << "the adopted socket is still open";
}

TEST_F(PipeErrors, UdpServerSendWithoutDestinationFails) {
  auto server = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  EXPECT_ERRC(server->send("nowhere"), errc::invalid_argument);
}

TEST_F(PipeErrors, DatagramTooLargeToSendFails) {
  auto server = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  auto client = rt.connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_ERRC(client->send(std::string(70000, 'x')), errc::message_too_large);
}

TEST_F(PipeErrors, SendingAcrossFamiliesFails) {
  auto server = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(server);
  EXPECT_ERRC(server->send("x", *endpoint::parse("[::1]:9")), errc::invalid_argument);
}

TEST_F(PipeErrors, RecvOnAnUnknownQueueFails) {
  auto p = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(p);
  caf::scoped_actor self{rt.system()};
  caf::error err;
  self->request(p->handle(), 5s, recv_atom::value, uint64_t{999}, caf::timespan{100ms})
    .receive([](pipe_msg&) {}, [&](caf::error& e) { err = e; });
  EXPECT_ERRC(err, errc::unknown_subscription);
}

TEST_F(PipeErrors, RecvTimesOutWithAClearError) {
  auto p = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(p);
  auto got = p->recv(50ms);
  ASSERT_FALSE(got);
  EXPECT_ERRC(got, errc::recv_timeout);
}

TEST_F(PipeErrors, ClientWithoutPortFails) {
  auto p = rt.connect(tcp, "127.0.0.1", 0);
  ASSERT_FALSE(p);
  EXPECT_ERRC(p, errc::invalid_argument);
}
