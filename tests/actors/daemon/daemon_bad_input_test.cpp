// Daemons refuse bad input with clear errors and leave no half-started
// listener behind: bad ports and ranges, families a target lacks, addresses
// not on this host, ports locked by another process or daemon, and a
// listener killed in the middle of a transfer.
#include "actors/daemon/daemon_test_util.hpp"

#include "support/lock_holder.hpp"
#include "support/netns.hpp"
#include "p2pd/net/sock/port_lock.hpp"
#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

bool no_listeners(p2pd::daemon_handle& d) {
  auto ls = d.listeners();
  return ls && ls->empty();
}

} // namespace

// --- ports and ranges -------------------------------------------------------------------------

TEST(DaemonBadInput, RangeStartingAfterItStopsIsInvalidAndStartsNothing) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_all({loopback_route(net::family::v4)}, {{9100, 9000}}, {tcp});
  ASSERT_FALSE(ls);
  EXPECT_ERRC(ls, errc::invalid_argument);
  EXPECT_TRUE(contains(what_of(ls.error()), "[9100, 9000]")) << render(ls.error());
  EXPECT_TRUE(no_listeners(*d));
}

TEST(DaemonBadInput, PortZeroInListenAllIsInvalidAndStartsNothing) {
  // Port 0 is the only port outside 1..65535 a uint16_t can hold.
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto good = free_port(tcp);
  auto ls = d->listen_all({loopback_route(net::family::v4)}, {good, 0}, {tcp});
  ASSERT_FALSE(ls);
  EXPECT_ERRC(ls, errc::invalid_argument);
  EXPECT_TRUE(no_listeners(*d));
  EXPECT_TRUE(bindable(tcp, at("127.0.0.1", good)));
}

TEST(DaemonBadInput, SameListenerTwiceInOneRequestIsInvalidAndStartsNothing) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto port = free_port(tcp);
  auto ls = d->listen_all({loopback_route(net::family::v4)}, {port, {port, port}}, {tcp});
  ASSERT_FALSE(ls);
  EXPECT_ERRC(ls, errc::invalid_argument);
  EXPECT_TRUE(contains(what_of(ls.error()), "twice")) << render(ls.error());
  EXPECT_TRUE(no_listeners(*d));
}

TEST(DaemonBadInput, LinkLocalAddressWithoutScopeIsInvalid) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{udp, any_port("127.0.0.1")}, {udp, any_port("fe80::1")}});
  ASSERT_FALSE(ls);
  EXPECT_ERRC(ls, errc::invalid_argument);
  EXPECT_TRUE(no_listeners(*d));
}

// --- addresses and families -------------------------------------------------------------------

TEST(DaemonBadInput, AddressNotOnThisHostFailsToBindAndClosesTheOthersOfTheRequest) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto good = free_port(tcp);
  // foreign_ipv4() is on no interface here: bind() fails after the
  // listener on `good` has opened, so that one must be closed again.
  auto ls = d->listen_specific({{tcp, at("127.0.0.1", good)}, {tcp, at(foreign_ipv4().c_str(), good)}});
  ASSERT_FALSE(ls);
  EXPECT_ERRC(ls, errc::bind_failed);
  EXPECT_TRUE(contains(what_of(ls.error()), foreign_ipv4())) << render(ls.error());
  EXPECT_TRUE(no_listeners(*d));
  // Nobody listens there any more. Whether the port is free is another
  // question: with test processes side by side, the kernel may have given it
  // to one of them since.
  EXPECT_FALSE(raw_connect(at("127.0.0.1", good)));
}

TEST(DaemonBadInput, FailedRequestReleasesThePortLocksOfItsOtherListeners) {
  // The locks of a failed request are released before the error is
  // answered: a caller that retries at once must find its port free.
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto good = free_port(tcp);
  auto ls = d->listen_specific({{tcp, at("127.0.0.1", good)}, {tcp, at(foreign_ipv4().c_str(), good)}});
  ASSERT_FALSE(ls);
  // Checked at once after the error: the lock must be gone when it comes.
  auto lk = net::port_lock::acquire(dir.path(), net::family::v4, tcp,
                                    *net::ip_address::parse("127.0.0.1"), good);
  EXPECT_OK(lk);
}

// error_on_af decides whether a family a target lacks is an error of its own
// or a target to pass over. When the only target lacks it, nothing is left
// to open either way: family_unsupported, and nothing started.
class FamilyTheOnlyTargetLacks : public ::testing::TestWithParam<error_on_af> {};

TEST_P(FamilyTheOnlyTargetLacks, IsFamilyUnsupportedAndStartsNothing) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_all({loopback_route(net::family::v4)}, {free_port(tcp)}, {tcp},
                          net::family_choice::v6, GetParam().value);
  ASSERT_FALSE(ls);
  EXPECT_ERRC(ls, errc::family_unsupported);
  EXPECT_TRUE(no_listeners(*d));
}

INSTANTIATE_TEST_SUITE_P(DaemonBadInput, FamilyTheOnlyTargetLacks, both_error_on_af());

TEST(DaemonBadInput, FamilyATargetLacksWithoutErrorOnAfSkipsThatTarget) {
  P2PD_SKIP_UNLESS_IPV6();
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto port = free_port(tcp, "::1");
  auto ls = d->listen_all({loopback_route(net::family::v4), loopback_route(net::family::v6)},
                          {port}, {tcp}, net::family_choice::v6, false);
  ASSERT_OK(ls);
  ASSERT_EQ(ls->size(), 1u);
  EXPECT_EQ(ls->front().local, at("::1", port));
}

TEST(DaemonBadInput, AnyFamilyOnAV4OnlyTargetOpensOnlyV4EvenWithErrorOnAf) {
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto port = free_port(tcp);
  auto ls = d->listen_all({loopback_route(net::family::v4)}, {port}, {tcp, udp},
                          net::family_choice::any, true);
  ASSERT_OK(ls);
  ASSERT_EQ(ls->size(), 2u);
  for (auto& l : *ls)
    EXPECT_TRUE(l.local.ip.is_v4()) << l.local.to_string();
}

// --- ports held by someone else ---------------------------------------------------------------

TEST(DaemonBadInput, APortAnotherDaemonServesIsRefusedWhateverTheDataDirectory) {
  // Two data directories: two sets of port locks that cannot see each other.
  // Without SO_REUSEPORT the kernel refuses the second bind.
  temp_dir dir_a, dir_b;
  runtime rt;
  auto a = rt.start_daemon(daemon_in(dir_a));
  auto b = rt.start_daemon(daemon_in(dir_b));
  ASSERT_OK(a);
  ASSERT_OK(b);
  for (auto proto : {tcp, udp}) {
    auto port = free_port(proto);
    ASSERT_OK(a->listen_specific({{proto, at("127.0.0.1", port)}}));
    auto second = b->listen_specific({{proto, at("127.0.0.1", port)}});
    ASSERT_FALSE(second) << net::to_string(proto);
    EXPECT_ERRC(second, errc::bind_failed);
    EXPECT_TRUE(contains(what_of(second.error()), "port in use")) << render(second.error());
  }
  EXPECT_TRUE(no_listeners(*b));
}

TEST(DaemonBadInput, DaemonsThatBothAskForReuseAddrShareAPort) {
  // Sharing is the user's choice (net_conf::reuse_addr: SO_REUSEPORT), never
  // the default; locks in two data directories do not see each other.
  temp_dir dir_a, dir_b;
  runtime rt;
  auto spec_a = daemon_in(dir_a);
  auto spec_b = daemon_in(dir_b);
  spec_a.conf.reuse_addr = spec_b.conf.reuse_addr = true;
  auto a = rt.start_daemon(spec_a);
  auto b = rt.start_daemon(spec_b);
  ASSERT_OK(a);
  ASSERT_OK(b);
  for (auto proto : {tcp, udp}) {
    auto port = free_port(proto);
    ASSERT_OK(a->listen_specific({{proto, at("127.0.0.1", port)}}));
    auto shared = b->listen_specific({{proto, at("127.0.0.1", port)}});
    EXPECT_OK(shared) << net::to_string(proto);
  }
}

TEST(DaemonBadInput, APortAPlainProgramListensOnIsRefused) {
  temp_dir dir;
  auto fd = net::open_listener(at("127.0.0.1", 0), {}, 16);
  ASSERT_TRUE(fd);
  auto port = net::local_endpoint(fd->get())->port;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, at("127.0.0.1", port)}});
  ASSERT_FALSE(ls);
  EXPECT_ERRC(ls, errc::bind_failed);
}

TEST(DaemonBadInput, PortLockedByAnotherProcessFailsNamingItsPidAndStartsNothing) {
  temp_dir dir;
  auto free = free_port(tcp);
  auto held = free_port(tcp);
  while (held == free) // the kernel may hand out the same free port twice
    held = free_port(tcp);
  lock_holder holder{dir.path(), held}; // before the runtime: fork with one thread
  ASSERT_TRUE(holder.locked());
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, at("127.0.0.1", free)}, {tcp, at("127.0.0.1", held)}});
  ASSERT_FALSE(ls);
  EXPECT_ERRC(ls, errc::port_locked);
  EXPECT_TRUE(contains(what_of(ls.error()), "pid " + std::to_string(holder.pid())))
    << render(ls.error());
  EXPECT_TRUE(no_listeners(*d));
  EXPECT_TRUE(bindable(tcp, at("127.0.0.1", free)));
  EXPECT_TRUE(exited_cleanly(holder.release()));
}

TEST(DaemonBadInput, PortLockedByAnotherProcessIsFreeOnceThatProcessExits) {
  temp_dir dir;
  auto port = free_port(tcp);
  lock_holder holder{dir.path(), port};
  ASSERT_TRUE(holder.locked());
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  EXPECT_ERRC(d->listen_specific({{tcp, at("127.0.0.1", port)}}), errc::port_locked);
  ASSERT_TRUE(exited_cleanly(holder.release()));
  auto ls = d->listen_specific({{tcp, at("127.0.0.1", port)}});
  ASSERT_OK(ls);
  ASSERT_OK(echo_once(rt, tcp, ls->front().local, "mine now"));
}

TEST(DaemonBadInput, SecondDaemonOnTheSamePortFailsWithPortLocked) {
  temp_dir dir;
  runtime rt;
  auto first = rt.start_daemon(daemon_in(dir));
  auto second = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(first);
  ASSERT_OK(second);
  auto port = free_port(tcp);
  ASSERT_OK(first->listen_specific({{tcp, at("127.0.0.1", port)}}));
  auto ls = second->listen_specific({{tcp, at("127.0.0.1", port)}});
  ASSERT_FALSE(ls);
  EXPECT_ERRC(ls, errc::port_locked);
  EXPECT_TRUE(contains(what_of(ls.error()), "pid " + std::to_string(::getpid())))
    << render(ls.error());
  EXPECT_TRUE(no_listeners(*second));
  ASSERT_OK(echo_once(rt, tcp, at("127.0.0.1", port), "still the first"));
}

TEST(DaemonBadInput, SecondDaemonGetsThePortOnceTheFirstHasClosed) {
  temp_dir dir;
  runtime rt;
  auto first = rt.start_daemon(daemon_in(dir));
  auto second = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(first);
  ASSERT_OK(second);
  auto port = free_port(tcp);
  ASSERT_OK(first->listen_specific({{tcp, at("127.0.0.1", port)}}));
  EXPECT_ERRC(second->listen_specific({{tcp, at("127.0.0.1", port)}}),
              errc::port_locked);
  EXPECT_OK(first->close());
  auto ls = second->listen_specific({{tcp, at("127.0.0.1", port)}});
  ASSERT_OK(ls);
  ASSERT_OK(echo_once(rt, tcp, at("127.0.0.1", port), "the second"));
}

// --- a listener killed mid-transfer -----------------------------------------------------------

TEST(DaemonBadInput, ListenerKilledMidTransferEndsItsClientAndServesNewOnes) {
  temp_dir dir;
  runtime rt;
  // Acknowledges each chunk: the client knows the server has part of its
  // transfer before the listener is killed.
  auto ack = [](pipe_io& io, std::string_view data, const endpoint&) {
    io.reply("got " + std::to_string(data.size()));
  };
  auto d = rt.start_daemon(daemon_in(dir, ack));
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  auto client = rt.connect(tcp, ls->front().local);
  ASSERT_OK(client);
  std::string part(1000, 'x');
  EXPECT_OK(client->send(part));
  auto got = client->recv(5s);
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "got 1000");
  ASSERT_TRUE(kill_and_wait(rt, ls->front().pipe)); // mid-transfer
  (void) client->send(part); // may fail: the connection is going away
  auto end = client->recv(5s);
  ASSERT_FALSE(end) << "got " << to_string(end->data);
  EXPECT_TRUE(code_of(end.error()) == errc::pipe_closed
              || code_of(end.error()) == errc::connection_reset)
    << render(end.error());
  ASSERT_TRUE(await_restarts(*d, 1));
  auto again = rt.connect(tcp, ls->front().local);
  ASSERT_OK(again);
  EXPECT_OK(again->send(part));
  got = again->recv(5s);
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "got 1000");
}
