#pragma once

/// Signalling: the signal node (sealed, signed messages between node
/// identities), its channels (MQTT brokers, the in-process hub) and their
/// typed interfaces.

#include "p2pd/pipes.hpp"

#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/actors/signal/mqtt/mqtt_channel.hpp"
#include "p2pd/actors/signal/node/signal_node.hpp"
#include "p2pd/messages/signal.hpp"
#include "p2pd/messages/signal_node.hpp"
