// A node's metrics request (node_actor, metrics_atom): what connects,
// messages and the node's pipes count, and its Prometheus exposition as a
// scraper reads it.
#include "node/node_fixture.hpp"

#include "caf/event_based_actor.hpp"

#include "p2pd/node/metrics/detail/metrics_gather.hpp"
#include "p2pd/node/metrics/prometheus.hpp"

#include "support/prometheus_text.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NodeMetrics : public node_fixture {
protected:
  /// Nodes a and b, a connected to b directly, and "hello" from a to b, seen by b.
  void connected_pair() {
    a.emplace(start());
    b.emplace(start());
    caf::scoped_actor sub{rt.system()};
    ASSERT_FALSE(b->subscribe(caf::actor_cast<caf::actor>(sub.ptr())));
    auto conn = a->connect(b->address());
    ASSERT_OK(conn);
    ASSERT_EQ(conn->report.how, node::strategy::direct);
    ASSERT_FALSE(a->send(b->id(), "hello"));
    ASSERT_TRUE(next_of<node_msg>(sub));
  }

  std::optional<node_handle> a;
  std::optional<node_handle> b;
};

uint64_t tally(const node_metrics& m, const std::string& how, const std::string& outcome) {
  for (auto& t : m.connects)
    if (t.strategy == how && t.outcome == outcome)
      return t.count;
  return 0;
}

const ms_histogram* times_of(const node_metrics& m, const std::string& how) {
  for (auto& t : m.connect_times)
    if (t.strategy == how)
      return &t.ms;
  return nullptr;
}

} // namespace

TEST_F(NodeMetrics, ADirectConnectCountsOnceWithItsTime) {
  ASSERT_NO_FATAL_FAILURE(connected_pair());
  auto m = a->metrics();
  ASSERT_OK(m);
  EXPECT_EQ(tally(*m, "direct", "ok"), 1u);
  EXPECT_EQ(tally(*m, "direct", "failed"), 0u);
  auto* h = times_of(*m, "direct");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->count, 1u);
  EXPECT_EQ(m->stats.connections, 1u);
}

TEST_F(NodeMetrics, MessagesCountTheirBytesBothSides) {
  ASSERT_NO_FATAL_FAILURE(connected_pair());
  auto ma = a->metrics();
  auto mb = b->metrics();
  ASSERT_OK(ma);
  ASSERT_OK(mb);
  EXPECT_EQ(ma->stats.messages_out, 1u);
  EXPECT_EQ(ma->stats.bytes_out, 5u);
  EXPECT_EQ(mb->stats.messages_in, 1u);
  EXPECT_EQ(mb->stats.bytes_in, 5u);
}

TEST_F(NodeMetrics, GathersItsPipesSignalNodeAndChildren) {
  ASSERT_NO_FATAL_FAILURE(connected_pair());
  auto m = a->metrics();
  ASSERT_OK(m);
  EXPECT_EQ(m->pipes_unanswered, 0u);
  EXPECT_TRUE(m->has_signal);
  size_t listeners = 0, links = 0;
  for (auto& p : m->pipes) {
    listeners += p.role == "listener";
    if (p.role == "link") {
      ++links;
      EXPECT_EQ(p.name, b->id());
      EXPECT_GE(p.stats.tx_msgs, 1u); // the hello and the message
    }
  }
  EXPECT_EQ(listeners, a->info().listeners.size());
  EXPECT_EQ(links, 1u);
  bool lo = false;
  for (auto& c : m->children)
    lo = lo || c.child == "interface lo";
  EXPECT_TRUE(lo);
}

TEST_F(NodeMetrics, AFailedConnectCountsAsFailed) {
  a.emplace(start());
  std::string gone;
  {
    auto closed = start();
    gone = closed.address();
    ASSERT_FALSE(closed.close());
  }
  node::connect_options opts;
  opts.strategies = {node::strategy::direct};
  EXPECT_FALSE(a->connect(gone, opts));
  auto m = a->metrics();
  ASSERT_OK(m);
  EXPECT_EQ(tally(*m, "direct", "failed"), 1u);
  EXPECT_EQ(tally(*m, "direct", "ok"), 0u);
  EXPECT_EQ(m->stats.connects_failed, 1u);
  EXPECT_EQ(times_of(*m, "direct"), nullptr); // failures are not timed
}

TEST_F(NodeMetrics, AReverseConnectCountsOnTheAskingSideOnly) {
  a.emplace(start());
  b.emplace(start());
  node::connect_options opts;
  opts.strategies = {node::strategy::reverse};
  auto conn = a->connect(b->address(), opts);
  ASSERT_OK(conn);
  ASSERT_EQ(conn->report.how, node::strategy::reverse);
  auto ma = a->metrics();
  auto mb = b->metrics();
  ASSERT_OK(ma);
  ASSERT_OK(mb);
  EXPECT_EQ(tally(*ma, "reverse", "ok"), 1u);
  auto* h = times_of(*ma, "reverse");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->count, 1u);
  // b connected back for a's request: a service, not a connect of its own.
  EXPECT_TRUE(mb->connects.empty());
  EXPECT_TRUE(mb->connect_times.empty());
}

TEST_F(NodeMetrics, TheExpositionOfALiveNodeIsValidAndTellsTheConnect) {
  ASSERT_NO_FATAL_FAILURE(connected_pair());
  auto m = a->metrics();
  ASSERT_OK(m);
  auto text = to_prometheus(*m, a->id());
  auto r = parse_prometheus_text(text);
  ASSERT_TRUE(r.ok()) << r.error << "\n" << text;
  auto& doc = r.doc;
  EXPECT_EQ(doc.value("p2pd_connects_total", {{"strategy", "direct"}, {"outcome", "ok"}}), 1.0);
  EXPECT_EQ(doc.value("p2pd_connect_duration_seconds_count", {{"strategy", "direct"}}), 1.0);
  EXPECT_EQ(doc.value("p2pd_connect_duration_seconds_bucket",
                      {{"strategy", "direct"}, {"le", "+Inf"}}),
            1.0);
  EXPECT_EQ(doc.value("p2pd_bytes_total", {{"direction", "out"}}), 5.0);
  EXPECT_EQ(doc.value("p2pd_messages_total", {{"direction", "out"}}), 1.0);
  EXPECT_EQ(doc.value("p2pd_connections"), 1.0);
  EXPECT_EQ(doc.value("p2pd_signal_up"), 1.0);
  EXPECT_EQ(doc.value("p2pd_node_info", {{"id", a->id()}}), 1.0);
  EXPECT_EQ(doc.value("p2pd_pipes_unanswered"), 0.0);
  EXPECT_NE(doc.family("p2pd_pipe_dropped_total"), nullptr);
}

// A pipe that never answers holds the answer for the bound only, and is
// counted as missing rather than reported as zero.
TEST(MetricsGather, AHungPipeDelaysTheAnswerByTheBoundOnly) {
  runtime rt;
  auto& sys = rt.system();
  // Keeps every request unanswered in its mailbox (caf::drop would answer
  // an error at once).
  auto silent = sys.spawn([](caf::event_based_actor* self, int) -> caf::behavior {
    self->set_default_handler(caf::skip);
    return {[](int) {}};
  }, 0);
  node_metrics base;
  base.stats.connections = 3;
  std::vector<node::named_pipe> links{{"peer", caf::actor_cast<pipe_actor>(silent)}};
  auto gather = node::spawn_metrics_gather(sys, base, daemon_actor{}, links, signal_node_actor{},
                                           std::chrono::milliseconds(200));
  caf::scoped_actor self{sys};
  auto began = std::chrono::steady_clock::now();
  std::optional<node_metrics> got;
  self->request(gather, std::chrono::seconds(5), metrics_atom::value)
    .receive([&](node_metrics& m) { got = std::move(m); },
             [&](caf::error& err) { ADD_FAILURE() << render(err); });
  auto took = std::chrono::steady_clock::now() - began;
  ASSERT_TRUE(got);
  EXPECT_EQ(got->stats.connections, 3u);
  EXPECT_EQ(got->pipes_unanswered, 1u);
  EXPECT_TRUE(got->pipes.empty());
  EXPECT_FALSE(got->has_signal);
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::seconds(3));
  self->send_exit(silent, caf::exit_reason::user_shutdown);
}
