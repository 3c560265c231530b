#include "p2pd/messages/register.hpp"

#include "p2pd/messages/clock.hpp"
#include "p2pd/messages/daemon.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/interface.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/messages/signal.hpp"
#include "p2pd/messages/signal_node.hpp"

namespace p2pd {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<net::ip_address>("p2pd::ip_address");
  cfg.add_message_type<net::endpoint>("p2pd::endpoint");
  cfg.add_message_type<net::family>("p2pd::family");
  cfg.add_message_type<net::protocol>("p2pd::protocol");
  cfg.add_message_type<net_conf>("p2pd::net_conf");
  cfg.add_message_type<msg_filter>("p2pd::msg_filter");
  cfg.add_message_type<pipe_msg>("p2pd::pipe_msg");
  cfg.add_message_type<pipe_up>("p2pd::pipe_up");
  cfg.add_message_type<pipe_end>("p2pd::pipe_end");
  cfg.add_message_type<pipe_error>("p2pd::pipe_error");
  cfg.add_message_type<pipe_info>("p2pd::pipe_info");
  cfg.add_message_type<pipe_stats>("p2pd::pipe_stats");
  cfg.add_message_type<listen_addr>("p2pd::listen_addr");
  cfg.add_message_type<listener_info>("p2pd::listener_info");
  cfg.add_message_type<net::ip_range>("p2pd::ip_range");
  cfg.add_message_type<net::route>("p2pd::route");
  cfg.add_message_type<std::vector<net::route>>("std::vector<p2pd::route>");
  cfg.add_message_type<nat_summary>("p2pd::nat_summary");
  cfg.add_message_type<interface_snapshot>("p2pd::interface_snapshot");
  cfg.add_message_type<signal_in>("p2pd::signal_in");
  cfg.add_message_type<signal_stats>("p2pd::signal_stats");
  cfg.add_message_type<net::public_keys>("p2pd::public_keys");
  cfg.add_message_type<net::message_id>("p2pd::message_id");
  cfg.add_message_type<signal_message>("p2pd::signal_message");
  cfg.add_message_type<signal_node_info>("p2pd::signal_node_info");
  cfg.add_message_type<signal_node_stats>("p2pd::signal_node_stats");
  cfg.add_message_type<clock_offset>("p2pd::clock_offset");
  cfg.add_message_type<ntp_clock_stats>("p2pd::ntp_clock_stats");
  add_error_category(cfg);
}

} // namespace p2pd
