#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/delegated.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/response_promise.hpp"
#include "caf/stateful_actor.hpp"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/actors/daemon/daemon_spec.hpp"
#include "p2pd/actors/daemon/restart_budget.hpp"
#include "p2pd/actors/signal/node/signal_node_spec.hpp"
#include "p2pd/messages/daemon.hpp"
#include "p2pd/messages/interface.hpp"
#include "p2pd/messages/signal_node.hpp"
#include "p2pd/net/tls/tls_context.hpp"
#include "p2pd/node/address/local_address.hpp"
#include "p2pd/node/address/peer_address.hpp"
#include "p2pd/node/connect/plan.hpp"
#include "p2pd/node/metrics/connect_counts.hpp"
#include "p2pd/node/node_spec.hpp"
#include "p2pd/node/punch/punch_offer.hpp"
#include "p2pd/actors/stun/stun_client.hpp"
#include "p2pd/actors/punch/tcp_punch.hpp"
#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/actors/turn/turn_stream_relay.hpp"
#include "p2pd/messages/clock.hpp"
#include "p2pd/actors/portmap/port_mapper.hpp"

namespace p2pd::node {

// Internal messages of the node actor.
using hello_tmo_atom = caf::atom_constant<caf::atom("p2nhello")>;
using budget_tmo_atom = caf::atom_constant<caf::atom("p2nbudget")>;
using idle_tick_atom = caf::atom_constant<caf::atom("p2nidle")>;
using restart_atom = caf::atom_constant<caf::atom("p2nrestart")>;
using punch_tmo_atom = caf::atom_constant<caf::atom("p2npunch")>;
using punch_go_atom = caf::atom_constant<caf::atom("p2npgo")>;
using clock_fetch_atom = caf::atom_constant<caf::atom("p2nclock")>;
using portmap_note_atom = caf::atom_constant<caf::atom("p2npmap")>;
using name_refresh_atom = caf::atom_constant<caf::atom("p2nname")>;

/// Between two fetches of the NTP clock's estimate (fetch_clock).
inline constexpr caf::timespan clock_fetch_interval = std::chrono::seconds(30);

/// What a supervised child of the node is.
enum class child_kind : uint8_t { interface, signal, daemon, clock };

/// A child the node supervises (node_children.cpp): watched by a monitor,
/// restarted one-for-one with backoff within its restart budget, and ended
/// with the node however the node ends.
struct child {
  child_kind kind = child_kind::interface;
  size_t index = 0;        ///< the interface's position (interface children)
  std::string name;        ///< "interface lo", "signal node", "daemon"
  std::string iface;       ///< the interface's name (interface children)
  caf::actor hdl;          ///< null while a restart is pending
  actors::restart_budget budget{restart_policy{}};
  uint32_t restarts = 0;
};

/// One connection to a peer, authenticated and past its hello.
struct link {
  node_connection conn;
  caf::actor_clock::time_point last_activity;
};

/// A connection whose TLS is up but whose hello has not come yet.
struct awaiting {
  std::string peer;
  pipe_actor pipe;
  endpoint from;
};

/// One connect in progress: ours (with waiters) or the service of a peer's
/// reverse request (no waiters; its hello says reverse).
struct connect_job {
  uint64_t id = 0;          ///< our request id; for a served request, the peer's
  peer_address peer;
  std::string peer_id;
  bool serving = false;     ///< connecting back for a peer's reverse request
  connect_options opts;     ///< what the plan was made from (again on a new address)
  std::vector<attempt> plan;
  size_t next = 0;          ///< the first attempt of the strategy not yet started
  size_t running = 0;       ///< attempts of the current strategy still open
  uint64_t round = 0;       ///< which strategy round a timeout belongs to
  bool done = false;
  caf::actor_clock::time_point started;
  std::vector<attempt_report> reports;
  std::vector<caf::response_promise> waiters;
  std::vector<pipe_actor> pipes; ///< attempts' pipes, closed if they lose
  /// The address request sent when every attempt failed (0: none yet): a
  /// peer whose address went stale tells its current one, tried once more.
  uint64_t refresh_id = 0;
  /// That request is out and unanswered: a budget timeout now is its own,
  /// not the last strategy's.
  bool awaiting_address = false;
  /// The address request goes out before the first attempt (a connect by
  /// name: the record's address may be older than the node's): its answer,
  /// or its budget passing, starts the plan instead of ending the job.
  bool refresh_first = false;
};

/// A name the node holds (node_names.cpp).
struct held_name {
  /// The version of the last record signed for it.
  uint64_t version = 0;
  /// Counts publishes: an answer or a timer of an earlier one is stale.
  uint64_t generation = 0;
  /// Its refresh timer (a weak timer: it does not keep the node alive).
  caf::actor timer;
};

/// One punch, either side (node_punch.cpp): the exchange over signalling,
/// then the mechanism (TCP or UDP) from the meeting time on.
struct punch_session {
  enum class step : uint8_t { preparing, offered, answered, punching, done };
  uint64_t id = 0;                 ///< the initiator's request id
  std::string peer_id;
  net::public_keys peer_keys;      ///< where signalling answers go
  bool initiator = false;
  std::shared_ptr<connect_job> job; ///< initiator: its connect
  attempt plan;                    ///< initiator: the attempt it runs
  uint64_t round = 0;              ///< initiator: the job's round
  net::protocol proto = net::protocol::tcp;
  net::family fam = net::family::v4;
  uint8_t route = 0;               ///< our interface number
  net::ip_address bind;            ///< our NIC address on that route
  net::punch_verdict verdict;
  punch_message ours;              ///< the offer or answer we sent
  std::optional<punch_message> theirs;
  std::shared_ptr<void> key;       ///< our ephemeral key pair (node_punch_run.cpp)
  caf::actor_clock::time_point offer_sent;
  caf::actor_clock::time_point started;
  step at = step::preparing;
  std::vector<pipe_actor> pipes;   ///< what the mechanism opened
  /// The mechanism's own state (node_punch_run.cpp), and the node-wide id
  /// its timer messages carry.
  std::shared_ptr<void> runner;
  uint64_t runner_id = 0;
  /// Responder, TCP: connections up and waiting for the initiator's hello
  /// that names the one to keep.
  std::vector<std::pair<pipe_actor, endpoint>> awaiting;
  /// A relayed punch (strategy::relay, node_relay.cpp): our TURN pipe until
  /// the UDP punch takes it over, and its relayed address.
  bool relay = false;
  turn_pipe_actor turn;
  endpoint relayed;
  /// A relayed stream (node_relay_stream.cpp): our TCP allocation.
  turn_stream_relay_actor stream_relay;
  /// A punch through the answerer's UDP port mapping (path mapped,
  /// node_punch_mapped.cpp): the answerer answers from its node port.
  bool mapped = false;
};

/// One IPv4 route's port mappings at its gateway, or one IPv6 route's
/// pinholes (node_portmap.cpp).
struct portmap_slot {
  uint8_t interface = 0;       ///< the route's interface number
  /// IPv6 pinholes of the node port for `local`: peers reach that address
  /// itself (no translation), so nothing goes into the node's address.
  bool pinhole = false;
  net::ip_address gateway;
  net::ip_address local;       ///< our NIC address there: the internal address
  port_mapper_actor mapper;
  /// What the gateway holds for the node port; none while unmapped or lost.
  std::optional<port_mapping> tcp;
  std::optional<port_mapping> udp;
};

struct node_state {
  static inline const char* name = "p2pd.node";

  caf::event_based_actor* self = nullptr;
  node_spec spec;
  std::shared_ptr<const net::identity> me;
  std::string my_id;
  std::shared_ptr<net::tls_context> tls_server;
  std::shared_ptr<net::tls_context> tls_client;

  // Children: what each is (and its budget) in `children`, the typed
  // handles of the live ones beside.
  std::vector<child> children;
  signal_node_spec signal_spec;  ///< kept to start the signal node again
  std::vector<interface_actor> ifaces;
  std::vector<interface_snapshot> snaps;
  std::vector<bool> loaded;
  signal_node_actor signal;
  bool signal_online = false;
  daemon_actor daemon;
  std::vector<listener_info> listeners;
  uint16_t port = 0;
  bool listening = false;

  // Our address, re-signed whenever what it holds changes.
  peer_address address;
  std::string address_text;

  std::vector<caf::response_promise> ready_waiters;
  std::vector<caf::actor> subscribers;
  node_stats stats;
  connect_counts connects;  ///< by strategy and outcome, with times (metrics)

  // Connections: by key (conn_key in node_links.cpp), and the peers they
  // lead to. Transparent comparison: a message's connection is looked up by
  // a key built on the stack, with no string made per message.
  std::map<std::string, link, std::less<>> links;
  std::map<std::string, awaiting, std::less<>> hellos;
  std::map<std::string, std::shared_ptr<connect_job>> jobs;  // by peer id
  std::map<uint64_t, std::string> reverse_asked;             // our request id -> peer id
  std::set<caf::actor_addr> own_clients;                     // our client pipes
  /// Punches by (peer id, initiator's request id): ours and the peers'.
  std::map<std::pair<std::string, uint64_t>, std::shared_ptr<punch_session>> punches;
  /// The STUN client of punches (for a mapping to hold), made when needed.
  stun_client_actor stun;
  /// The NTP clock (node_spec::clock), or null.
  ntp_clock_actor clock;
  /// Its latest estimate, fetched ahead (fetch_clock): a punch reads it at
  /// once instead of asking the clock, whose first answer waits for a whole
  /// measurement (seconds) and would hold up the meeting.
  std::optional<clock_offset> clock_estimate;
  /// Punched datagram pipes that carry a link.
  std::set<caf::actor_addr> datagram_links;
  /// The TCP allocations of relayed stream links, by the link's data pipe:
  /// the allocation goes when its link does.
  std::map<caf::actor_addr, turn_stream_relay_actor> stream_relays;
  /// A punch through our UDP port mapping is being answered: the node port
  /// has one socket, so a second one waits for the next connect.
  bool mapped_udp_busy = false;
  size_t serving = 0;
  uint64_t next_request = 0;
  /// Open from the start; close requests wait until every child is gone.
  actors::lifecycle life;

  // Port mapping (node_portmap.cpp, node_spec::port_mapping): one mapper
  // per IPv4 route with a gateway, started once the node listens.
  std::vector<portmap_slot> portmaps;

  // Names (node_names.cpp): the client, the names held, and the ways in
  // (routes, channels) of the address they were last published with.
  name_client_actor names;
  std::map<std::string, held_name> held;
  /// The last version this node signed, for any name: versions of a name
  /// deleted and registered again within one millisecond still grow.
  uint64_t name_version = 0;
  bool names_published = false;
  std::vector<peer_route> names_routes;
  std::vector<signal_channel> names_channels;

  node_state() = default;
  explicit node_state(caf::event_based_actor* selfptr) : self(selfptr) {}
  node_state(node_state&&) = default;
  node_state& operator=(node_state&&) = default;
  /// Cancels the idle timer (it holds the node weakly, but the actor system
  /// would wait for the timer itself) and ends the children still running:
  /// a node that fails takes what it started with it.
  ~node_state();

  caf::actor idle_timer;

  /// The link to `peer`, most recent first, or null.
  link* link_to(const std::string& peer);

  void progress(std::string what);
  /// Counts a refusal in `counter` and tells subscribers (node_refused).
  void refuse(uint64_t node_stats::*counter, const char* what, std::string peer,
              caf::error reason);
  void notify(const caf::message& msg);
  node_info info() const;
  void rebuild_address();
  void check_ready();
  local_view view() const;
  int64_t now_ms() const { return spec.stack->unix_ms(); }
};

using node_actor_ptr = caf::stateful_actor<node_state>*;

// Start (node_start.cpp): what can fail at once, before the actor exists
// (identity, TLS, the signal node), then the children.
caf::error prepare_node(node_spec& spec, node_state& st, caf::actor_system& sys);
void start_node(node_actor_ptr self);

// Connects (node_connect.cpp).
void connect(node_actor_ptr self, const std::string& address, connect_options opts,
             caf::response_promise rp);
/// A connect to `peer`, whose report starts with `prelude`, timed from
/// `started`; `refresh_first`: ask the peer for its current address over
/// signalling before the first attempt (a connect by name).
void connect_peer(node_actor_ptr self, peer_address peer, connect_options opts,
                  caf::response_promise rp, std::vector<attempt_report> prelude,
                  bool refresh_first, caf::actor_clock::time_point started);

// Names (node_names.cpp).
/// Spawns the name client when the spec names name servers, and takes the
/// spec's names as held.
void start_names(node_actor_ptr self);
/// After the address was rebuilt: publishes the held names again when the
/// node listens and its address's routes or channels changed since the last
/// publish (or nothing was published yet).
void keep_names_current(node_actor_ptr self);
/// A held name's refresh timer fired.
void on_name_refresh(node_actor_ptr self, const std::string& name, uint64_t generation);
void register_name(node_actor_ptr self, const std::string& name, caf::response_promise rp);
void delete_name(node_actor_ptr self, const std::string& name, caf::response_promise rp);
void lookup_for(node_actor_ptr self, const std::string& name, caf::response_promise rp);
/// connect() for a name: looks it up, checks that the record's owner is
/// the node its address names, then connect_peer with the address request
/// first.
void connect_by_name(node_actor_ptr self, const std::string& name, connect_options opts,
                     caf::response_promise rp);
/// Ends the name client and the refresh timers (the node closes).
void end_names(node_actor_ptr self);
void serve_reverse(node_actor_ptr self, const signal_message& msg);
void on_budget_timeout(node_actor_ptr self, const std::string& peer, uint64_t round);
/// A peer asks for our address; we answer with it.
void answer_address_request(node_actor_ptr self, const signal_message& msg);
/// A peer's answer to our address request.
void on_address_reply(node_actor_ptr self, const signal_message& msg);
/// Adds an attempt's outcome to the connect report.
void report(node_actor_ptr self, connect_job& job, const attempt& a, std::string outcome);
/// One attempt of the current round ended without winning: the next
/// strategy starts once none is left.
void attempt_lost(node_actor_ptr self, std::shared_ptr<connect_job> job, uint64_t round);
/// A connection of `job` won: the rest are cancelled and the waiters answered.
void job_won(node_actor_ptr self, connect_job& job, const node_connection& conn);

// Children (node_children.cpp).
/// Starts the signal node (already spawned by prepare_node the first time),
/// the daemon and interface `i` under supervision.
void start_signal(node_actor_ptr self);
void start_daemon(node_actor_ptr self);
void start_interface(node_actor_ptr self, size_t i, std::string name);
/// Starts the NTP clock when node_spec::clock names servers.
void start_clock(node_actor_ptr self);

/// Asks the clock for its estimate into clock_estimate, and again a while
/// later (clock_fetch_atom): the estimate follows the clock's refreshes.
void fetch_clock(node_actor_ptr self);
/// A monitored child ended: restarted after its backoff, or the node ends.
void on_child_down(node_actor_ptr self, const caf::down_msg& dm);
void restart_child(node_actor_ptr self, size_t which);
/// The node cannot go on: whoever waits for it gets `err`, and it ends.
void fail_node(node_actor_ptr self, caf::error err);
/// Listens on every route at `port` (node_start.cpp); `may_move`: take a
/// free port when that one is taken.
void listen(node_actor_ptr self, uint16_t port, bool may_move);
/// An interface actor answered with its snapshot (node_start.cpp).
void interface_loaded(node_actor_ptr self, size_t i, interface_snapshot& snap);

// Punches (node_punch.cpp, node_punch_run.cpp).
/// Our punch attempt of `job` (strategy::punch).
void start_punch(node_actor_ptr self, std::shared_ptr<connect_job> job, const attempt& a);
/// A hole_punch_request from a peer: an offer to serve, or a step of ours.
void on_punch_message(node_actor_ptr self, const signal_message& msg);
/// Ends every punch (the node closes).
void end_punches(node_actor_ptr self);
/// Ends `job`'s punches still running, with `why` in its report.
void cancel_punches(node_actor_ptr self, connect_job& job, const std::string& why);
/// A punch's deadline (punch_budget, or the responder's wait for a sync).
void on_punch_timeout(node_actor_ptr self, const std::string& peer, uint64_t id, uint8_t step);
/// The meeting time came: the mechanism starts.
void on_punch_go(node_actor_ptr self, const std::string& peer, uint64_t id);
/// Mechanism side (node_punch_run.cpp): makes our ephemeral key pair and
/// returns its public half; derives keys and runs the TCP or UDP punch.
std::array<uint8_t, 32> make_punch_key(punch_session& s);
void run_punch(node_actor_ptr self, std::shared_ptr<punch_session> s);
/// Opens our NAT's mapping toward the peer's predictions as soon as the
/// meeting is set, with a datagram that dies before the peer's NAT
/// (node_spec::punch_prime_ttl; UDP punches only).
void prime_mappings(node_actor_ptr self, std::shared_ptr<punch_session> s);

// Punches through a UDP port mapping (node_punch_mapped.cpp).

/// Our route of `fam` whose gateway maps the node port for UDP, or null.
const peer_route* mapped_udp_route(const node_state& st, net::family fam);
/// The verdict of a punch aimed at the mapped endpoint `at` from a route
/// whose NAT is `ours`: impossible when our UDP is blocked, else no
/// prediction needed.
net::punch_verdict mapped_verdict(const endpoint& at, net::nat_type ours);
/// Our side of a mapped punch before the offer or answer: the offerer's
/// one socket (any port); the answerer's node port, checked free (a link
/// through the mapping may hold it: then the peer is refused, saying so),
/// and its mapping as the one prediction. `then` runs once s->ours is set.
void prepare_mapped(node_actor_ptr self, std::shared_ptr<punch_session> s,
                    std::function<void()> then);
/// A TCP punch's timer: whether it was one of ours.
bool on_punch_tick(node_actor_ptr self, const tcp_punch_tick& t);
/// Whether the event's pipe belongs to a punch; if so, the punch gets it.
bool punch_pipe_event(node_actor_ptr self, const pipe_up& ev);
bool punch_pipe_event(node_actor_ptr self, pipe_msg& ev);
bool punch_pipe_event(node_actor_ptr self, const pipe_end& ev);
/// The hello of a punched TCP connection came to the TLS server: keeps that
/// connection if it is one of punch `id`'s with `peer`.
bool punch_kept(node_actor_ptr self, const std::string& peer, uint64_t id, const pipe_actor& pipe,
                const endpoint& remote);
/// Sends a step of the exchange to the session's peer over signalling.
void send_punch(node_actor_ptr self, const punch_session& s, const punch_message& m);
/// The session's deadline for its current step, `after` from now.
void arm(node_actor_ptr self, const punch_session& s, caf::timespan after);

// Relays (node_relay.cpp): a punch between relayed addresses.
/// Our relay attempt of `job` (strategy::relay): allocates on our TURN
/// server, then offers the server, credentials and relayed address.
void start_relay(node_actor_ptr self, std::shared_ptr<connect_job> job, const attempt& a);
/// A peer's relay offer (its checks passed): allocates on the offered
/// server with the offered credentials, then answers with our relayed
/// address; `s` is registered and armed already.
void serve_relay(node_actor_ptr self, std::shared_ptr<punch_session> s);

// Relayed streams (node_relay_stream.cpp): TCP allocations joined by Connect.
/// A TCP allocation for `s` on `server`, its data connections TLS with node
/// certificates toward s's peer (the responder's also tell us pipe_up);
/// spawned idle.
turn_stream_relay_actor spawn_stream_relay(node_actor_ptr self, const punch_session& s,
                                           turn_server server);
/// The initiator, once the answer names the peer's relayed address: the
/// server connects our allocation to it, and our hello names the punch.
void join_relayed_stream(node_actor_ptr self, std::shared_ptr<punch_session> s);
/// The hello of punch `s` (a relayed stream's responder) came on `pipe`:
/// kept when the connection comes through the TURN server.
void relay_stream_hello(node_actor_ptr self, std::shared_ptr<punch_session> s,
                        const pipe_actor& pipe, const endpoint& remote);
/// The connection a punch or relay gives, as a link of ours.
node_connection punch_connection(const punch_session& s, const pipe_actor& pipe,
                                 const endpoint& local, const endpoint& remote);
/// How a punched or relayed link's pipe reads and keeps alive.
net_conf punch_link_conf(const node_state& st);
/// A punch ended: with a connection (added as a link) or with `err`.
void punch_done(node_actor_ptr self, std::shared_ptr<punch_session> s,
                std::optional<node_connection> conn, caf::error err);

// Metrics (node_metrics_request.cpp).
/// The node's metrics: its own counters now, completed by a one-shot
/// gatherer with its pipes' and signal node's (bounded by
/// timeouts::metrics_gather), which answers the request.
caf::delegated<node_metrics> answer_metrics(node_actor_ptr self);

// Links (node_links.cpp).
void on_pipe_up(node_actor_ptr self, const pipe_up& up);
void on_pipe_msg(node_actor_ptr self, pipe_msg& msg);
void on_pipe_end(node_actor_ptr self, const pipe_end& end);
void on_hello_timeout(node_actor_ptr self, const std::string& key);
void add_link(node_actor_ptr self, node_connection conn);
/// A connection of ours that is up and must say why it came (its hello).
void await_hello(node_actor_ptr self, const std::string& peer, const pipe_actor& pipe,
                 const endpoint& from);
/// Forgets a connection's wait for its hello (it was closed on purpose).
void drop_hello(node_actor_ptr self, const pipe_actor& pipe, const endpoint& from);
void sweep_idle(node_actor_ptr self);
/// Closes every connection with `peer`; their ends are reported as usual.
void close_peer(node_actor_ptr self, const std::string& peer);

// Port mapping (node_portmap.cpp).
/// Starts a mapper per IPv4 route with a gateway and asks it for the node
/// port (TCP and UDP) when node_spec::port_mapping is on; answers come
/// later and rebuild the address.
void start_port_mapping(node_actor_ptr self);
/// A mapper's event (refreshed, moved, lost, restored) for slot `slot`.
void on_portmap_event(node_actor_ptr self, uint64_t slot, portmap_event& ev);
/// Closes every mapper (each deletes its mappings), then calls `done` once.
void close_port_mapping(node_actor_ptr self, std::function<void()> done);
/// What make_local_address needs of the mappings held.
std::vector<route_mapping> mapped_routes(const node_state& st);

} // namespace p2pd::node
