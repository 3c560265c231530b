#include "p2pd/node/node_messages.hpp"

namespace p2pd {

std::string connect_report::to_string() const {
  return std::string{node::to_string(how)} + " " + net::to_string(fam) + " "
         + node::to_string(path) + " " + remote.to_string() + " in " + std::to_string(ms)
         + " ms (" + std::to_string(attempts.size()) + " attempts"
         + (shared ? ", shared" : "") + ")";
}

void register_node_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<node::connect_options>("p2pd::connect_options");
  cfg.add_message_type<attempt_report>("p2pd::attempt_report");
  cfg.add_message_type<connect_report>("p2pd::connect_report");
  cfg.add_message_type<node_connection>("p2pd::node_connection");
  cfg.add_message_type<node_msg>("p2pd::node_msg");
  cfg.add_message_type<node_peer_up>("p2pd::node_peer_up");
  cfg.add_message_type<node_peer_end>("p2pd::node_peer_end");
  cfg.add_message_type<node_progress>("p2pd::node_progress");
  cfg.add_message_type<node_refused>("p2pd::node_refused");
  cfg.add_message_type<node_info>("p2pd::node_info");
  cfg.add_message_type<node_stats>("p2pd::node_stats");
  cfg.add_message_type<node_metrics>("p2pd::node_metrics");
  cfg.add_message_type<node_child>("p2pd::node_child");
  cfg.add_message_type<std::vector<node_child>>("std::vector<p2pd::node_child>");
}

} // namespace p2pd
