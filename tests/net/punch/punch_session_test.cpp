#include "p2pd/net/punch/punch_session.hpp"

#include <deque>
#include <set>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::at;
using p2pd::test::bytes_of;

namespace {

session_keys keys_for(bool initiator, uint8_t salt = 0) {
  session_keys k;
  for (size_t i = 0; i < 32; ++i) {
    k.send[i] = static_cast<uint8_t>(initiator ? i : 100 + i);
    k.recv[i] = static_cast<uint8_t>(initiator ? 100 + i : i);
  }
  k.send[0] ^= salt;
  k.tag = 0xabcd0123;
  return k;
}

std::vector<endpoint> ends(const char* ip, uint16_t base, size_t n) {
  std::vector<endpoint> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(at(ip, static_cast<uint16_t>(base + i)));
  return out;
}

punch_session make(const session_keys& k, punch_config cfg) {
  auto s = punch_session::make(k, std::move(cfg));
  if (!s)
    throw std::runtime_error{to_string(s.error())};
  return std::move(*s);
}

// Two sides on a network that delivers at once, in order, what `passes`
// lets through: side A's sockets at 10.0.0.1:1000+i, B's at 10.0.0.2:2000+i.
struct two_sides {
  std::vector<endpoint> a_ends;
  std::vector<endpoint> b_ends;
  punch_session a;
  punch_session b;
  std::function<bool(const endpoint& from, const endpoint& to)> passes
    = [](const endpoint&, const endpoint&) { return true; };
  /// Where a socket's datagrams seem to come from once past its NAT (and
  /// where datagrams for it must go): B's NAT may move its mapping.
  std::function<endpoint(const endpoint&)> seen_b = [](const endpoint& e) { return e; };
  std::vector<punch_received> got_a;
  std::vector<punch_received> got_b;
  size_t delivered = 0;

  two_sides(size_t na, size_t nb, bool a_controls = true, uint8_t b_salt = 0)
    : a_ends(ends("10.0.0.1", 1000, na)),
      b_ends(ends("10.0.0.2", 2000, nb)),
      a(make(keys_for(true), config(na, b_ends, a_controls))),
      b(make(keys_for(false, b_salt), config(nb, a_ends, false))) {}

  static punch_config config(size_t n, std::vector<endpoint> targets, bool controlling) {
    punch_config c;
    c.sockets = n;
    c.targets = std::move(targets);
    c.controlling = controlling;
    return c;
  }

  // Delivers `sends` from A (or B) and every answer they cause.
  void run(std::vector<punch_send> sends, bool from_a) {
    std::deque<std::pair<punch_send, bool>> q;
    for (auto& s : sends)
      q.emplace_back(std::move(s), from_a);
    while (!q.empty()) {
      auto [s, by_a] = std::move(q.front());
      q.pop_front();
      auto src = (by_a ? a_ends : b_ends)[s.socket];
      if (!by_a)
        src = seen_b(src);
      const auto& dst_ends = by_a ? b_ends : a_ends;
      if (!passes(src, s.to))
        continue;
      for (size_t i = 0; i < dst_ends.size(); ++i) {
        if ((by_a ? seen_b(dst_ends[i]) : dst_ends[i]) != s.to)
          continue;
        ++delivered;
        std::vector<punch_send> out;
        auto& side = by_a ? b : a;
        auto r = side.on_datagram(i, src, s.bytes, out);
        (by_a ? got_b : got_a).push_back(r);
        for (auto& o : out)
          q.emplace_back(std::move(o), !by_a);
      }
    }
  }

  void rounds(int n) {
    for (int i = 0; i < n; ++i) {
      run(a.round(), true);
      run(b.round(), false);
    }
  }

  static bool any_selected(const std::vector<punch_received>& xs) {
    for (auto& x : xs)
      if (x.selected)
        return true;
    return false;
  }
};

} // namespace

TEST(PunchSession, TwoSidesAgreeOnOnePathAndExchangeData) {
  two_sides n{1, 1};
  n.rounds(1);
  ASSERT_EQ(n.a.phase(), punch_phase::open);
  ASSERT_EQ(n.b.phase(), punch_phase::open);
  EXPECT_TRUE(two_sides::any_selected(n.got_a));
  EXPECT_TRUE(two_sides::any_selected(n.got_b));
  EXPECT_EQ(n.a.path()->remote, n.b_ends[0]);
  EXPECT_EQ(n.b.path()->remote, n.a_ends[0]);

  auto d = n.a.data(bytes_of("hello b"));
  ASSERT_OK(d);
  n.got_b.clear();
  n.run({*d}, true);
  ASSERT_EQ(n.got_b.size(), 1u);
  ASSERT_TRUE(n.got_b[0].data.has_value());
  EXPECT_EQ(*n.got_b[0].data, bytes_of("hello b"));

  auto c = n.b.close();
  ASSERT_OK(c);
  n.got_a.clear();
  n.run({*c}, false);
  ASSERT_EQ(n.got_a.size(), 1u);
  EXPECT_TRUE(n.got_a[0].peer_closed);
  EXPECT_EQ(n.a.phase(), punch_phase::done);
}

TEST(PunchSession, OnlyTheWorkingPathOfManyIsKeptByBoth) {
  two_sides n{3, 2};
  // Only A's socket 2 and B's socket 1 reach each other.
  n.passes = [&](const endpoint& from, const endpoint& to) {
    auto ok = [&](const endpoint& e) { return e == n.a_ends[2] || e == n.b_ends[1]; };
    return ok(from) && ok(to);
  };
  n.rounds(1);
  ASSERT_EQ(n.a.phase(), punch_phase::open);
  ASSERT_EQ(n.b.phase(), punch_phase::open);
  EXPECT_EQ(n.a.path()->socket, 2u);
  EXPECT_EQ(n.a.path()->remote, n.b_ends[1]);
  EXPECT_EQ(n.b.path()->socket, 1u);
  EXPECT_EQ(n.b.path()->remote, n.a_ends[2]);
  // A round from 3 sockets to 2 targets, and one probe back on the path
  // B's probe came by (triggered).
  EXPECT_EQ(n.a.probes_sent(), 3u * 2u + 1u);
}

TEST(PunchSession, APunchNeedsBothSidesToSend) {
  // A port-restricted NAT on each side: a datagram passes only toward an
  // endpoint that already sent to its sender.
  two_sides n{1, 1};
  std::set<std::pair<endpoint, endpoint>> sent; // (from, to) seen going out
  n.passes = [&](const endpoint& from, const endpoint& to) {
    sent.insert({from, to});
    return sent.count({to, from}) != 0;
  };
  for (int i = 0; i < 3; ++i)
    n.run(n.a.round(), true); // only A probes
  EXPECT_EQ(n.delivered, 0u);
  EXPECT_EQ(n.a.phase(), punch_phase::probing);
  n.run(n.b.round(), false); // B's probe opens B's side and meets A's mapping
  EXPECT_EQ(n.a.phase(), punch_phase::open);
  EXPECT_EQ(n.b.phase(), punch_phase::open);
}

TEST(PunchSession, AMappingTheNatMovedMidPunchIsFollowedByTheTriggeredCheck) {
  // A predicted B at 10.0.0.2:2000; B's NAT has since given that socket
  // another port. A's probes to the prediction die; B's probe comes from
  // the new port, and A answers and nominates the path it came by.
  two_sides n{1, 1};
  auto moved = at("10.0.0.2", 2999);
  n.seen_b = [&](const endpoint& e) { return e == n.b_ends[0] ? moved : e; };
  n.rounds(1);
  ASSERT_EQ(n.a.phase(), punch_phase::open);
  ASSERT_EQ(n.b.phase(), punch_phase::open);
  EXPECT_EQ(n.a.path()->remote, moved);
  EXPECT_EQ(n.b.path()->remote, n.a_ends[0]);
  auto d = n.a.data(bytes_of("to the new port"));
  ASSERT_OK(d);
  n.got_b.clear();
  n.run({*d}, true);
  ASSERT_EQ(n.got_b.size(), 1u);
  ASSERT_TRUE(n.got_b[0].data.has_value());
  EXPECT_EQ(*n.got_b[0].data, bytes_of("to the new port"));
}

TEST(PunchSession, ALostNominateAckIsMadeUpForByTheFirstData) {
  two_sides n{1, 1};
  // By hand, so that B's nominate_ack can be lost.
  auto probes = n.a.round();
  std::vector<punch_send> b_out;
  auto r = n.b.on_datagram(0, n.a_ends[0], probes[0].bytes, b_out); // probe -> ack + probe
  ASSERT_EQ(b_out.size(), 2u);
  std::vector<punch_send> a_out;
  n.a.on_datagram(0, n.b_ends[0], b_out[0].bytes, a_out); // ack -> nominate
  ASSERT_EQ(n.a.phase(), punch_phase::nominating);
  ASSERT_EQ(a_out.size(), 1u);
  b_out.clear();
  r = n.b.on_datagram(0, n.a_ends[0], a_out[0].bytes, b_out); // nominate -> ack (lost)
  EXPECT_TRUE(r.selected);
  ASSERT_EQ(n.b.phase(), punch_phase::open);
  auto d = n.b.data(bytes_of("first"));
  ASSERT_OK(d);
  a_out.clear();
  r = n.a.on_datagram(0, n.b_ends[0], d->bytes, a_out);
  EXPECT_TRUE(r.selected);
  ASSERT_TRUE(r.data.has_value());
  EXPECT_EQ(*r.data, bytes_of("first"));
  EXPECT_EQ(n.a.phase(), punch_phase::open);
}

TEST(PunchSession, ANominationIsResentABoundedNumberOfTimes) {
  punch_config c;
  c.targets = {at("10.0.0.2", 2000)};
  c.controlling = true;
  c.nominate_tries = 3;
  auto a = make(keys_for(true), c);
  c.controlling = false;
  c.targets = {at("10.0.0.1", 1000)};
  auto b = make(keys_for(false), c);
  auto probe = b.round();
  std::vector<punch_send> out;
  a.on_datagram(0, at("10.0.0.2", 2000), probe[0].bytes, out); // ack + triggered probe
  std::vector<punch_send> b_out;
  b.on_datagram(0, at("10.0.0.1", 1000), out[1].bytes, b_out); // B acks A's probe
  out.clear();
  a.on_datagram(0, at("10.0.0.2", 2000), b_out[0].bytes, out);
  ASSERT_EQ(a.phase(), punch_phase::nominating);
  EXPECT_EQ(a.nominations(), 1u);
  EXPECT_TRUE(a.renominate().has_value());
  EXPECT_TRUE(a.renominate().has_value());
  EXPECT_EQ(a.nominations(), 3u);
  EXPECT_FALSE(a.renominate().has_value());
  EXPECT_EQ(a.phase(), punch_phase::done);
  EXPECT_NE(a.summary().find("nominated socket 0 -> 10.0.0.2:2000 3 times"), std::string::npos)
    << a.summary();
}

TEST(PunchSession, BothSidesControllingIsAConflict) {
  two_sides n{1, 1, true};
  // Make B controlling too by building it again.
  n.b = make(keys_for(false), two_sides::config(1, n.a_ends, true));
  n.rounds(1);
  bool conflict = false;
  for (auto& r : n.got_a)
    conflict = conflict || r.conflict;
  for (auto& r : n.got_b)
    conflict = conflict || r.conflict;
  EXPECT_TRUE(conflict);
}

TEST(PunchSession, WrongKeysNeverOpenAndCountForgeries) {
  two_sides n{1, 1, true, 0x55}; // B seals with another key
  n.rounds(3);
  EXPECT_EQ(n.a.phase(), punch_phase::probing);
  EXPECT_EQ(n.b.phase(), punch_phase::probing);
  ASSERT_FALSE(n.got_a.empty());
  EXPECT_EQ(n.a.counters().forged, n.got_a.size());
  EXPECT_EQ(n.a.authentic(), 0u);
  for (auto& r : n.got_a)
    EXPECT_EQ(r.dropped.code, errc::forged);
  EXPECT_NE(n.a.summary().find("no authentic datagram came"), std::string::npos);
  EXPECT_NE(n.a.summary().find(std::to_string(n.got_a.size()) + " forged"), std::string::npos)
    << n.a.summary();
}

TEST(PunchSession, TheRemoteFollowsAuthenticFramesOnly) {
  two_sides n{1, 1};
  n.rounds(1);
  ASSERT_EQ(n.a.phase(), punch_phase::open);
  auto moved = at("10.0.0.2", 2999); // B's NAT gave it another port
  auto d1 = n.b.data(bytes_of("from the new port"));
  ASSERT_OK(d1);
  std::vector<punch_send> out;
  // A forged frame from elsewhere moves nothing.
  auto forged = d1->bytes;
  forged.back() ^= 1;
  auto r = n.a.on_datagram(0, at("10.0.0.66", 4000), forged, out);
  EXPECT_EQ(r.dropped.code, errc::forged);
  EXPECT_EQ(n.a.path()->remote, n.b_ends[0]);
  r = n.a.on_datagram(0, moved, d1->bytes, out);
  EXPECT_TRUE(r.rebound);
  EXPECT_EQ(n.a.path()->remote, moved);
  // The same frame again, from a third place: replayed, and no move.
  r = n.a.on_datagram(0, at("10.0.0.66", 4000), d1->bytes, out);
  EXPECT_EQ(r.dropped.code, errc::replayed);
  EXPECT_EQ(n.a.path()->remote, moved);
  auto reply = n.a.data(bytes_of("back"));
  ASSERT_OK(reply);
  EXPECT_EQ(reply->to, moved);
}

TEST(PunchSession, AfterOpenProbesOnOtherPathsAreStray) {
  two_sides n{2, 1};
  n.passes = [&](const endpoint& from, const endpoint& to) {
    return from != n.a_ends[1] && to != n.a_ends[1];
  };
  n.rounds(1);
  ASSERT_EQ(n.a.phase(), punch_phase::open);
  // B probes A's other socket late (the path was chosen meanwhile).
  auto late = n.b.keepalive(); // any authentic frame will do for B's key
  ASSERT_OK(late);
  auto before = n.a.stray(); // late acks of the punch count too
  std::vector<punch_send> out;
  auto r = n.a.on_datagram(1, n.b_ends[0], late->bytes, out);
  EXPECT_TRUE(r.stray);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(n.a.stray(), before + 1);
}

TEST(PunchSession, ProbesStayWithinTheirBudgetAndSprayOnlyInTheFirstRounds) {
  punch_config c;
  c.sockets = 2;
  c.targets = {at("10.0.0.2", 2000)};
  c.spray = ends("10.0.0.2", 3000, 10);
  c.spray_rounds = 2;
  c.max_probes = 50;
  auto a = make(keys_for(true), c);
  EXPECT_EQ(a.round().size(), 22u); // 2 sockets x (1 target + 10 sprayed)
  EXPECT_EQ(a.round().size(), 22u);
  EXPECT_EQ(a.round().size(), 2u); // the spray is over
  EXPECT_EQ(a.round().size(), 2u);
  EXPECT_EQ(a.round().size(), 2u); // 50 in all
  EXPECT_TRUE(a.round().empty());
  EXPECT_EQ(a.probes_sent(), 50u);
  EXPECT_EQ(a.rounds(), 5u);
}

TEST(PunchSession, NothingToProbeOrNoSocketIsRefused) {
  punch_config c;
  EXPECT_ERRC(punch_session::make(keys_for(true), c), errc::invalid_argument);
  c.targets = {at("10.0.0.2", 2000)};
  c.sockets = 0;
  EXPECT_ERRC(punch_session::make(keys_for(true), c), errc::invalid_argument);
}

TEST(PunchSession, NoDataBeforeAPathAndNoCloseWithoutOne) {
  punch_config c;
  c.targets = {at("10.0.0.2", 2000)};
  auto a = make(keys_for(true), c);
  EXPECT_ERRC(a.data(bytes_of("early")), errc::pipe_closed);
  EXPECT_ERRC(a.keepalive(), errc::pipe_closed);
  EXPECT_ERRC(a.close(), errc::pipe_closed);
  EXPECT_EQ(a.phase(), punch_phase::done);
  EXPECT_TRUE(a.round().empty());
}

TEST(PunchSession, AnAnsweringSideProbesNobodyAndTakesThePathThePeersProbeCameBy) {
  two_sides n{1, 1};
  punch_config quiet;
  quiet.sockets = 1;
  quiet.answer_only = true; // a node port behind a port mapping
  n.b = make(keys_for(false), quiet);
  EXPECT_TRUE(n.b.round().empty());
  n.rounds(1);
  ASSERT_EQ(n.a.phase(), punch_phase::open);
  ASSERT_EQ(n.b.phase(), punch_phase::open);
  EXPECT_EQ(n.a.path()->remote, n.b_ends[0]);
  EXPECT_EQ(n.b.path()->remote, n.a_ends[0]);
}

TEST(PunchSession, AnAnsweringSideWithTargetsIsRefused) {
  punch_config c;
  c.answer_only = true;
  c.targets = {at("10.0.0.1", 1000)};
  auto s = punch_session::make(keys_for(false), c);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, errc::invalid_argument);
}
