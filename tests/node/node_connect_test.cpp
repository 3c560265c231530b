// Two and three nodes on loopback connecting direct and reverse, and
// talking over the connection.
#include "node/node_fixture.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NodeConnect : public node_fixture {};

} // namespace

TEST_F(NodeConnect, ANodeStartsAndTellsItsAddress) {
  auto a = start();
  EXPECT_EQ(a.id().size(), 32u);
  auto addr = node::parse_peer_address(a.address());
  ASSERT_OK(addr);
  EXPECT_EQ(addr->id().to_string(), a.id());
  ASSERT_FALSE(addr->routes.empty());
  EXPECT_EQ(addr->routes[0].port, a.info().port);
  EXPECT_FALSE(a.info().listeners.empty());
}

TEST_F(NodeConnect, DirectOverLoopbackCarriesMessagesBothWays) {
  auto a = start();
  auto b = start();
  caf::scoped_actor sub{rt.system()};
  ASSERT_FALSE(b.subscribe(caf::actor_cast<caf::actor>(sub.ptr())));
  auto conn = a.connect(b.address());
  ASSERT_OK(conn);
  EXPECT_EQ(conn->peer, b.id());
  EXPECT_EQ(conn->report.how, node::strategy::direct);
  EXPECT_EQ(conn->report.path, node::path_kind::same_host);
  ASSERT_FALSE(a.send(b.id(), "ping\nwith a newline"));
  auto got = next_of<node_msg>(sub);
  ASSERT_TRUE(got);
  EXPECT_EQ(to_string(got->data), "ping\nwith a newline");
  EXPECT_EQ(got->peer, a.id());
  // B answers on the pipe it got the message from.
  caf::scoped_actor asub{rt.system()};
  ASSERT_FALSE(a.subscribe(caf::actor_cast<caf::actor>(asub.ptr())));
  ASSERT_FALSE(b.send(a.id(), "pong"));
  auto back = next_of<node_msg>(asub);
  ASSERT_TRUE(back);
  EXPECT_EQ(to_string(back->data), "pong");
  EXPECT_EQ(back->peer, b.id());
}

TEST_F(NodeConnect, ReverseHasThePeerConnectBack) {
  auto a = start();
  auto b = start();
  node::connect_options opts;
  opts.strategies = {node::strategy::reverse};
  auto conn = a.connect(b.address(), opts);
  ASSERT_OK(conn);
  EXPECT_EQ(conn->report.how, node::strategy::reverse);
  EXPECT_TRUE(conn->inbound);
  EXPECT_EQ(conn->peer, b.id());
  caf::scoped_actor sub{rt.system()};
  ASSERT_FALSE(b.subscribe(caf::actor_cast<caf::actor>(sub.ptr())));
  ASSERT_FALSE(a.send(b.id(), "over the reverse connection"));
  auto got = next_of<node_msg>(sub);
  ASSERT_TRUE(got);
  EXPECT_EQ(to_string(got->data), "over the reverse connection");
}

TEST_F(NodeConnect, ASecondConnectSharesTheFirst) {
  auto a = start();
  auto b = start();
  auto first = a.connect(b.address());
  ASSERT_OK(first);
  auto second = a.connect(b.address());
  ASSERT_OK(second);
  EXPECT_TRUE(second->report.shared);
  EXPECT_EQ(second->pipe, first->pipe);
}

TEST_F(NodeConnect, ATamperedAddressIsRefusedAndCounted) {
  auto a = start();
  auto b = start();
  auto bad = b.address();
  bad[bad.size() / 2] = bad[bad.size() / 2] == 'a' ? 'b' : 'a';
  auto conn = a.connect(bad);
  ASSERT_FALSE(conn);
  auto stats = a.stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->refused_addresses, 1u);
  EXPECT_FALSE(a.connect("p2pd1_garbage"));
  EXPECT_FALSE(a.connect(std::string(5000, 'x')));
  EXPECT_EQ(a.stats()->refused_addresses, 3u);
}
