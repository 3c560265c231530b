#pragma once

/// Everything a p2pd user needs: addresses, interfaces and routes, pipes and
/// their typed interface, daemons, TLS settings, signalling channels (MQTT
/// and the in-process hub), and the runtime facade for code outside actors.

#include "p2pd/actors/daemon/daemon_actor.hpp"
#include "p2pd/actors/interface/interface_actor.hpp"
#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/actors/runtime.hpp"
#include "p2pd/actors/signal/signal_node.hpp"
#include "p2pd/actors/signal/mqtt_channel.hpp"
#include "p2pd/actors/signal/signal_hub.hpp"
#include "p2pd/messages/daemon.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/interface.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/messages/signal_node.hpp"
#include "p2pd/messages/register.hpp"
#include "p2pd/messages/signal.hpp"
#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/sock/bind_spec.hpp"
#include "p2pd/net/iface/if_filter.hpp"
#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/net/sock/listen_plan.hpp"
#include "p2pd/net/addr/resolver.hpp"
#include "p2pd/net/iface/route.hpp"
#include "p2pd/net/util/server_list.hpp"
#include "p2pd/net/sock/socket.hpp"
#include "p2pd/net/tls/tls_context.hpp"
