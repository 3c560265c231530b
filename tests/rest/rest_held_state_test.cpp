// What the REST server holds, and for how long: a name while it is looked
// up, and a peer's state only while a connection or a name needs it.

#include "rest_fixture.hpp"
#include "support/sockets.hpp"

namespace p2pd::test {

class RestHeldState : public rest_fixture {};

TEST_F(RestHeldState, ANameIsHeldWhileItIsLookedUpAndACloseEndsTheOpen) {
  // A name server that never answers: a UDP socket nobody reads.
  auto lo = net::ip_address::loopback(net::family::v4);
  auto silent = raw_udp({lo, 0});
  ASSERT_TRUE(silent);
  auto node = spec_for();
  node.name_servers = {{net::protocol::udp, raw_local(silent.get())}};
  node.name_timeout = std::chrono::seconds(2);
  auto a = serve(std::move(node), rest_spec_for());
  auto opening = start_curl(a, curl_call{"POST", "/open/c/bob.p2p", {}, {}, {}, "127.0.0.1"});
  curl_result cons;
  ASSERT_TRUE(eventually([&] {
    cons = get(a, "/cons/c");
    return cons.status == 200;
  })) << cons.status << " " << cons.body;
  EXPECT_EQ(cons.json()["opening"], true);
  EXPECT_EQ(cons.json()["address"], "bob.p2p");
  auto b = start();
  EXPECT_EQ(post(a, "/open/c/" + b.address()).status, 409); // held
  ASSERT_EQ(post(a, "/close/c").status, 200);
  auto late = finish(opening);
  EXPECT_EQ(late.status, 410) << late.body;
  EXPECT_EQ(get(a, "/cons/c").status, 404);
}

TEST_F(RestHeldState, APeerThatLeftWithMessagesNobodyNamedIsForgotten) {
  auto a = serve();
  auto b = start();
  ASSERT_OK(b.connect(a.node.address()));
  ASSERT_OK(b.send(a.node.id(), "never received"));
  auto buffered = [&] {
    auto peers = get(a, "/peers").json();
    for (auto& p : peers["peers"])
      if (p["id"] == b.id())
        return p["buffered"].get<int>();
    return -1;
  };
  ASSERT_TRUE(eventually([&] { return buffered() == 1; })) << get(a, "/peers").body;
  ASSERT_OK(b.disconnect(a.node.id()));
  // Nobody can bind a name to a peer that is gone: what it sent is
  // unreachable, and its state would stay for good.
  EXPECT_TRUE(eventually([&] { return buffered() == -1; }));
}

TEST_F(RestHeldState, ClosingTheLastNameOfAPeerThatLeftForgetsItsMessages) {
  auto a = serve();
  auto b = start();
  ASSERT_EQ(post(a, "/open/c/" + b.address()).status, 200);
  ASSERT_OK(b.send(a.node.id(), "one"));
  ASSERT_OK(b.send(a.node.id(), "two"));
  ASSERT_TRUE(eventually([&] { return get(a, "/cons/c").json().value("buffered", 0) == 2; }));
  ASSERT_OK(b.disconnect(a.node.id()));
  ASSERT_TRUE(eventually([&] { return get(a, "/cons/c").json().value("open", true) == false; }));
  // The name keeps what came: it can still be received.
  auto got = get(a, "/recv/c");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json()["data"], "one");
  ASSERT_EQ(post(a, "/close/c").status, 200);
  auto peers = get(a, "/peers").json()["peers"];
  EXPECT_TRUE(peers.empty()) << peers.dump();
}

TEST_F(RestHeldState, MessagesBeyondTheTotalBoundPushOutTheirOwnPeersOnly) {
  auto spec = rest_spec_for();
  spec.limits.max_buffered_total_bytes = 100;
  auto a = serve(spec);
  auto b = start();
  auto c = start();
  ASSERT_OK(b.connect(a.node.address()));
  ASSERT_OK(c.connect(a.node.address()));
  // {buffered, dropped} of `peer` in a's /peers.
  auto kept = [&](const std::string& peer) {
    auto peers = get(a, "/peers").json();
    for (auto& p : peers["peers"])
      if (p["id"] == peer)
        return std::make_pair(p["buffered"].get<int>(), p["dropped"].get<int>());
    return std::make_pair(-1, -1);
  };
  ASSERT_OK(b.send(a.node.id(), std::string(60, 'x')));
  ASSERT_TRUE(eventually([&] { return kept(b.id()) == std::make_pair(1, 0); }));
  // c's would pass the bound, and only b's could make room: c's is dropped.
  ASSERT_OK(c.send(a.node.id(), std::string(50, 'z')));
  ASSERT_TRUE(eventually([&] { return kept(c.id()) == std::make_pair(0, 1); }))
    << get(a, "/peers").body;
  EXPECT_EQ(kept(b.id()), std::make_pair(1, 0));
  // b's next one pushes out b's own oldest.
  ASSERT_OK(b.send(a.node.id(), std::string(60, 'y')));
  ASSERT_TRUE(eventually([&] { return kept(b.id()) == std::make_pair(1, 1); }))
    << get(a, "/peers").body;
  ASSERT_EQ(post(a, "/open/nb/" + b.id()).status, 200);
  auto got = get(a, "/recv/nb");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json()["data"], std::string(60, 'y'));
  EXPECT_EQ(stats_of(a).messages_dropped, 2u);
}

} // namespace p2pd::test
