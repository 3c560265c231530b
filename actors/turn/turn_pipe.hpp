#pragma once

#include "caf/actor_system.hpp"

#include "p2pd/actors/turn/turn_pipe_spec.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

using permit_atom = caf::atom_constant<caf::atom("p2tpermit")>;
using handler_atom = caf::atom_constant<caf::atom("p2thandler")>;

/// A TURN pipe: a pipe_actor, permit, and handler.
using turn_pipe_actor =
  pipe_actor::extend<caf::replies_to<permit_atom, endpoint>::with<caf::ok_atom>,
                     caf::replies_to<handler_atom, msg_handler>::with<pipe_info>>;

/// What a TURN pipe's allocation did, sent to subscribers of events::up
/// (allocated) and events::errors (lost, permission_failed).
struct turn_status {
  enum class kind : uint8_t {
    allocated,         ///< `relayed` is ours (again, after a loss: maybe another)
    lost,              ///< the allocation is gone (`reason`); a new one is under way
    permission_failed, ///< the server refused `peer` (`reason`)
  };
  pipe_actor pipe;
  kind what = kind::allocated;
  endpoint relayed;
  endpoint peer;
  caf::error reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_status& x) {
  return f(caf::meta::type_name("p2pd::turn_status"), x.pipe, x.what, x.relayed, x.peer,
           x.reason);
}

/// A UDP pipe whose address is a TURN relay (RFC 8656): what peers send to
/// the relayed address arrives here, and what is sent here leaves from it.
/// It is a pipe_actor like a UDP server pipe, so what runs on pipes (a
/// punch, a node link) runs through a relay unchanged.
///
/// Spawned idle; the first `open` opens a socket toward the server through
/// the spec's stack, allocates (401, then signed with the long-term
/// credentials; 438 answered with the new nonce), and answers pipe_info
/// (udp, server, local = the relayed address, remote = the server). The
/// opener becomes the owner: the pipe closes when it ends. Errors of open:
/// errc::auth_refused (credentials), quota_exceeded (486, 508),
/// family_unsupported (no relay of that family), recv_timeout (no answer
/// after the retransmissions), server_refused (any other refusal), or the
/// socket's error.
///
/// Then:
/// - send (bytes, peer): through the relay. The first send to a peer binds
///   it a channel (which installs its permission); until the server agrees
///   the datagrams wait (max_waiting, then dropped and counted), then they
///   and all later ones go as ChannelData. send (bytes) is refused: a relay
///   has no default destination.
/// - datagrams from peers go to on_msg, subscribers (pipe_msg, from = the
///   peer, pipe = this), the receive queues and links, like a UDP pipe's;
///   a peer may send once we sent to it or permitted it (permit_atom).
/// - the allocation, permissions and channels are refreshed before they
///   expire. A Refresh answered by 437 or not at all means the allocation is
///   lost (a server restart): subscribers get turn_status::lost, the pipe
///   allocates again with backoff and binds its peers' channels again, and
///   turn_status::allocated tells the new relayed address (pipe_info::local
///   follows it). Credentials refused on the way end the pipe.
/// - close deletes the allocation (Refresh, lifetime 0) before the pipe
///   ends; the owner's end does the same.
/// - clients answers the peers with a channel; close (peer) forgets one.
/// - ask is refused (no default destination), link forwards what arrives.
/// - malformed frames, forged or unmatched responses, ChannelData on a
///   channel we did not bind are dropped and counted in pipe_stats.
///
/// The handle is a pipe_actor with one more request, permit (peer): lets
/// `peer`'s IP send to the relayed address before we send to it
/// (CreatePermission, refreshed until close); answers ok once asked, or
/// errc::family_unsupported, pipe_closed. And handler (h): an open pipe
/// hands its datagrams to `h` from now on, in place of spec.on_msg, and
/// answers its info: so that a pipe allocated first (its relayed address
/// told to a peer) becomes the socket of what runs later (a UDP punch).
turn_pipe_actor spawn_turn_pipe(caf::actor_system& sys, turn_pipe_spec spec);

} // namespace p2pd

// A handler travels only between actors of one process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::msg_handler)
