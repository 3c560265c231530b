#pragma once

/// Everything a p2pd user needs, layer by layer: pipes and daemons
/// (p2pd/pipes.hpp), interfaces, routes and NATs (p2pd/interfaces.hpp),
/// signalling (p2pd/signal.hpp) and P2P nodes (p2pd/node.hpp). Include the
/// layer's header to take less.

#include "p2pd/interfaces.hpp"
#include "p2pd/node.hpp"
#include "p2pd/pipes.hpp"
#include "p2pd/signal.hpp"
