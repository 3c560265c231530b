#pragma once

/// Pipes and daemons: addresses and sockets, the pipe actor and its typed
/// interface, daemons with supervised listeners, TLS settings, and the
/// blocking runtime facade. What a TCP or UDP echo needs, and nothing of the
/// signalling (no protobuf, no MQTT headers: tests/layout checks).

#include "p2pd/api/system_config.hpp"
#include "p2pd/actors/daemon/daemon_actor.hpp"
#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/api/runtime.hpp"
#include "p2pd/messages/daemon.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/messages/register.hpp"
#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/addr/resolver.hpp"
#include "p2pd/net/sock/bind_spec.hpp"
#include "p2pd/net/sock/listen_plan.hpp"
#include "p2pd/net/sock/socket.hpp"
#include "p2pd/net/tls/tls_context.hpp"
