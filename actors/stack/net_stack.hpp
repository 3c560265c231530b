#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "caf/actor_system.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/stack/resolver.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/iface/interfaces.hpp"

namespace p2pd {

/// The network a node runs on: the one seam between node code and the OS.
/// Node code (and what it starts) opens pipes, reads interfaces, resolves
/// names and reads wall time only through its stack, so that a simulated network (a later
/// issue) runs the same node code on virtual time by giving another stack.
/// The real one is os_stack(); a node_spec carries the handle.
///
/// Implementations must be safe to call from any actor at once (the handle
/// is shared by every actor of a node) and must not block: spawn_pipe
/// returns a pipe that opens on request, interfaces() reads a table the
/// stack keeps or one netlink dump.
class net_stack {
public:
  virtual ~net_stack();

  /// A name for logs and reports ("os", "sim/host-3").
  virtual std::string name() const = 0;

  /// A pipe as `spec` says, not yet opened (see spawn_pipe()).
  virtual pipe_actor spawn_pipe(caf::actor_system& sys, pipe_spec spec) const = 0;

  /// The host's interfaces with their addresses and default routes.
  virtual net::result<net::interface_table> interfaces() const = 0;

  /// A resolver of host names (resolver_actor): the OS's getaddrinfo as a
  /// blocking job (spawn_os_resolver(), the default), a simulated host's
  /// name table (spawn_table_resolver()). The caller holds the handle while
  /// it waits for an answer and never ends the actor: a stack may give every
  /// caller the same one.
  virtual resolver_actor resolver(caf::actor_system& sys) const;

  /// Unix time in ms: what signed addresses and envelopes are stamped with.
  /// Timeouts use the actor clock instead (which a simulation also drives).
  virtual int64_t unix_ms() const = 0;

  /// Unix time in ns, for what needs finer than ms: NTP timestamps. The
  /// default is unix_ms() in ns (a simulated host with a ms clock keeps it).
  virtual int64_t unix_ns() const { return unix_ms() * 1'000'000; }

  /// A seed for choices that need no secrecy (ports to sample, jitter);
  /// keys and nonces come from the crypto library's generator always.
  virtual uint64_t rng_seed() const = 0;
};

using stack_ptr = std::shared_ptr<const net_stack>;

/// This host's network: the pipe broker on CAF's multiplexer, netlink,
/// getaddrinfo, the system clock, std::random_device. One shared instance.
stack_ptr os_stack();

/// `*s`, or os_stack() when `s` is null: a spec whose stack was reset still
/// means this host's network.
const net_stack& stack_or_os(const stack_ptr& s);

} // namespace p2pd
