// Two punches on loopback: matching keys connect over one path, exchange
// data both ways and close; the other side sees the close; nothing stays
// open.
#include "actors/punch/punch_fixture.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class UdpPunch : public punch_test {
protected:

  // A (controlling, `na` sockets) and B (`nb` sockets), each aiming at all
  // of the other's sockets.
  std::pair<udp_punch_spec, udp_punch_spec> specs(size_t na = 1, size_t nb = 1) {
    std::vector<endpoint> la;
    std::vector<endpoint> lb;
    for (size_t i = 0; i < na; ++i)
      la.push_back(stack.bind(any_port("127.0.0.1")));
    for (size_t i = 0; i < nb; ++i)
      lb.push_back(stack.bind(any_port("127.0.0.1")));
    return {punch_spec(stack.stack(), la, lb, keys.initiator, true),
            punch_spec(stack.stack(), lb, la, keys.responder, false)};
  }
};

} // namespace

TEST_F(UdpPunch, MatchingKeysConnectExchangeDataBothWaysAndClose) {
  auto [sa, sb] = specs();
  auto a_local = sa.local.front();
  auto b_local = sb.local.front();
  {
    punch_side a{rt.system(), sa};
    punch_side b{rt.system(), sb};
    auto [ia, ib] = open_both(a, b);
    ASSERT_OK(ia);
    ASSERT_OK(ib);
    EXPECT_EQ(ia->proto, udp);
    EXPECT_FALSE(ia->server);
    EXPECT_EQ(ia->local, a_local);
    EXPECT_EQ(ia->remote, b_local);
    EXPECT_EQ(ib->local, b_local);
    EXPECT_EQ(ib->remote, a_local);
    EXPECT_EQ(ia->pipe, a.pipe);
    auto up = next<pipe_up>(a.self);
    ASSERT_TRUE(up.has_value());
    EXPECT_EQ(up->peer, b_local);

    ASSERT_OK(a.send("ping from a"));
    auto m = b.next_msg();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(to_string(m->data), "ping from a");
    EXPECT_EQ(m->from, a_local);
    EXPECT_EQ(m->pipe, b.pipe);
    // B answers the sender on the pipe it came by, as with any pipe.
    caf::anon_send(m->pipe, send_atom::value, to_bytes("pong from b"), m->from);
    auto back = a.next_msg();
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(to_string(back->data), "pong from b");

    auto st = a.stats();
    EXPECT_EQ(st.tx_msgs, 1u);
    EXPECT_EQ(st.tx_bytes, 11u);
    EXPECT_EQ(st.rx_msgs, 1u);
    EXPECT_EQ(st.rx_bytes, 11u);
    EXPECT_EQ(st.dropped_forged + st.dropped_replayed + st.dropped_foreign
                + st.dropped_malformed,
              0u);

    auto closed = a.ask<caf::ok_atom>(caf::close_atom::value);
    ASSERT_OK(closed);
    auto end_a = a.next_end();
    ASSERT_TRUE(end_a.has_value());
    EXPECT_TRUE(end_a->whole);
    EXPECT_FALSE(end_a->reason) << render(end_a->reason);
    // The sealed close ends the other side, with the reason.
    auto end_b = b.next_end();
    ASSERT_TRUE(end_b.has_value());
    EXPECT_TRUE(end_b->whole);
    EXPECT_EQ(end_b->peer, a_local);
    EXPECT_ERRC(end_b->reason, errc::pipe_closed);
    EXPECT_EQ(what_of(end_b->reason), "closed by the peer");
  }
  EXPECT_EQ(stack.unclaimed(), 0u);
  EXPECT_EQ(stack.counters().pipe_calls(), 2u);
  expect_no_fds_left();
}

TEST_F(UdpPunch, OfManySocketsBothKeepOnePathAndTheRestAreClosed) {
  auto [sa, sb] = specs(3, 2);
  auto la = sa.local;
  auto lb = sb.local;
  punch_side a{rt.system(), sa};
  punch_side b{rt.system(), sb};
  auto [ia, ib] = open_both(a, b);
  ASSERT_OK(ia);
  ASSERT_OK(ib);
  // The same path, seen from both ends.
  EXPECT_EQ(ia->remote, ib->local);
  EXPECT_EQ(ib->remote, ia->local);
  // Every other socket is closed, the path's stays.
  for (const auto& l : la) {
    if (l != ia->local) {
      EXPECT_TRUE(eventually([&] { return find_udp_fd(l) < 0; })) << l.to_string();
    }
  }
  for (const auto& l : lb) {
    if (l != ib->local) {
      EXPECT_TRUE(eventually([&] { return find_udp_fd(l) < 0; })) << l.to_string();
    }
  }
  EXPECT_GE(find_udp_fd(ia->local), 0);
  EXPECT_GE(find_udp_fd(ib->local), 0);
  ASSERT_OK(b.send("over the one path"));
  auto m = a.next_msg();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(to_string(m->data), "over the one path");
  ASSERT_OK(a.ask<caf::ok_atom>(caf::close_atom::value));
  ASSERT_TRUE(b.next_end().has_value());
}

TEST_F(UdpPunch, ACloseFromTheControlledSideEndsTheControllingOne) {
  auto [sa, sb] = specs();
  punch_side a{rt.system(), sa};
  punch_side b{rt.system(), sb};
  auto [ia, ib] = open_both(a, b);
  ASSERT_OK(ia);
  ASSERT_OK(ib);
  ASSERT_OK(b.ask<caf::ok_atom>(caf::close_atom::value));
  auto end_a = a.next_end();
  ASSERT_TRUE(end_a.has_value());
  EXPECT_ERRC(end_a->reason, errc::pipe_closed);
  // A has ended: its requests bounce.
  EXPECT_FALSE(a.ask<pipe_stats>(stats_atom::value));
}

TEST_F(UdpPunch, TheOwnerEndingClosesThePunchAndItsSockets) {
  auto [sa, sb] = specs();
  caf::scoped_actor watcher{rt.system()};
  {
    punch_side a{rt.system(), sa};
    punch_side b{rt.system(), sb};
    auto [ia, ib] = open_both(a, b);
    ASSERT_OK(ia);
    ASSERT_OK(ib);
    watcher->monitor(a.pipe);
    watcher->monitor(b.pipe);
  } // both owners (the sides' scoped actors) end here
  size_t downs = 0;
  watcher->receive_for(downs, size_t{2})([](caf::down_msg&) {}, caf::after(5s) >> [] {});
  EXPECT_EQ(downs, 2u);
  expect_no_fds_left();
}

TEST_F(UdpPunch, ThePathIdlesOutWhenThePeerGoesSilently) {
  auto [sa, sb] = specs();
  sa.keepalive = 40ms;
  sa.idle_timeout = 200ms;
  punch_side a{rt.system(), sa};
  punch_side b{rt.system(), sb};
  auto [ia, ib] = open_both(a, b);
  ASSERT_OK(ia);
  ASSERT_OK(ib);
  // B vanishes without a word (killed: no sealed close).
  caf::anon_send_exit(b.pipe, caf::exit_reason::kill);
  auto end_a = a.next_end(5s);
  ASSERT_TRUE(end_a.has_value());
  EXPECT_ERRC(end_a->reason, errc::idle_timeout);
  EXPECT_NE(what_of(end_a->reason).find("no authentic datagram from the peer"),
            std::string::npos);
}

TEST_F(UdpPunch, KeepalivesKeepAnIdlePathOpen) {
  auto [sa, sb] = specs();
  for (auto* s : {&sa, &sb}) {
    s->keepalive = 30ms;
    s->idle_timeout = 150ms;
  }
  punch_side a{rt.system(), sa};
  punch_side b{rt.system(), sb};
  auto [ia, ib] = open_both(a, b);
  ASSERT_OK(ia);
  ASSERT_OK(ib);
  // Five idle timeouts pass without data: no end on either side.
  EXPECT_FALSE(a.next_end(750ms).has_value());
  EXPECT_FALSE(b.next_end(10ms).has_value());
  ASSERT_OK(a.send("still here"));
  auto m = b.next_msg();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(to_string(m->data), "still here");
}

TEST_F(UdpPunch, AnAnsweringSideWithNoTargetsConnectsOnThePathThePeersProbeCameBy) {
  auto [sa, sb] = specs();
  sb.targets.clear();
  sb.answer_only = true; // a node port behind a port mapping: it only answers
  auto a_local = sa.local.front();
  auto b_local = sb.local.front();
  punch_side a{rt.system(), sa};
  punch_side b{rt.system(), sb};
  auto [ia, ib] = open_both(a, b);
  ASSERT_OK(ia);
  ASSERT_OK(ib);
  EXPECT_EQ(ia->remote, b_local);
  EXPECT_EQ(ib->remote, a_local);
  ASSERT_OK(a.send("to the quiet side"));
  auto m = b.next_msg();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(to_string(m->data), "to the quiet side");
}
