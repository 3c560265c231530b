#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/daemon/restart_budget.hpp"
#include "p2pd/actors/interface/interface_spec.hpp"
#include "p2pd/actors/names/name_client.hpp"
#include "p2pd/actors/ntp/ntp_clock_spec.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/turn/turn_pipe_spec.hpp"
#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/messages/signal.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/iface/if_filter.hpp"
#include "p2pd/net/nat/punch_prediction.hpp"
#include "p2pd/node/link/hello.hpp"
#include "p2pd/node/node_messages.hpp"
#include "p2pd/node/node_portmap_spec.hpp"

namespace p2pd {

/// Runs for each message from a peer, inside the node actor (it must not
/// block). Answer by sending (bytes, msg.from) to msg.pipe.
using node_handler = std::function<void(const node_msg& msg)>;

/// What a node is made of. The defaults start a node that works offline:
/// the default interface, no STUN servers, a private in-process hub.
struct node_spec {
  /// The directory with the node's key file (created on first start).
  /// Empty: $P2PD_DATA_DIR, else ~/.p2pd. Not read when `identity` is set.
  std::optional<std::string> data_dir;
  /// An identity to use instead of the key file (simulations, benchmarks,
  /// many nodes in one process).
  std::shared_ptr<const net::identity> identity;

  /// The interfaces to use, by name; empty: every interface `filter` keeps
  /// (at most node::max_interfaces), or the default one (interface_spec's
  /// empty name) when it keeps none. Their number in the node's address is
  /// their position.
  std::vector<std::string> interfaces;
  /// Which interfaces a node without `interfaces` uses.
  net::interface_filter_config filter;
  /// What every interface actor gets (servers, timing, given NATs, refresh);
  /// its name is set per interface.
  interface_spec iface;

  /// The TCP port the node listens on, the same on every route. 0: one
  /// derived from the node id (node::default_node_port), or a free one when
  /// that is taken.
  uint16_t port = 0;
  /// Listen on IPv6 link-local addresses too (with their scope).
  bool listen_link_local = true;

  /// MQTT brokers for signalling ("tcp://host:port").
  std::vector<std::string> brokers;
  /// An in-process hub to signal through (nodes of one process). With
  /// neither brokers nor a hub, a private hub: the node starts offline and
  /// can be reached directly only.
  signal_hub_actor hub;

  /// The network the node runs on; every pipe, interface table and Unix time
  /// comes from it.
  stack_ptr stack = os_stack();

  /// How long each strategy may take before the next one is tried.
  caf::timespan direct_budget = std::chrono::seconds(2);
  caf::timespan reverse_budget = std::chrono::seconds(4);
  /// A punch, from the offer to a connection: the exchange over signalling
  /// (a round trip and a half), the STUN request for a mapping to hold, and
  /// the punch's own window.
  caf::timespan punch_budget = std::chrono::seconds(10);
  /// How long both sides punch once they started, and the pause between two
  /// rounds of SYNs or probes.
  caf::timespan punch_window = std::chrono::seconds(4);
  caf::timespan punch_interval = std::chrono::milliseconds(100);
  /// Added to half the round trip before both sides start (jitter).
  caf::timespan punch_margin = std::chrono::milliseconds(30);
  /// Before the meeting of a UDP punch, a node sends one datagram from its
  /// punch port to each of the peer's external predictions with
  /// this TTL: it opens our NAT's mapping and dies before the peer's NAT.
  /// Without it, a NAT that takes the peer's early probe as traffic for
  /// itself (Linux masquerade routers that accept input) keeps that tuple
  /// and maps our own packets to another port. 0: off. 2 passes a home
  /// router and dies at the next hop; too small or too large only loses the
  /// head start.
  uint8_t punch_prime_ttl = 2;
  /// Ports predicted, sockets and probes of a punch.
  net::punch_limits punch_limits;

  /// TURN servers for the relay strategy (strategy::relay), IP literals:
  /// a relay attempt uses the first of its family. Its credentials go to the
  /// peer inside the sealed offer, so the peer allocates on the same server
  /// with them. Datagrams: both punch between the two relayed addresses,
  /// which the server relays to each other. Streams: TCP allocations (RFC
  /// 6062, the server must allow them) that the server joins, with TLS
  /// inside. The relay sees sealed datagrams or TLS records only.
  std::vector<turn_server> turn;
  /// Allocate on the server a peer's relay offer names, with its
  /// credentials. Off: such offers are refused, saying so.
  bool accept_relay_offers = true;
  /// Retransmission toward TURN servers (an unanswered Allocate costs
  /// 1.1 s with this preset).
  stun_timing turn_timing = fast_stun_timing();
  /// NTP servers for the clock the punch meeting time is set on (a server
  /// file's ntp lines: add_ntp_servers); none: the node starts no clock and
  /// punches on the round trip alone.
  std::optional<ntp_clock_spec> clock;
  /// Time a peer has, once TLS is up, to send its hello.
  caf::timespan hello_timeout = std::chrono::seconds(5);
  /// Connections that carried nothing for this long are closed; 0: never.
  caf::timespan idle_timeout = std::chrono::minutes(10);
  /// TCP keep-alive on every connection (net_conf::keep_alive).
  caf::timespan keep_alive = std::chrono::seconds(60);

  /// Peer connections at once; more are refused.
  size_t max_connections = 1024;
  /// Reverse requests and punches served at once; more are refused and
  /// counted.
  size_t max_pending_requests = 64;
  /// The largest message sent or accepted on a connection.
  size_t max_message = 65536 - 4;

  /// Restarts of interface actors and the signal node.
  restart_policy policy;

  /// Get node_msg, node_peer_up, node_peer_end and node_progress from the
  /// start.
  std::vector<caf::actor> subscribers;
  /// Run for every message, before subscribers get it.
  std::vector<node_handler> handlers;

  // --- Port mapping (node_portmap.cpp) ---
  /// Ask each IPv4 route's gateway (PCP, NAT-PMP, UPnP IGD) to forward the
  /// node port, TCP and UDP, and put the mapping in our address. Off by
  /// default; never delays ready: a mapping joins the address when it comes.
  node_portmap_spec port_mapping;

  // --- Names (node_names.cpp, issue 16) ---
  /// Name servers asked as they are.
  std::vector<name_server_addr> name_servers;
  /// A server file's name lines (add_name_servers), resolved by the node's
  /// name client on first use and asked over TCP.
  std::vector<net::server_entry> name_server_entries;
  /// Names the node holds: registered with its identity's key as owner and
  /// its peer address as value once it listens, again whenever its address
  /// changes and at name_refresh. At most rules_config's 16 per key.
  std::vector<std::string> names;
  /// Seconds a record of ours lives (min_expiry_s to max_expiry_s).
  uint32_t name_expiry_s = 3600;
  /// How often a held name is published again; 0: half of name_expiry_s,
  /// so that a record is renewed well before it expires.
  caf::timespan name_refresh{0};
  /// How long a request to the name servers waits for them in all.
  caf::timespan name_timeout = std::chrono::seconds(5);
};

/// Adds the name lines of a server list (net/util/server_list.hpp) to
/// `spec.name_server_entries`; the others are for other actors.
void add_name_servers(node_spec& spec, const std::vector<net::server_entry>& list);

} // namespace p2pd
