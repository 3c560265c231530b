// Daemons supervise their listeners: a listener that fails (its actor killed,
// its socket in error) comes back on the same address and port after a
// backoff, one-for-one, within a restart budget; past the budget the daemon
// ends with errc::listener_failed.
#include <sys/socket.h>

#include "actors/daemon/daemon_test_util.hpp"

#include "p2pd/net/sock/port_lock.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

using clock_type = std::chrono::steady_clock;

restart_policy quick_policy(uint32_t intensity = 5) {
  restart_policy p;
  p.intensity = intensity;
  p.period = std::chrono::seconds(10);
  p.base_backoff = std::chrono::milliseconds(10);
  p.max_backoff = std::chrono::milliseconds(100);
  return p;
}

bool is_connection_end(const caf::error& err) {
  auto c = code_of(err);
  return c == errc::pipe_closed || c == errc::connection_reset;
}

} // namespace

TEST(DaemonSupervision, KilledTcpListenerEndsItsClientsAndNewClientsConnectToTheSamePort) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  auto local = ls->front().local;
  std::vector<p2pd::pipe_handle> clients;
  for (int i = 0; i < 5; ++i) {
    auto c = rt.connect(tcp, local);
    ASSERT_OK(c);
    clients.push_back(std::move(*c));
  }
  for (size_t i = 0; i < clients.size(); ++i) { // everyone is talking
    auto text = "before " + std::to_string(i);
    EXPECT_OK(clients[i].send(text));
    auto got = clients[i].recv(5s);
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), text);
  }
  for (auto& c : clients) // and a message in flight when the listener dies
    EXPECT_OK(c.send("in flight"));
  ASSERT_TRUE(kill_and_wait(rt, ls->front().pipe));
  for (size_t i = 0; i < clients.size(); ++i) {
    // Each client sees its connection end: maybe the echo of the message in
    // flight first, then the end; never a silent hang (a recv timeout).
    caf::error end;
    for (int n = 0; n < 3 && !end; ++n) {
      auto got = clients[i].recv(5s);
      if (!got)
        end = got.error();
    }
    EXPECT_TRUE(is_connection_end(end)) << "client " << i << ": " << render(end);
  }
  ASSERT_TRUE(await_restarts(*d, 1));
  auto now = d->listeners();
  ASSERT_OK(now);
  ASSERT_EQ(now->size(), 1u);
  EXPECT_EQ(now->front().local, local);
  EXPECT_NE(now->front().pipe, ls->front().pipe);
  for (int i = 0; i < 5; ++i) { // new clients, same port
    auto got = echo_once(rt, tcp, local, "after " + std::to_string(i));
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), "after " + std::to_string(i));
  }
}

TEST(DaemonSupervision, KilledUdpListenerComesBackAndTheSameClientIsAnsweredAgain) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{udp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  auto local = ls->front().local;
  auto client = rt.connect(udp, local);
  ASSERT_OK(client);
  EXPECT_OK(client->send("before"));
  auto got = client->recv(5s);
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "before");
  ASSERT_TRUE(kill_and_wait(rt, ls->front().pipe));
  ASSERT_TRUE(await_restarts(*d, 1));
  auto now = d->listeners();
  ASSERT_OK(now);
  ASSERT_EQ(now->size(), 1u);
  EXPECT_EQ(now->front().local, local);
  // UDP has no connection to lose: the same client is answered again.
  EXPECT_OK(client->send("after"));
  got = client->recv(5s);
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "after");
}

// A listener's socket shut down under its pipe: the pipe ends with io_failed
// and the daemon restarts it on the same address. For TCP the listening
// socket stops listening (its multiplexer sees EPOLLHUP). For UDP epoll
// reports EPOLLIN|EPOLLHUP for good while recvfrom() says EAGAIN, and CAF
// passes that on as a read event only: the servant must see the hang-up and
// fail, or it spins and is never restarted.
class SocketShutDown : public ::testing::TestWithParam<net::protocol> {};

TEST_P(SocketShutDown, EndsThePipeWithAnErrorAndItIsRestarted) {
  auto proto = GetParam();
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{proto, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  auto local = ls->front().local;
  ASSERT_OK(echo_once(rt, proto, local, "before"));
  int fd = proto == tcp ? find_listening_fd(local) : find_udp_fd(local);
  ASSERT_GE(fd, 0) << "no " << net::to_string(proto) << " socket on " << local.to_string()
                   << " in /proc/self/fd";
  caf::scoped_actor watcher{rt.system()};
  watcher->monitor(ls->front().pipe);
  // ENOTCONN for UDP, but both directions are shut all the same.
  int rc = ::shutdown(fd, SHUT_RDWR);
  ASSERT_TRUE(rc == 0 || proto == udp) << net::errno_text(errno);
  auto dm = next<caf::down_msg>(watcher, 10s);
  ASSERT_TRUE(dm) << "the pipe did not end after its socket was shut down";
  EXPECT_ERRC(dm->reason, errc::io_failed);
  ASSERT_TRUE(await_restarts(*d, 1));
  auto got = echo_once(rt, proto, local, "after");
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "after");
}

INSTANTIATE_TEST_SUITE_P(DaemonSupervision, SocketShutDown, ::testing::Values(tcp, udp));

TEST(DaemonSupervision, OnlyTheFailedListenerIsRestarted) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir, echo_handler(), quick_policy()));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}, {tcp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  auto& victim = (*ls)[0];
  auto& bystander = (*ls)[1];
  auto client = rt.connect(tcp, bystander.local);
  ASSERT_OK(client);
  EXPECT_OK(client->send("one"));
  ASSERT_OK(client->recv(5s));
  ASSERT_TRUE(kill_and_wait(rt, victim.pipe));
  auto now = await_listeners(*d, [&](auto& xs) {
    auto v = by_id(xs, victim.id);
    return v && v->restarts == 1;
  });
  ASSERT_TRUE(now);
  auto b = by_id(*now, bystander.id);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->restarts, 0u);
  EXPECT_EQ(b->pipe, bystander.pipe); // the same incarnation
  // and its client's connection was never touched
  EXPECT_OK(client->send("two"));
  auto got = client->recv(5s);
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "two");
}

TEST(DaemonSupervision, RestartWaitsForTheBackoff) {
  temp_dir dir;
  runtime rt;
  restart_policy policy;
  policy.base_backoff = std::chrono::milliseconds(50);
  policy.max_backoff = std::chrono::seconds(1);
  auto d = rt.start_daemon(daemon_in(dir, echo_handler(), policy));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  auto killed_at = clock_type::now();
  ASSERT_TRUE(kill_and_wait(rt, ls->front().pipe));
  auto right_after = d->listeners();
  auto asked_after = clock_type::now() - killed_at;
  ASSERT_OK(right_after);
  ASSERT_EQ(right_after->size(), 1u);
  // The restart cannot have happened before the backoff; only a test thread
  // descheduled for longer than that could see it done already.
  if (asked_after < std::chrono::milliseconds(50)) {
    EXPECT_EQ(right_after->front().restarts, 0u);
  }
  ASSERT_TRUE(await_restarts(*d, 1));
  auto restarted_after = clock_type::now() - killed_at;
  EXPECT_GE(restarted_after, std::chrono::milliseconds(50));
  ASSERT_OK(echo_once(rt, tcp, ls->front().local, "back"));
}

TEST(DaemonSupervision, SecondRestartWithinThePeriodWaitsTwiceTheBackoff) {
  temp_dir dir;
  runtime rt;
  restart_policy policy;
  policy.base_backoff = std::chrono::milliseconds(50);
  policy.max_backoff = std::chrono::seconds(1);
  auto d = rt.start_daemon(daemon_in(dir, echo_handler(), policy));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  ASSERT_TRUE(kill_and_wait(rt, ls->front().pipe));
  auto first = await_listeners(*d, [](auto& xs) { return xs.front().restarts == 1; });
  ASSERT_TRUE(first);
  auto killed_at = clock_type::now();
  ASSERT_TRUE(kill_and_wait(rt, first->front().pipe));
  ASSERT_TRUE(await_restarts(*d, 2));
  EXPECT_GE(clock_type::now() - killed_at, std::chrono::milliseconds(100)); // 2 x 50 ms
  ASSERT_OK(echo_once(rt, tcp, ls->front().local, "back again"));
}

TEST(DaemonSupervision, SpentRestartBudgetEndsTheDaemonWithListenerFailed) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir, echo_handler(), quick_policy(1)));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  caf::scoped_actor s{rt.system()};
  s->monitor(d->handle());
  ASSERT_TRUE(kill_and_wait(rt, ls->front().pipe)); // 1st failure: restarted
  auto once = await_listeners(*d, [](auto& xs) { return xs.front().restarts == 1; });
  ASSERT_TRUE(once);
  ASSERT_TRUE(kill_and_wait(rt, once->front().pipe)); // 2nd: past intensity 1
  auto dm = next<caf::down_msg>(s, 10s);
  ASSERT_TRUE(dm) << "the daemon did not end";
  EXPECT_EQ(dm->source, d->handle().address());
  EXPECT_ERRC(dm->reason, errc::listener_failed);
  EXPECT_NE(what_of(dm->reason).find(ls->front().local.to_string()), std::string::npos)
    << render(dm->reason);
}

TEST(DaemonSupervision, FailedDaemonLeavesNoListenerAndNoPortLockBehind) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir, echo_handler(), quick_policy(0))); // no restarts
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}, {udp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  auto& failing = (*ls)[0];
  auto& other = (*ls)[1];
  caf::scoped_actor s{rt.system()};
  s->monitor(d->handle());
  s->monitor(other.pipe);
  ASSERT_TRUE(kill_and_wait(rt, failing.pipe));
  bool daemon_down = false;
  bool other_down = false;
  for (int i = 0; i < 2; ++i) {
    auto dm = next<caf::down_msg>(s, 10s);
    ASSERT_TRUE(dm) << "daemon down: " << daemon_down << ", other listener down: " << other_down;
    if (dm->source == d->handle().address()) {
      daemon_down = true;
      EXPECT_ERRC(dm->reason, errc::listener_failed);
    } else if (dm->source == other.pipe.address()) {
      other_down = true; // its owner is gone
    }
  }
  EXPECT_TRUE(daemon_down);
  EXPECT_TRUE(other_down);
  EXPECT_ERRC(rt.connect(tcp, failing.local), errc::connect_refused);
  for (auto& l : *ls) {
    auto lk = net::port_lock::acquire(dir.path(), l.local.fam(), l.proto, l.local.ip,
                                      l.local.port);
    EXPECT_OK(lk);
  }
}
