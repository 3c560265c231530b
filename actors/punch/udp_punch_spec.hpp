#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/error.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/messages/net_conf.hpp"
#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/crypto/session_key.hpp"

namespace p2pd {

/// The defaults of a UDP punch, each with its reason.
namespace udp_punch_defaults {
using namespace std::chrono_literals;
/// Between probe rounds: what the lab's punches used (shared/netlab,
/// punch.py: every pair that can punch did within a few rounds), short
/// enough that a probe meets the peer's fresh mapping within one round
/// trip of the meeting time, long enough that 256 sockets of a spray do
/// not flood the link.
inline constexpr caf::timespan interval = 50ms;
/// From the meeting time until the punch gives up: clock error between
/// the two sides (the NTP estimate's bound, tens of ms) plus a few round
/// trips, with room for a lost round; a cone pair meets in under one.
inline constexpr caf::timespan window = 5s;
/// A keepalive when nothing else was sent for this long: within Linux
/// conntrack's 30 s for unanswered UDP and the common 30 s+ NAT binding
/// timeouts (RFC 4787 REQ-5 asks for 2 min; many NATs give less), as
/// ICE's consent freshness does (RFC 7675: 5 s or more; 15 s here).
inline constexpr caf::timespan keepalive = 15s;
/// The session ends after this long without an authentic frame: three
/// keepalives missed.
inline constexpr caf::timespan idle_timeout = 45s;
/// Nominations the controlling side sends (one per interval) before it
/// gives the path up.
inline constexpr uint32_t nominate_tries = 10;
/// The largest payload: 1280 (IPv6's minimum MTU) less IPv6 and UDP
/// headers (48) and the frame (30) leaves 1202; a datagram that fits
/// is never fragmented on any path that carries IPv6.
inline constexpr size_t max_datagram = 1200;
/// Probe datagrams in all (a spray of 256 ports for two rounds and the
/// targets of every round fit).
inline constexpr size_t max_probes = 4096;
/// Local sockets at most: a spray's 256 and then some, within a process's
/// usual descriptor budget.
inline constexpr size_t max_sockets = 1024;
} // namespace udp_punch_defaults

/// What a UDP punch does (actors/punch/udp_punch.hpp). The node fills it
/// from NAT prediction (net/nat/punch_prediction.hpp) and what the two
/// sides agreed over signalling: local ports, the peer's endpoints, the
/// meeting time, who controls, and the session keys.
/// A TURN pipe as a punch's socket, and its relayed address.
struct punch_relay {
  turn_pipe_actor pipe;
  endpoint relayed;
};

struct udp_punch_spec {
  /// Every socket is a UDP server pipe from this stack, owned by the
  /// punch. Default: os_stack().
  stack_ptr stack;
  /// The local endpoints to bind, one per socket (several for a spray);
  /// port 0: any free port. All of one family, the targets' one.
  std::vector<endpoint> local;
  /// The peer's predicted external endpoints, likeliest first: every
  /// socket probes each in every round.
  std::vector<endpoint> targets;
  /// TURN pipes, open already, used as sockets after the local ones (their
  /// index follows local's): a relayed punch probes through the relay, so
  /// the relay sees sealed frames only. The punch takes them over (their
  /// datagrams come to it) and closes them as its own.
  std::vector<punch_relay> relays;

  /// A port search (a birthday spray against a peer whose ports cannot be
  /// predicted): `spray_probes` distinct random ports in
  /// [spray_port_min, spray_port_max] of `spray_ip` (default: the first
  /// target's IP), drawn from `spray_seed`, probed from every socket in
  /// the first `spray_rounds` rounds. 0: no spray.
  size_t spray_probes = 0;
  uint16_t spray_port_min = 1024;
  uint16_t spray_port_max = 65535;
  uint64_t spray_seed = 0;
  std::optional<net::ip_address> spray_ip;
  size_t spray_rounds = 2;

  /// The agreed meeting time on the actor clock: probes start then (at
  /// once if it has passed). The window counts from it, or from the
  /// moment the sockets are open if that is later.
  caf::actor_clock::time_point start{};
  caf::timespan interval = udp_punch_defaults::interval;
  caf::timespan window = udp_punch_defaults::window;
  caf::timespan keepalive = udp_punch_defaults::keepalive;
  caf::timespan idle_timeout = udp_punch_defaults::idle_timeout;
  /// The largest payload of one send; larger ones are refused
  /// (errc::message_too_large), received ones dropped as oversized.
  size_t max_datagram = udp_punch_defaults::max_datagram;
  size_t max_probes = udp_punch_defaults::max_probes;
  uint32_t nominate_tries = udp_punch_defaults::nominate_tries;

  /// Probes nobody: only answers the peer's probes, on the path each came
  /// by (targets may then be empty). For a socket behind a port mapping:
  /// the peer's probes come in through the mapping, and a probe of ours to
  /// a guessed endpoint would leave the router a connection of the node
  /// port that it translates otherwise (its own source port), on which our
  /// answers to the peer would then leave.
  bool answer_only = false;
  /// This side nominates the path. Exactly one side must: the node decides
  /// it the same way on both (for example, the initiator).
  bool controlling = false;
  /// From net::derive_session().
  net::session_keys keys;
  /// Of the sockets: reuse_addr binds beside a socket that holds a mapping
  /// (SO_REUSEPORT); max_qsize bounds the datagrams waiting for the punch
  /// (more are dropped and counted as dropped_queue_full). reader_limit is
  /// set from max_datagram.
  net_conf conf;
  /// Get pipe_msg, pipe_up (the path is chosen), pipe_end and pipe_error
  /// from the start.
  std::vector<subscriber> subscribers;

  /// What makes the spec unusable (errc::invalid_argument, saying what).
  caf::error check() const;
};

} // namespace p2pd
