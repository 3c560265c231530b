#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "caf/expected.hpp"

#include "p2pd/api/runtime.hpp"
#include "p2pd/node/node_actor.hpp"

namespace p2pd {

/// A node seen from outside actors: blocking calls on a node actor
/// (runtime::start_node makes one).
class node_handle {
public:
  node_handle(std::shared_ptr<runtime::core> core, node_actor hdl, node_info info);

  const node_actor& handle() const { return hdl_; }
  /// Who the node is and where it listens, as it was when it became ready.
  const node_info& info() const { return info_; }
  const std::string& id() const { return info_.id; }
  /// The node's signed address: what a peer connects to.
  const std::string& address() const { return info_.address; }

  /// A connection to the node at `address` (see node_actor's connect).
  caf::expected<node_connection> connect(const std::string& address,
                                         node::connect_options opts = {});
  /// A connection to the node holding `name` on the node's name servers
  /// (see node_actor's connect by name): the lookup and the address request
  /// come first in the report. Errors: an invalid name
  /// (errc::invalid_argument), no valid record (errc::resolve_failed), a
  /// record whose owner is not the node its address names (errc::forged),
  /// then connect's.
  caf::expected<node_connection> connect_by_name(const std::string& name,
                                                 node::connect_options opts = {});
  /// Registers `name` with the node's key and address on its name servers;
  /// the node keeps it current from then on.
  caf::expected<name_publish> register_name(const std::string& name);
  /// Deletes `name` (a signed deletion); the node no longer keeps it.
  caf::expected<name_publish> delete_name(const std::string& name);
  /// Looks `name` up on the node's name servers.
  caf::expected<name_lookup> lookup_name(const std::string& name);
  /// Sends `data` on the connection to `peer` (a node id).
  caf::error send(const std::string& peer, std::string_view data);
  /// Closes the connections with `peer`.
  caf::error disconnect(const std::string& peer);
  caf::error subscribe(const caf::actor& sub);
  caf::expected<node_stats> stats();
  /// The node's metrics (node_actor's metrics request); to_prometheus
  /// (node/metrics/prometheus.hpp) writes them for a scrape.
  caf::expected<node_metrics> metrics();
  /// What the node supervises: interface actors, signal node, daemon.
  caf::expected<std::vector<node_child>> children();
  /// Closes the node and everything it started; returns once they are gone.
  caf::error close();

private:
  std::shared_ptr<runtime::core> core_;
  node_actor hdl_;
  node_info info_;
};

} // namespace p2pd
