// A node on a network stack of its own: it hands node_spec::stack to what it
// starts, so a NIC only that stack reports ("sim0") is one the node loads,
// listens on and offers in its address.
#include <memory>

#include "node/node_fixture.hpp"
#include "support/test_stack.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NodeStack : public node_fixture {};

} // namespace

TEST_F(NodeStack, InterfaceActorsUseTheNodesStack) {
  // The host has no "sim0": an interface actor that listed the host's
  // interfaces itself would quit with interface_not_found, and the node with it.
  test_stack::config cfg;
  cfg.table = one_nic_table("sim0", 4243, {ip("127.0.0.1")});
  auto stack = std::make_shared<test_stack>(std::move(cfg));
  auto spec = spec_for();
  spec.interfaces = {"sim0"};
  spec.stack = stack;
  auto n = rt.start_node(std::move(spec));
  ASSERT_OK(n);
  ASSERT_FALSE(n->info().listeners.empty());
  for (auto& l : n->info().listeners)
    EXPECT_EQ(l.local.ip, ip("127.0.0.1")) << l.local.to_string();
  auto addr = node::parse_peer_address(n->address());
  ASSERT_OK(addr);
  ASSERT_FALSE(addr->routes.empty());
  EXPECT_GE(stack->interface_calls(), 2u); // the node's and its interface actor's
  EXPECT_GE(stack->pipe_calls(), n->info().listeners.size());
  EXPECT_FALSE(n->close());
}

// A NIC the stack lacks is the spec's mistake: the start fails at once with
// the reason, not after restarts or a request timeout.
TEST_F(NodeStack, AMissingInterfaceFailsTheStartAtOnceWithTheReason) {
  test_stack::config cfg;
  cfg.table = net::interface_table{};
  auto spec = spec_for();
  spec.interfaces = {"sim0"};
  spec.stack = std::make_shared<test_stack>(std::move(cfg));
  auto t0 = std::chrono::steady_clock::now();
  auto n = rt.start_node(std::move(spec));
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(n);
  EXPECT_ERRC(n, errc::interface_not_found);
  EXPECT_NE(render(n.error()).find("sim0"), std::string::npos) << render(n.error());
  EXPECT_LT(took, std::chrono::seconds(10));
}
