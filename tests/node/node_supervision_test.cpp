// The node supervises its interface actors, signal node and daemon: a child
// that fails is restarted one-for-one, past the restart budget the node ends
// with a reason naming the child, and a node that ends takes its children.
#include "node/node_fixture.hpp"
#include "support/chrony_fixture.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NodeSupervision : public node_fixture {
protected:
  /// The child of `n` whose name is `name`.
  static std::optional<node_child> child_named(node_handle& n, const std::string& name) {
    auto cs = n.children();
    EXPECT_OK(cs);
    if (cs)
      for (auto& c : *cs)
        if (c.name == name)
          return c;
    return std::nullopt;
  }

  /// Fails `name` with an I/O error, as a crash of the child would.
  void fail(node_handle& n, const std::string& name) {
    auto c = child_named(n, name);
    ASSERT_TRUE(c && c->actor) << name << " is not a live child";
    caf::scoped_actor killer{rt.system()};
    killer->send_exit(c->actor, make_error(errc::io_failed, "failed by the test"));
  }
};

} // namespace

TEST_F(NodeSupervision, ListsWhatItSupervises) {
  auto a = start();
  auto cs = a.children();
  ASSERT_OK(cs);
  std::vector<std::string> names;
  for (auto& c : *cs) {
    names.push_back(c.name);
    EXPECT_TRUE(c.actor);
    EXPECT_EQ(c.restarts, 0u);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"signal node", "daemon", "interface lo"}));
}

TEST_F(NodeSupervision, RestartsAFailedInterfaceActor) {
  caf::scoped_actor sub{rt.system()};
  auto a = start_watched(sub);
  auto before = child_named(a, "interface lo");
  fail(a, "interface lo");
  ASSERT_TRUE(progress_seen(sub, "interface lo restarted"));
  auto after = child_named(a, "interface lo");
  ASSERT_TRUE(after && after->actor);
  EXPECT_NE(after->actor, before->actor);
  EXPECT_EQ(after->restarts, 1u);
  EXPECT_EQ(a.stats()->child_restarts, 1u);
}

TEST_F(NodeSupervision, RestartsAFailedSignalNodeAndReverseConnectsAgain) {
  caf::scoped_actor sub{rt.system()};
  auto a = start_watched(sub);
  auto b = start();
  fail(a, "signal node");
  ASSERT_TRUE(progress_seen(sub, "signal node restarted"));
  ASSERT_TRUE(progress_seen(sub, "signalling online"));
  node::connect_options opts;
  opts.strategies = {node::strategy::reverse};
  auto conn = a.connect(b.address(), opts);
  ASSERT_OK(conn);
  EXPECT_EQ(conn->report.how, node::strategy::reverse);
}

TEST_F(NodeSupervision, RestartsAFailedDaemonOnTheSamePort) {
  caf::scoped_actor sub{rt.system()};
  auto a = start_watched(sub);
  auto b = start();
  ASSERT_OK(b.connect(a.address()));
  auto port = a.info().port;
  fail(a, "daemon");
  ASSERT_TRUE(progress_seen(sub, "daemon restarted"));
  ASSERT_TRUE(progress_seen(sub, "listening on TCP 127.0.0.1:" + std::to_string(port)));
  // B's connection went with the daemon; a new one reaches the same port.
  ASSERT_FALSE(b.disconnect(a.id()));
  auto again = b.connect(a.address());
  ASSERT_OK(again);
  EXPECT_EQ(again->report.remote.port, port);
}

TEST_F(NodeSupervision, EndsPastTheBudgetWithAReasonNamingTheChild) {
  caf::scoped_actor sub{rt.system()};
  auto spec = spec_for();
  spec.policy.intensity = 2;
  spec.policy.period = std::chrono::seconds(30);
  auto a = start_watched(sub, std::move(spec));
  auto daemon = child_named(a, "daemon");
  ASSERT_TRUE(daemon);
  sub->monitor(a.handle());
  sub->monitor(daemon->actor);
  for (int i = 0; i < 2; ++i) {
    fail(a, "interface lo");
    ASSERT_TRUE(progress_seen(sub, "interface lo restarted")) << "restart " << i;
  }
  fail(a, "interface lo");
  // The node ends, naming the child, and its daemon ends with it.
  std::optional<caf::error> node_reason;
  bool daemon_gone = false;
  for (int i = 0; i < 2; ++i)
    sub->receive(
      [&](caf::down_msg& dm) {
        if (dm.source == a.handle().address())
          node_reason = dm.reason;
        else if (dm.source == daemon->actor.address())
          daemon_gone = true;
      },
      caf::after(std::chrono::seconds(5)) >> [] {});
  ASSERT_TRUE(node_reason);
  EXPECT_ERRC(*node_reason, errc::child_failed);
  EXPECT_NE(render(*node_reason).find("interface lo failed more than 2 times"), std::string::npos)
    << render(*node_reason);
  EXPECT_TRUE(daemon_gone);
}

TEST_F(NodeSupervision, RunsAndRestartsItsNtpClock) {
  std::string why;
  auto chrony = chrony_server::start(why);
  if (!chrony)
    GTEST_SKIP() << "chronyd: " << why;
  caf::scoped_actor sub{rt.system()};
  auto spec = spec_for();
  ntp_clock_spec cs;
  cs.endpoints = {chrony->endpoint()};
  spec.clock = cs;
  auto a = start_watched(sub, spec);
  auto before = child_named(a, "NTP clock");
  ASSERT_TRUE(before && before->actor);
  fail(a, "NTP clock");
  ASSERT_TRUE(progress_seen(sub, "NTP clock restarted"));
  auto after = child_named(a, "NTP clock");
  ASSERT_TRUE(after && after->actor);
  EXPECT_NE(after->actor, before->actor);
  EXPECT_EQ(after->restarts, 1u);
}

TEST_F(NodeSupervision, StartsNoClockWithoutNtpServers) {
  auto a = start();
  EXPECT_FALSE(child_named(a, "NTP clock"));
}
