// The node's answer to a metrics request: what it counts itself, at once;
// what its pipes and signal node count, from a gatherer it delegates to.
#include "p2pd/node/node_state.hpp"

#include <algorithm>

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/node/metrics/detail/metrics_gather.hpp"

namespace p2pd::node {

namespace {

node_metrics own_metrics(const node_state& st) {
  node_metrics m;
  m.stats = st.stats;
  st.connects.fill(m);
  for (size_t i = 0; i < st.snaps.size() && i < st.loaded.size(); ++i) {
    if (!st.loaded[i])
      continue; // NAT not probed yet: no series rather than a guess
    for (auto& n : st.snaps[i].nats)
      m.nats.push_back(
        interface_nat{st.snaps[i].name, net::to_string(n.fam), net::to_string(n.nat)});
  }
  for (auto& c : st.children)
    m.children.push_back(child_restarts{c.name, c.restarts});
  return m;
}

// Our outbound links' own pipes, once each (an inbound link rides a
// listener, which the daemon lists).
std::vector<named_pipe> link_pipes(const node_state& st) {
  std::vector<named_pipe> out;
  for (auto& kvp : st.links) {
    auto& c = kvp.second.conn;
    if (c.inbound || !c.pipe)
      continue;
    if (std::none_of(out.begin(), out.end(), [&](const named_pipe& p) { return p.second == c.pipe; }))
      out.emplace_back(c.peer, c.pipe);
  }
  return out;
}

} // namespace

caf::delegated<node_metrics> answer_metrics(node_actor_ptr self) {
  auto& st = self->state;
  auto gather = spawn_metrics_gather(self->home_system(), own_metrics(st), st.daemon,
                                     link_pipes(st), st.signal, timeouts::metrics_gather);
  return self->delegate(gather, metrics_atom::value);
}

} // namespace p2pd::node
