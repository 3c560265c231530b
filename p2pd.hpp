#pragma once

/// Everything a p2pd user needs: addresses, pipes, the typed pipe interface,
/// and the runtime facade for code outside actors.

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/actors/runtime.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/messages/register.hpp"
#include "p2pd/net/address.hpp"
#include "p2pd/net/resolver.hpp"
#include "p2pd/net/socket.hpp"
