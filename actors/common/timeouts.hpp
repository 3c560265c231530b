#pragma once

// Every default timeout and timing tunable of the actor layer and the facade,
// each with the reason for its value, so that a reader finds them in one
// place. Specs (net_conf, mqtt_channel_spec, interface_spec, restart_policy)
// keep their fields, which a user sets, and take their defaults from here.
// STUN's retransmission presets are in actors/stun/stun_timing.hpp.
//
// A leaf: it includes nothing of p2pd's, so that messages/net_conf.hpp may
// include it too (tests/layout checks).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "caf/timespan.hpp"

namespace p2pd::timeouts {

using namespace std::chrono_literals;

// -- requests that carry no timeout ---------------------------------------------

/// For requests whose receiver always answers or bounces them: the pipe
/// (recv and ask answer by the pipe's own timers, a closed pipe bounces),
/// the hub, a channel (publishes are answered within its ack_timeout), a
/// run_blocking job (it answers when the call returns), an interface's
/// first refresh, a signal node's subscriptions. In CAF 0.17 a
/// request's timeout holds the requester alive until it fires, answered or
/// not, so a timeout there would only delay the end of an unreferenced actor.
inline constexpr caf::infinite_t until_answered = caf::infinite;

// -- pipes (net_conf) -----------------------------------------------------------

/// net_conf::dns_timeout: a resolver that answers at all does so within
/// tens of milliseconds; glibc's own retry (5 s per server) is far longer
/// than a caller should wait for a pipe.
inline constexpr caf::timespan dns = 2s;
/// net_conf::recv_timeout, also each try of ask: the seed's default; a
/// round trip on any path a peer-to-peer node can use is well under it.
inline constexpr caf::timespan recv = 2s;
/// net_conf::con_timeout: a SYN lost once is resent after 1 s (RFC 6298),
/// so 2 s allows one loss. A closing pipe also waits this long for its
/// writes to drain before it closes anyway.
inline constexpr caf::timespan connect = 2s;
/// net_conf::idle_timeout: coturn's 60 s; a client that sends nothing for
/// a minute holds a slot someone else may need.
inline constexpr caf::timespan idle_client = 60s;
/// net_conf::msg_deadline: a framed message not complete 10 s after its
/// first byte is a slow-loris client, not a slow link.
inline constexpr caf::timespan msg_deadline = 10s;
/// net_conf::ssl_handshake: two round trips plus certificate checks; 4 s
/// allows a lost packet on a slow path.
inline constexpr caf::timespan tls_handshake = 4s;
/// Resolved addresses a client pipe tries to connect to, one after the
/// other: enough for both families of a dual-stack host and a spare each,
/// few enough that open_timeout() stays short.
inline constexpr size_t connect_attempts = 4;
/// What open_timeout() adds to resolution and the connects: the pipe
/// answers within its own timers, and the requester must not give up first.
inline constexpr caf::timespan open_margin = 1s;
/// Bounds of a server's client sweep (a quarter of the shorter of
/// idle_timeout and msg_deadline): at least 10 ms, so a tiny limit does not
/// spin the I/O thread, at most 1 s, so a client is reset at most 1 s late.
inline constexpr caf::timespan sweep_min = 10ms;
inline constexpr caf::timespan sweep_max = 1s;

// -- daemons (restart_policy) ---------------------------------------------------

/// Longest wait for one listener to close; a pipe answers within
/// con_timeout, so this is only reached if it hangs.
inline constexpr caf::timespan listener_close = 10s;
/// restart_policy: at most 5 restarts within 10 s (Erlang/OTP's defaults
/// are 1 in 5 s; listeners fail for outside reasons, e.g. an address going
/// away for a moment, so a few more are allowed)...
inline constexpr uint32_t restart_intensity = 5;
inline constexpr caf::timespan restart_period = 10s;
/// ...after 10 ms, doubled per restart up to 1 s: the first retry comes at
/// once (a port still held by the old socket), later ones do not spin.
inline constexpr caf::timespan restart_backoff_min = 10ms;
inline constexpr caf::timespan restart_backoff_max = 1s;

// -- STUN ------------------------------------------------------------------------

/// What stun_deadline() adds to a transaction's own retransmission schedule:
/// the client answers by its own timers, the requester must not give up first.
inline constexpr caf::timespan stun_margin = 5s;

// -- the NTP clock (ntp_clock_spec) ---------------------------------------------

/// ntp_clock_spec::reply_timeout: a public server answers within a few
/// hundred ms; an answer later than 1 s would carry an error of over 500 ms,
/// worth less than asking again.
inline constexpr caf::timespan ntp_reply = 1s;
/// ntp_clock_spec::spacing, between the requests of one measurement to one
/// server: ntpd's `discard minimum` (2 s) and chrony's iburst spacing. A
/// public server may answer faster requests with a RATE kiss-o'-death.
inline constexpr caf::timespan ntp_spacing = 2s;
/// ntp_clock_spec::samples: answers wanted from each server per
/// measurement, as chrony's iburst sends 4: queueing delay comes and goes,
/// and the least-delay filter needs one exchange that missed it.
inline constexpr uint32_t ntp_samples = 4;
/// ntp_clock_spec::retries: requests beyond `samples` for answers that were
/// lost, so that a measurement ends after at most 6 requests per server.
inline constexpr uint32_t ntp_retries = 2;
/// ntp_clock_spec::refresh_interval: a host clock left alone drifts up to
/// about 50 ppm (15 ms in 5 min); one disciplined by its own NTP daemon far
/// less. A measurement costs each server 4 packets.
inline constexpr caf::timespan ntp_refresh = 5min;
/// ntp_clock_spec::max_servers: more than enough to outvote a falseticker
/// (three do), few enough that a long server file does not make one
/// measurement a flood.
inline constexpr size_t ntp_max_servers = 8;
/// Datagrams the clock's sockets hand to the actor and it has not read yet;
/// beyond, they are dropped and counted (a flood must not grow its mailbox).
inline constexpr size_t ntp_inbox = 64;

// -- the interface actor (interface_spec) --------------------------------------

/// interface_spec::dns_timeout: as for pipes; servers that do not resolve
/// in time are named in the snapshot rather than waited for.
inline constexpr caf::timespan interface_dns = 2s;
/// interface_spec::refresh_interval: addresses and NAT mappings change on
/// the scale of DHCP leases and NAT timeouts (minutes); a refresh costs a
/// few STUN transactions per server.
inline constexpr caf::timespan interface_refresh = 5min;
/// NAT servers of a family a refresh tries at most: each unanswered one
/// costs a whole STUN timeout, and a network that blocks UDP and TCP
/// answers none of them.
inline constexpr size_t interface_nat_servers = 2;

// -- MQTT channels (mqtt_channel_spec) -----------------------------------------

/// keep_alive: how fast a silent broker is noticed (MQTT counts whole
/// seconds; 30 s is what most clients use and brokers expect).
inline constexpr caf::timespan mqtt_keep_alive = 30s;
/// connect_timeout: a broker that does not take a connect within 5 s is
/// tried again after the backoff rather than waited for.
inline constexpr caf::timespan mqtt_connect = 5s;
/// backoff_min and backoff_max of reconnects (doubled per failed try, with
/// jitter): the first comes almost at once, later ones do not hammer a
/// broker that is down.
inline constexpr caf::timespan mqtt_backoff_min = 100ms;
inline constexpr caf::timespan mqtt_backoff_max = 10s;
/// ack_timeout: a publish is kept and resent across reconnects for a
/// minute; past that the sender learns it is lost (its message's TTL is
/// about as long).
inline constexpr caf::timespan mqtt_ack = 60s;
/// close_timeout: the DISCONNECT is a courtesy; a broker that does not take
/// it within 2 s is left.
inline constexpr caf::timespan mqtt_close = 2s;
/// The shortest wait an expiry timer is armed with: a deadline that passed
/// already fires at once instead of with a zero delay.
inline constexpr caf::timespan mqtt_expiry_floor = 1ms;

// -- the signal node (signal_node_spec) --------------------------------------

/// ttl_ms: a message is valid for a minute after it is stamped, as long as a
/// channel's outbox keeps resending it (mqtt_ack); the replay guard accepts
/// no longer ttl (net::replay_config::max_ttl_ms).
inline constexpr uint32_t signal_ttl_ms = 60'000;
/// duplicate_window_ms: a copy through a second broker, or a broker's
/// resend, comes within seconds; a copy after 15 s counts as a replay.
inline constexpr uint32_t signal_duplicate_window_ms = 15'000;

// -- blocking work (run_blocking) ------------------------------------------------

/// Threads run_blocking's default executor starts at most. A refresh of
/// the interface actor runs up to five jobs at once (name resolution, the
/// external address of each route, the NAT of each family); eight let a
/// pipe's name lookup or a channel's teardown run beside one. More jobs
/// wait their turn: a slow resolver is not made faster by more threads.
inline constexpr size_t max_blocking_threads = 8;

// -- the node (node/) -------------------------------------------------------------

/// A node's requests to its own children (subscribe, online): each answers
/// at once or within its own timeouts (online waits for at most a channel's
/// connect and first retries); this only bounds a child that hangs.
inline constexpr caf::timespan node_child = 30s;
/// Each child's close when the node closes: a daemon or signal node closes
/// its pipes and channels within their own close timeouts (2 s for MQTT),
/// so 10 s means the child hangs; the node ends it then.
inline constexpr caf::timespan node_close = 10s;
/// A node's metrics request waits this long for its pipes' and signal
/// node's counters (each answers at once when it runs): a scrape gets the
/// counters that came, and those missing are counted, rather than waiting
/// on a child that hangs.
inline constexpr caf::timespan metrics_gather = 1s;

// -- the facade (api/) -----------------------------------------------------------

/// A request that a pipe or daemon answers at once (send, stats, close ...):
/// 10 s means the actor hangs, not that it is slow.
inline constexpr caf::timespan admin = 10s;
/// A daemon's listen or close: each listener opens or closes within the
/// pipe's own timeout, which the daemon applies, and opening thousands of
/// them takes a while.
inline constexpr caf::timespan listen = 60s;
/// What the facade adds to a wait the pipe bounds itself (recv, ask): the
/// pipe's answer, timeout included, must come before the facade gives up.
inline constexpr caf::timespan call_margin = 2s;

/// `t` when it is set (positive), else `fallback`: for spec fields whose
/// zero means "the default".
inline caf::timespan or_default(caf::timespan t, caf::timespan fallback) {
  return t.count() > 0 ? t : fallback;
}

/// "1500 ms": how a duration reads in an error message.
inline std::string ms_text(caf::timespan t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count())
         + " ms";
}

} // namespace p2pd::timeouts
