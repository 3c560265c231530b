#pragma once

/// P2P nodes: the node actor and its messages, peer addresses, the connect
/// plan, and the blocking node_handle for code outside actors.

#include "p2pd/interfaces.hpp"
#include "p2pd/signal.hpp"

#include "p2pd/api/node.hpp"
#include "p2pd/node/address/peer_address.hpp"
#include "p2pd/node/connect/plan.hpp"
#include "p2pd/node/metrics/prometheus.hpp"
#include "p2pd/node/node_actor.hpp"
#include "p2pd/node/node_messages.hpp"
#include "p2pd/node/node_spec.hpp"
