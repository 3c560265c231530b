#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"
#include "caf/scoped_actor.hpp"

#include "p2pd/api/system_config.hpp"
#include "p2pd/actors/daemon/daemon_actor.hpp"
#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/messages/daemon.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

class pipe_handle;
class daemon_handle;
class node_handle;
struct node_spec;

/// p2pd for code outside actors: an actor system and one blocking actor that
/// owns the pipes it opens. Use it from one thread. Destroying it closes
/// every pipe it opened and stops the system.
class runtime {
public:
  explicit runtime(size_t threads = 2);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  caf::actor_system& system() { return core_->sys; }

  /// Opens a pipe as `spec` says (the seed's pipe_open).
  caf::expected<pipe_handle> open(pipe_spec spec);
  /// Opens a pipe spawned from `spec` with spawn_pipe (whose handle is
  /// known before it opens, e.g. to give it to its siblings' handlers).
  caf::expected<pipe_handle> open(const pipe_actor& spawned, const pipe_spec& spec);
  /// A server on `local` (default 127.0.0.1, a free port); `on_msg` runs for
  /// each message, on the I/O thread.
  caf::expected<pipe_handle> listen(net::protocol proto, endpoint local = {},
                             msg_handler on_msg = {}, net_conf conf = {});
  /// A client toward host:port (a name or an IP literal).
  caf::expected<pipe_handle> connect(net::protocol proto, const std::string& host, uint16_t port,
                              net_conf conf = {});
  caf::expected<pipe_handle> connect(net::protocol proto, const endpoint& dest, net_conf conf = {});

  /// A daemon whose listeners share `spec` (handler, options, restarts).
  caf::expected<daemon_handle> start_daemon(daemon_spec spec);
  /// A daemon whose listeners run `on_msg`, with the default options.
  caf::expected<daemon_handle> start_daemon(msg_handler on_msg);

  /// A P2P node (spawn_node), once it is ready: it listens and its
  /// signalling is online. Include p2pd/api/node.hpp for node_handle.
  caf::expected<node_handle> start_node(node_spec spec);

  struct core {
    explicit core(size_t threads);
    p2pd::config cfg;
    caf::actor_system sys;
    caf::scoped_actor self;
    std::vector<pipe_actor> pipes;
    std::vector<daemon_actor> daemons;
    std::vector<caf::actor> nodes; ///< ended with the runtime, with what they started
  };

private:
  std::shared_ptr<core> core_;
};

/// A pipe seen from outside actors: blocking calls on a pipe actor.
class pipe_handle {
public:
  pipe_handle(std::shared_ptr<runtime::core> core, pipe_info info, net_conf conf);

  const pipe_info& info() const { return info_; }
  const endpoint& local() const { return info_.local; }
  const endpoint& remote() const { return info_.remote; }
  const pipe_actor& handle() const { return info_.pipe; }

  /// Sends to the peer (client) or default destination (UDP client).
  caf::error send(std::string_view data);
  /// Sends to `to`: a UDP destination or a TCP server's client.
  caf::error send(std::string_view data, const endpoint& to);

  /// The next message matching `f` (default: any), waiting at most `timeout`
  /// (0: net_conf::recv_timeout).
  caf::expected<pipe_msg> recv(caf::timespan timeout = {}, msg_filter f = msg_filter::any());

  /// Sends `data` and waits for a reply matching `f`, resending up to
  /// net_conf::send_retry times (the seed's UDP request with retries).
  caf::expected<pipe_msg> ask(std::string_view data, msg_filter f = msg_filter::any());

  caf::error subscribe(const caf::actor& sub, uint8_t evs = events::all);
  caf::error unsubscribe(const caf::actor& sub);
  /// What this pipe receives is sent down `other` (the seed's add_pipe).
  caf::error link(const pipe_handle& other);
  caf::error unlink(const pipe_handle& other);

  caf::expected<pipe_stats> stats();
  caf::expected<std::vector<endpoint>> clients();
  /// Closes one client of a TCP server.
  caf::error close(const endpoint& client);
  /// Closes the pipe; a server closes all its clients.
  caf::error close();

private:
  caf::timespan call_timeout(caf::timespan wait) const;
  /// The error for calls after close(): CAF 0.17 does not answer requests
  /// to a terminated broker, they would only time out.
  caf::error closed_error() const;

  std::shared_ptr<runtime::core> core_;
  pipe_info info_;
  net_conf conf_;
  std::shared_ptr<bool> closed_ = std::make_shared<bool>(false);
};

/// A daemon seen from outside actors (the seed's Daemon).
class daemon_handle {
public:
  daemon_handle(std::shared_ptr<runtime::core> core, daemon_actor hdl);

  const daemon_actor& handle() const { return hdl_; }

  /// The seed's listen_all: a listener for every target, port (single ports
  /// and inclusive ranges), protocol and family (IPv6: global and link-local).
  caf::expected<std::vector<listener_info>>
  listen_all(const std::vector<net::listen_target>& targets,
             const std::vector<net::port_range>& ports,
             const std::vector<net::protocol>& protos,
             net::family_choice af = net::family_choice::any, bool error_on_af = false);

  /// The seed's listen_specific: listeners on bound addresses as they are.
  caf::expected<std::vector<listener_info>>
  listen_specific(const std::vector<listen_addr>& targets);

  caf::expected<std::vector<listener_info>> listeners();
  caf::error remove(uint64_t listener_id);
  /// Closes every listener and its clients; returns once they are gone.
  caf::error close();

private:
  std::shared_ptr<runtime::core> core_;
  daemon_actor hdl_;
};

} // namespace p2pd
