#pragma once

#include "caf/actor_system.hpp"

#include "p2pd/actors/punch/udp_punch_spec.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

/// A UDP hole punch that becomes an encrypted datagram pipe.
///
/// Spawned idle; the first `open` request starts it and its sender becomes
/// the owner (the punch closes when the owner ends). It binds one UDP
/// server pipe per `spec.local` through the spec's stack, then from
/// `spec.start` sends a round of sealed probes every `interval` from each
/// socket to each target (and the spray's ports in the first rounds), at
/// most `max_probes` in all, and answers the peer's probes. The
/// controlling side nominates the first path (socket, remote endpoint)
/// that proved itself both ways and the controlled side takes it
/// (net/punch/punch_session.hpp); every other socket is closed, and
/// `open` answers pipe_info (udp, local = the path's socket, remote = the
/// peer's endpoint on it). If no path is agreed within `window` it answers
/// errc::punch_failed, saying how many probes went out and what came
/// (nothing authentic, only forgeries, an unconfirmed nomination), and the
/// punch ends; both sides controlling fails the same way at once.
///
/// Every datagram is a sealed frame (net/punch/datagram_seal.hpp) under
/// `spec.keys`. Then, as any pipe_actor:
/// - send (bytes) and send (bytes, endpoint) seal data frames on the path
///   (the endpoint must be one the peer sent from: errc::unknown_peer
///   otherwise); before the path is chosen they are refused
///   (errc::pipe_closed), above max_datagram too (message_too_large), each
///   counted in dropped_send and answered when requested;
/// - data frames go to subscribers as pipe_msg (pipe = this actor, from =
///   the path's remote); with no subscriber for messages they are counted
///   as dropped_unclaimed;
/// - a keepalive goes out when nothing was sent for `keepalive`; the pipe
///   ends (pipe_end, whole, with the reason) after `idle_timeout` without
///   an authentic frame (errc::idle_timeout), on the peer's sealed close
///   (errc::pipe_closed, "closed by the peer"), when its socket fails
///   (errc::io_failed), or on close (no reason); a local close sends the
///   peer a sealed close first;
/// - the path follows the peer to a new source address only for
///   authentic data and keepalives (NAT rebinding);
/// - forged, replayed, foreign and malformed datagrams are dropped and
///   counted in pipe_stats (dropped_forged, ...), never reported one by
///   one; datagrams beyond conf.max_qsize waiting for the punch are
///   dropped as dropped_queue_full; oversized ones as dropped_oversized;
/// - queue, recv, ask, link, clients and close (endpoint) make no sense
///   for one sealed peer and are refused with errc::invalid_argument,
///   errc::link_rejected or errc::unknown_peer, saying why; unlink answers
///   ok (nothing is linked). info answers pipe_info once open, stats
///   pipe_stats.
pipe_actor spawn_udp_punch(caf::actor_system& sys, udp_punch_spec spec);

} // namespace p2pd
