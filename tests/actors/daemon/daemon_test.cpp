// Daemons: many listeners as supervised pipes.
#include "actors/daemon/daemon_test_util.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

// A port p such that p and p + 1 are both free for TCP and UDP now: the
// neighbour of a free port may be any socket's (a client's, in TIME_WAIT).
uint16_t free_pair() {
  for (int i = 0; i < 100; ++i) {
    auto base = free_port(net::protocol::tcp);
    if (base == 0 || base == 65535)
      continue;
    auto lo = *net::ip_address::parse("127.0.0.1");
    bool ok = true;
    for (auto proto : {tcp, udp})
      for (uint16_t p : {base, uint16_t(base + 1)})
        ok = ok && net::open_bound_socket(proto, endpoint{lo, p});
    if (ok)
      return base;
  }
  return 0;
}

} // namespace

TEST(Daemon, EchoesOnEveryListenerOfAListenAll) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto base = free_pair();
  ASSERT_NE(base, 0);
  auto ls = d->listen_all({loopback_route(net::family::v4)}, {{base, uint16_t(base + 1)}},
                          {tcp, udp});
  ASSERT_OK(ls);
  ASSERT_EQ(ls->size(), 4u); // 1 target x 2 ports x 2 protocols x 1 family
  for (auto& l : *ls) {
    auto got = echo_once(rt, l.proto, l.local, "hello " + l.local.to_string());
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), "hello " + l.local.to_string());
  }
  EXPECT_OK(d->close());
}

TEST(Daemon, ListenSpecificUsesBoundAddressesAsTheyAre) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")},
                                {udp, any_port("::1")},
                                {tcp, any_port("::1")}});
  ASSERT_OK(ls);
  ASSERT_EQ(ls->size(), 3u);
  for (auto& l : *ls) {
    EXPECT_NE(l.local.port, 0);
    ASSERT_OK(echo_once(rt, l.proto, l.local, "specific"));
  }
}

TEST(Daemon, ListsAddsAndRemovesListeners) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto first = d->listen_specific({{tcp, any_port("127.0.0.1")}});
  auto second = d->listen_specific({{udp, any_port("127.0.0.1")}});
  ASSERT_OK(first);
  ASSERT_OK(second);
  auto all = d->listeners();
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 2u);
  EXPECT_OK(d->remove(first->front().id));
  all = d->listeners();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().proto, udp);
  auto gone = rt.connect(tcp, first->front().local);
  EXPECT_ERRC(gone, errc::connect_refused);
  EXPECT_ERRC(d->remove(first->front().id), errc::unknown_peer);
}

TEST(Daemon, CloseStopsListenersAndTheirClients) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  auto client = rt.connect(tcp, ls->front().local);
  ASSERT_OK(client);
  EXPECT_OK(client->send("x"));
  ASSERT_OK(client->recv());
  EXPECT_OK(d->close());
  EXPECT_ERRC(client->recv(5s), errc::pipe_closed);
  EXPECT_ERRC(rt.connect(tcp, ls->front().local), errc::connect_refused);
}

TEST(Daemon, KilledListenerComesBackOnTheSamePort) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}, {udp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  for (auto& l : *ls)
    ASSERT_TRUE(kill_and_wait(rt, l.pipe));
  ASSERT_TRUE(await_restarts(*d, 1));
  for (auto& l : *ls) // clients connect again, to the same ports
    ASSERT_OK(echo_once(rt, l.proto, l.local, "again"));
  auto now = d->listeners();
  ASSERT_OK(now);
  ASSERT_EQ(now->size(), 2u);
  for (auto& l : *now)
    EXPECT_EQ(l.restarts, 1u);
}
