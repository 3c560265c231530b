#include "p2pd/sim/world/node_pair.hpp"

namespace p2pd::sim {

connect_outcome run_node_pair(const node_pair_spec& spec) {
  scenario_config cfg;
  cfg.seed = spec.seed;
  cfg.internet = {std::chrono::milliseconds(10)};
  node_scenario w{cfg};
  auto a = w.add_site_node(spec.from, "from");
  auto b = w.add_site_node(spec.to, "to");
  if (!w.wait_ready(std::chrono::minutes(2))) {
    connect_outcome out;
    out.from = "from";
    out.to = "to";
    out.kind = spec.kind;
    out.error = "the nodes did not start: " + w.why();
    return out;
  }
  node::connect_options opts;
  opts.kind = spec.kind;
  opts.strategies = spec.strategies;
  if (opts.strategies.empty())
    opts.strategies = spec.kind == node::transport::stream
                        ? std::vector<node::strategy>{node::strategy::direct,
                                                      node::strategy::reverse,
                                                      node::strategy::punch}
                        : std::vector<node::strategy>{node::strategy::punch};
  w.connect(a, b, opts);
  return w.run_connects(spec.budget, caf::timespan{0}).front();
}

} // namespace p2pd::sim
