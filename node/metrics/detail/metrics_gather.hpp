#pragma once

#include <string>
#include <utility>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/atoms.hpp"
#include "p2pd/messages/daemon.hpp"
#include "p2pd/messages/signal_node.hpp"
#include "p2pd/node/metrics/node_metrics.hpp"

namespace p2pd::node {

/// Answers one metrics request, then ends.
using metrics_gather_actor = caf::typed_actor<caf::replies_to<metrics_atom>::with<node_metrics>>;

/// An outbound link's own pipe, by the peer's node id.
using named_pipe = std::pair<std::string, pipe_actor>;

/// A one-shot actor that completes `base` with the stats of the daemon's
/// listeners, of `links` and of `signal` (any may be null), and answers
/// within `bound` whatever has come by then: the node delegates its metrics
/// request to it, so a slow or hung child delays the answer by at most
/// `bound` and never blocks the node. Missing pipes are counted in
/// node_metrics::pipes_unanswered.
metrics_gather_actor spawn_metrics_gather(caf::actor_system& sys, node_metrics base,
                                          daemon_actor daemon, std::vector<named_pipe> links,
                                          signal_node_actor signal, caf::timespan bound);

} // namespace p2pd::node
