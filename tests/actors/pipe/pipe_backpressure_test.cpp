// A TCP stream never loses its middle: a peer that sends faster than it reads
// is slowed down (reading stops while replies cannot be written), and a send
// that cannot be taken ends the connection with an error everyone sees.

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <thread>
#include <vector>

#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class PipeBackpressure : public ::testing::TestWithParam<const char*> {
protected:
  endpoint loopback() const { return any_port(GetParam()); }

  /// A byte pattern that shows a gap or a reordering at the first bad byte.
  static char pattern(size_t i) { return static_cast<char>((i * 7 + i / 65536) & 0xff); }

  runtime rt;
};

} // namespace

TEST_P(PipeBackpressure, SlowReaderGetsEveryByteBackInOrder) {
  constexpr size_t total = 16 * 1024 * 1024;
  auto server = rt.listen(tcp, loopback(), echo_handler());
  ASSERT_OK(server);
  auto raw = raw_connect(server->local());
  ASSERT_TRUE(raw);
  set_timeouts(raw.get(), std::chrono::seconds(20));
  std::atomic<size_t> sent{0};
  std::thread writer{[&] {
    std::vector<char> chunk(64 * 1024);
    while (sent < total) {
      auto n = std::min(chunk.size(), total - sent);
      for (size_t i = 0; i < n; ++i)
        chunk[i] = pattern(sent + i);
      auto w = ::send(raw.get(), chunk.data(), n, MSG_NOSIGNAL);
      if (w <= 0)
        return;
      sent += static_cast<size_t>(w);
    }
  }};
  // The reader starts late: by then the server has far more than
  // max_write_buffer to answer, and must have stopped reading.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::vector<char> buf(256 * 1024);
  size_t got = 0;
  size_t first_bad = total;
  while (got < total) {
    auto n = ::recv(raw.get(), buf.data(), buf.size(), 0);
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n && first_bad == total; ++i)
      if (buf[static_cast<size_t>(i)] != pattern(got + static_cast<size_t>(i)))
        first_bad = got + static_cast<size_t>(i);
    got += static_cast<size_t>(n);
  }
  writer.join();
  EXPECT_EQ(sent.load(), total);
  EXPECT_EQ(got, total);
  EXPECT_EQ(first_bad, total) << "the echo differs from what was sent at byte " << first_bad;
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->dropped_send, 0u);
}

TEST_P(PipeBackpressure, AClientHeldBackByBackpressureIsNotTakenForIdle) {
  // The server stops reading this client for as long as its replies drain
  // (here longer than idle_timeout); the client is still taking bytes, so
  // it is not idle and must not be reset.
  constexpr size_t total = 2 * 1024 * 1024;
  net_conf conf;
  conf.idle_timeout = std::chrono::milliseconds(200);
  conf.max_write_buffer = 1024 * 1024;
  auto server = rt.listen(tcp, loopback(), echo_handler(), conf);
  ASSERT_OK(server);
  auto raw = raw_connect(server->local());
  ASSERT_TRUE(raw);
  int small = 64 * 1024;
  ::setsockopt(raw.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  set_timeouts(raw.get(), std::chrono::seconds(20));
  std::atomic<size_t> sent{0};
  std::thread writer{[&] {
    std::vector<char> chunk(64 * 1024, 'b');
    while (sent < total) {
      auto w = ::send(raw.get(), chunk.data(), std::min(chunk.size(), total - sent), MSG_NOSIGNAL);
      if (w <= 0)
        return;
      sent += static_cast<size_t>(w);
    }
  }};
  std::vector<char> buf(16 * 1024);
  size_t got = 0;
  while (got < total) { // about 640 KiB/s: each drain of 512 KiB takes 0.8 s
    auto n = ::recv(raw.get(), buf.data(), buf.size(), 0);
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  writer.join();
  EXPECT_EQ(got, total);
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->clients_timed_out, 0u);
}

TEST_P(PipeBackpressure, RefusedSendResetsTheConnectionAndSubscribersSeeWhy) {
  caf::scoped_actor sub{rt.system()};
  auto spec = server_spec(tcp, loopback());
  spec.conf.max_write_buffer = 64 * 1024;
  spec.subscribers.push_back({as_actor(sub), events::end | events::msgs});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto raw = raw_connect(server->local());
  ASSERT_TRUE(raw);
  set_timeouts(raw.get(), std::chrono::seconds(5));
  ASSERT_EQ(::send(raw.get(), "hi", 2, 0), 2);
  auto msg = next<pipe_msg>(sub);
  ASSERT_TRUE(msg);
  // One send larger than the whole buffer can never be taken.
  std::string big(100 * 1024, 'x');
  EXPECT_ERRC(server->send(big, msg->from), errc::send_failed);
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->peer, msg->from);
  EXPECT_ERRC(end->reason, errc::send_failed);
  char c;
  errno = 0;
  EXPECT_EQ(::recv(raw.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET) << "the peer must see a reset, not an orderly end";
  auto clients = server->clients();
  ASSERT_OK(clients);
  EXPECT_TRUE(clients->empty());
}

TEST_P(PipeBackpressure, HandlerSeesTheRefusalAndTheConnectionEnds) {
  std::atomic<int> refused{0};
  net_conf conf;
  conf.max_write_buffer = 64 * 1024;
  auto server = rt.listen(
    tcp, loopback(),
    [&refused](pipe_io& io, std::string_view, const endpoint&) {
      if (code_of(io.reply(std::string(100 * 1024, 'y'))) == errc::send_failed)
        ++refused;
    },
    conf);
  ASSERT_OK(server);
  auto raw = raw_connect(server->local());
  ASSERT_TRUE(raw);
  set_timeouts(raw.get(), std::chrono::seconds(5));
  ASSERT_EQ(::send(raw.get(), "go", 2, 0), 2);
  char c;
  errno = 0;
  EXPECT_EQ(::recv(raw.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  EXPECT_EQ(refused.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Loopback, PipeBackpressure, ::testing::Values("127.0.0.1", "::1"));
