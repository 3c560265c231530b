// A punch against what it must refuse: wrong keys, a peer that never
// starts, a third party's garbage, forgeries and replays, requests that
// make no sense for a punched pipe, bad specs. Each refused with a clear
// error, counted, and nothing left open.
#include "actors/punch/punch_fixture.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class UdpPunchBadInput : public punch_test {
protected:
  endpoint a_local = stack.bind(any_port("127.0.0.1"));
  endpoint b_local = stack.bind(any_port("127.0.0.1"));

  udp_punch_spec spec_a() { return punch_spec(stack.stack(), {a_local}, {b_local}, keys.initiator, true); }
  udp_punch_spec spec_b() { return punch_spec(stack.stack(), {b_local}, {a_local}, keys.responder, false); }

  // A frame sealed with one side's keys, from counter `counter` on (the
  // test holds the keys: what a peer would have sent).
  static std::vector<uint8_t> sealed_by(const net::session_keys& k, uint64_t counter,
                                        net::frame_kind kind, const std::string& text) {
    auto s = net::datagram_seal::make(k, counter);
    EXPECT_TRUE(static_cast<bool>(s));
    auto x = s->seal(kind, bytes_of(text));
    EXPECT_TRUE(static_cast<bool>(x));
    return x ? *x : std::vector<uint8_t>{};
  }

  static std::string text_of(const std::vector<uint8_t>& x) { return {x.begin(), x.end()}; }
};

} // namespace

TEST_F(UdpPunchBadInput, WrongKeysNeverConnectAndCountForgeries) {
  auto sb = spec_b();
  sb.keys = make_punch_keys(2).responder; // another punch's keys
  auto sa = spec_a();
  sa.window = 500ms;
  sb.window = 500ms;
  {
    punch_side a{rt.system(), sa};
    punch_side b{rt.system(), sb};
    auto [ia, ib] = open_both(a, b);
    for (auto* x : {&ia, &ib}) {
      ASSERT_FALSE(*x);
      EXPECT_ERRC(x->error(), errc::punch_failed);
      auto why = what_of(x->error());
      EXPECT_NE(why.find("no path agreed within the window of 500 ms"), std::string::npos) << why;
      EXPECT_NE(why.find("no authentic datagram came"), std::string::npos) << why;
      // Another punch's keys give another tag: its frames are foreign.
      EXPECT_NE(why.find(" foreign"), std::string::npos) << why;
    }
    // The pipe ended: its subscribers heard why.
    auto end = a.next_end();
    ASSERT_TRUE(end.has_value());
    EXPECT_ERRC(end->reason, errc::punch_failed);
  }
  expect_no_fds_left();
}

TEST_F(UdpPunchBadInput, KeysOfTheRightSessionButWrongDirectionAreForgeries) {
  // Both sides seal with the initiator's keys: the tag matches, nothing
  // authenticates.
  auto sb = spec_b();
  sb.keys = keys.initiator;
  auto sa = spec_a();
  sa.window = 400ms;
  sb.window = 400ms;
  punch_side a{rt.system(), sa};
  punch_side b{rt.system(), sb};
  auto [ia, ib] = open_both(a, b);
  ASSERT_FALSE(ia);
  EXPECT_ERRC(ia.error(), errc::punch_failed);
  auto why = what_of(ia.error());
  EXPECT_NE(why.find("no authentic datagram came"), std::string::npos) << why;
  EXPECT_EQ(why.find("dropped 0 forged"), std::string::npos) << why;
  EXPECT_NE(why.find(" forged"), std::string::npos) << why;
}

TEST_F(UdpPunchBadInput, APeerThatNeverStartsFailsAtTheEndOfTheWindow) {
  // B's socket is there but nobody runs B: A's probes go unanswered.
  auto base = open_fds();
  auto silent = raw_udp(any_port("127.0.0.1"));
  auto silent_at = *net::local_endpoint(silent.get());
  auto sa = punch_spec(stack.stack(), {a_local}, {silent_at}, keys.initiator, true);
  sa.window = 300ms;
  sa.max_probes = 8;
  punch_side a{rt.system(), sa};
  a.open();
  auto ia = a.opened();
  ASSERT_FALSE(ia);
  EXPECT_ERRC(ia.error(), errc::punch_failed);
  auto why = what_of(ia.error());
  EXPECT_NE(why.find("within the window of 300 ms"), std::string::npos) << why;
  EXPECT_NE(why.find("8 probes in 8 rounds from 1 socket to 1 endpoint"), std::string::npos)
    << why;
  EXPECT_NE(why.find("no authentic datagram came"), std::string::npos) << why;
  // Exactly the probes it reported reached the silent socket, no more.
  size_t got = 0;
  char buf[2048];
  while (::recv(silent.get(), buf, sizeof(buf), MSG_DONTWAIT) > 0)
    ++got;
  EXPECT_EQ(got, 8u);
  silent = net::unique_fd{};
  EXPECT_TRUE(eventually([&] { return open_fds() < base; })) << "A's socket is still open";
}

TEST_F(UdpPunchBadInput, GarbageForgeriesAndReplaysFromAThirdPartyAreDroppedAndCounted) {
  punch_side a{rt.system(), spec_a()};
  punch_side b{rt.system(), spec_b()};
  auto [ia, ib] = open_both(a, b);
  ASSERT_OK(ia);
  ASSERT_OK(ib);
  auto third = raw_udp(any_port("127.0.0.1"));
  // At each side: what looks like the peer's frames and is not.
  struct target {
    punch_side* side;
    punch_side* peer;
    endpoint at;
    const net::session_keys* peer_keys;
  };
  for (auto t : {target{&b, &a, b_local, &keys.initiator}, target{&a, &b, a_local, &keys.responder}}) {
    auto real = sealed_by(*t.peer_keys, 1'000'000, net::frame_kind::data, "not really");
    auto forged = real;
    forged[20] ^= 0x40;
    auto foreign = sealed_by(make_punch_keys(9).initiator, 0, net::frame_kind::data, "x");
    // Counter 0 of the peer came (its first probe) and was accepted.
    auto replay = sealed_by(*t.peer_keys, 0, net::frame_kind::probe, "");
    auto v9 = real;
    v9[0] = 9;
    for (const auto& bad : {std::string{"hello?"}, text_of(v9), text_of(forged),
                            text_of(foreign), text_of(replay)})
      ASSERT_TRUE(raw_send_to(third.get(), t.at, bad));
    // Then the peer's real data: when it arrives, all before it was handled
    // (one socket, one order).
    ASSERT_OK(t.peer->send("after the noise"));
    auto m = t.side->next_msg();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(to_string(m->data), "after the noise");
    auto st = t.side->stats();
    EXPECT_EQ(st.dropped_malformed, 2u);
    EXPECT_EQ(st.dropped_forged, 1u);
    EXPECT_EQ(st.dropped_foreign, 1u);
    EXPECT_EQ(st.dropped_replayed, 1u);
    EXPECT_EQ(st.rx_msgs, 1u);
    // The path did not move to the third party.
    auto info = t.side->ask<pipe_info>(info_atom::value);
    ASSERT_OK(info);
    EXPECT_NE(info->remote, *net::local_endpoint(third.get()));
  }
}

TEST_F(UdpPunchBadInput, AFloodIsBoundedCountedAndTheSessionGoesOn) {
  auto sb = spec_b();
  sb.conf.max_qsize = 64;
  punch_side a{rt.system(), spec_a()};
  punch_side b{rt.system(), sb};
  auto [ia, ib] = open_both(a, b);
  ASSERT_OK(ia);
  ASSERT_OK(ib);
  auto third = raw_udp(any_port("127.0.0.1"));
  constexpr size_t flood = 5000;
  size_t sent = 0;
  for (size_t i = 0; i < flood; ++i)
    sent += raw_send_to(third.get(), b_local, std::string(40, 'x')) ? 1 : 0;
  // The kernel may have dropped A's first datagram too while B's socket
  // buffer was full: a few tries, each waited for.
  std::optional<pipe_msg> m;
  for (int i = 0; i < 10 && !m; ++i) {
    ASSERT_OK(a.send("through the flood"));
    m = b.next_msg(500ms);
  }
  ASSERT_TRUE(m.has_value()) << "the session did not survive the flood";
  EXPECT_EQ(to_string(m->data), "through the flood");
  auto st = b.stats();
  // Every datagram that reached the punch was counted once: as malformed,
  // or as pushed out of its bounded inbox (the kernel may drop some first).
  EXPECT_LE(st.dropped_malformed + st.dropped_queue_full, sent);
  EXPECT_GT(st.dropped_malformed, 0u);
}

TEST_F(UdpPunchBadInput, AuthenticDataFromANewSourceMovesThePathForgeriesDoNot) {
  punch_side a{rt.system(), spec_a()};
  punch_side b{rt.system(), spec_b()};
  auto [ia, ib] = open_both(a, b);
  ASSERT_OK(ia);
  ASSERT_OK(ib);
  // B's NAT "rebinds": B's next frames come from another port. The test
  // holds B's keys and plays that: a fresh counter far above B's.
  auto moved = raw_udp(any_port("127.0.0.1"));
  auto moved_at = *net::local_endpoint(moved.get());
  auto frame = sealed_by(keys.responder, 1'000'000, net::frame_kind::data, "from my new port");
  auto forged = sealed_by(keys.responder, 2'000'000, net::frame_kind::data, "forged");
  forged.back() ^= 1;
  auto stranger = raw_udp(any_port("127.0.0.1"));
  ASSERT_TRUE(raw_send_to(stranger.get(), a_local, text_of(forged)));
  ASSERT_TRUE(raw_send_to(moved.get(), a_local, text_of(frame)));
  auto m = a.next_msg();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(to_string(m->data), "from my new port");
  EXPECT_EQ(m->from, moved_at);
  auto info = a.ask<pipe_info>(info_atom::value);
  ASSERT_OK(info);
  EXPECT_EQ(info->remote, moved_at);
  // A's next data goes to the new source.
  ASSERT_OK(a.send("to your new port"));
  set_timeouts(moved.get(), 5s);
  char buf[2048];
  auto n = ::recv(moved.get(), buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  auto s = net::datagram_seal::make(keys.responder);
  ASSERT_TRUE(static_cast<bool>(s));
  // The frame opens with B's keys (its counter is past the others').
  auto f = s->open(net::byte_view{reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n)});
  ASSERT_OK(f);
  EXPECT_EQ(f->kind, net::frame_kind::data);
  EXPECT_EQ(text_of(f->payload), "to your new port");
  EXPECT_EQ(a.stats().dropped_forged, 1u);
}

TEST_F(UdpPunchBadInput, RequestsThatMakeNoSenseAreRefusedWithAReason) {
  punch_side a{rt.system(), spec_a()};
  punch_side b{rt.system(), spec_b()};
  // Before the open: no info, no sends.
  EXPECT_ERRC(a.ask<pipe_info>(info_atom::value), errc::pipe_closed);
  EXPECT_ERRC(a.send("too early"), errc::pipe_closed);
  auto [ia, ib] = open_both(a, b);
  ASSERT_OK(ia);
  ASSERT_OK(ib);
  EXPECT_ERRC(a.ask<uint64_t>(queue_atom::value, msg_filter::any()), errc::invalid_argument);
  EXPECT_ERRC(a.ask<pipe_msg>(recv_atom::value, msg_filter::any(), caf::timespan{1s}),
              errc::invalid_argument);
  EXPECT_ERRC(a.ask<pipe_msg>(recv_atom::value, uint64_t{1}, caf::timespan{1s}),
              errc::invalid_argument);
  EXPECT_ERRC(a.ask<pipe_msg>(ask_atom::value, to_bytes("?"), msg_filter::any()),
              errc::invalid_argument);
  EXPECT_ERRC(a.ask<caf::ok_atom>(caf::link_atom::value, caf::actor_cast<caf::actor>(b.pipe)),
              errc::link_rejected);
  EXPECT_OK(a.ask<caf::ok_atom>(caf::unlink_atom::value, caf::actor_cast<caf::actor>(b.pipe)));
  EXPECT_ERRC(a.ask<std::vector<endpoint>>(clients_atom::value), errc::invalid_argument);
  EXPECT_ERRC(a.ask<caf::ok_atom>(caf::close_atom::value, b_local), errc::unknown_peer);
  EXPECT_ERRC(a.ask<caf::ok_atom>(caf::unsubscribe_atom::value, uint64_t{7}),
              errc::unknown_subscription);
  // Sends it cannot make: to another endpoint, too large.
  caf::error err;
  a.self->request(a.pipe, 5s, send_atom::value, to_bytes("x"), at("127.0.0.1", 9))
    .receive([] {}, [&](caf::error& e) { err = e; });
  EXPECT_ERRC(err, errc::unknown_peer);
  EXPECT_ERRC(a.send(std::string(1201, 'x')), errc::message_too_large);
  EXPECT_EQ(a.stats().dropped_send, 3u); // with the one before the open
  // Still open and working.
  ASSERT_OK(a.send(std::string(1200, 'y')));
  auto m = b.next_msg();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->data.size(), 1200u);
}

TEST_F(UdpPunchBadInput, BothSidesControllingFailsAtOnceSayingWhy) {
  auto sb = spec_b();
  sb.controlling = true;
  punch_side a{rt.system(), spec_a()};
  punch_side b{rt.system(), sb};
  auto [ia, ib] = open_both(a, b);
  // Neither opens; at least one saw the other's nomination and said so
  // (the other may hear its close first).
  ASSERT_FALSE(ia);
  ASSERT_FALSE(ib);
  EXPECT_ERRC(ia.error(), errc::punch_failed);
  EXPECT_ERRC(ib.error(), errc::punch_failed);
  auto why = what_of(ia.error()) + " | " + what_of(ib.error());
  EXPECT_NE(why.find("both sides think they are controlling"), std::string::npos) << why;
}

TEST_F(UdpPunchBadInput, ABadSpecIsRefusedOnOpen) {
  std::vector<std::pair<std::string, std::function<void(udp_punch_spec&)>>> cases = {
    {"no local endpoint", [](udp_punch_spec& s) { s.local.clear(); }},
    {"nothing to probe", [](udp_punch_spec& s) { s.targets.clear(); }},
    {"an answering side probes nobody", [](udp_punch_spec& s) { s.answer_only = true; }},
    {"families", [](udp_punch_spec& s) { s.targets = {at("::1", 9)}; }},
    {"keepalive", [](udp_punch_spec& s) { s.idle_timeout = s.keepalive; }},
    {"max_datagram", [](udp_punch_spec& s) { s.max_datagram = 70000; }},
    {"spray probes", [](udp_punch_spec& s) {
       s.spray_probes = 20;
       s.spray_port_min = 5000;
       s.spray_port_max = 5009;
     }},
  };
  for (auto& [what, change] : cases) {
    auto s = spec_a();
    change(s);
    punch_side a{rt.system(), s};
    a.open();
    auto x = a.opened();
    ASSERT_FALSE(x) << what;
    EXPECT_ERRC(x.error(), errc::invalid_argument) << what;
    EXPECT_NE(what_of(x.error()).find("udp_punch_spec: "), std::string::npos) << what;
  }
  // Nothing was bound for them.
  EXPECT_EQ(stack.counters().pipe_calls(), 0u);
}
