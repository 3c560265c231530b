#pragma once

#include <cstdint>
#include <string>

#include "caf/actor.hpp"
#include "caf/atom.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/atoms.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/crypto/replay_guard.hpp"

namespace p2pd::net {

// Here, not in net/: net/ does not include CAF; ADL finds it all the same.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, public_keys& x) {
  return f(caf::meta::type_name("p2pd::public_keys"), x.sign, x.agree);
}

} // namespace p2pd::net

namespace p2pd {

/// "online": answered once the node listens on its topic (see signal_node_actor).
using online_atom = caf::atom_constant<caf::atom("p2online")>;

/// An authenticated message a node received, as its subscribers get it. It
/// passed every check of wire::inbox::open (signature, sender key, recipient,
/// decryption, freshness, replay) and is delivered once, whichever channels
/// carried copies of it.
struct signal_message {
  std::string sender;            ///< the sender's node id (text form)
  net::public_keys sender_keys;  ///< checked against `sender`; seal answers to these
  net::message_id id{};          ///< chosen by the sender; what send() answered it
  uint32_t type = 0;             ///< the payload type (wire::payload_type value)
  bool known_type = false;       ///< whether this build knows `type`
  int64_t timestamp_ms = 0;      ///< Unix time in ms, as the sender stamped it
  bytes plaintext;               ///< the decrypted payload
  std::string channel;           ///< the channel whose copy was delivered
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signal_message& x) {
  return f(caf::meta::type_name("p2pd::signal_message"), x.sender, x.sender_keys, x.id, x.type,
           x.known_type, x.timestamp_ms, x.plaintext, x.channel);
}

/// Who a node is.
struct signal_node_info {
  std::string id;        ///< the node id, text form
  net::public_keys keys; ///< what peers seal to and verify with
  std::string topic;     ///< the topic it listens on, signal_topic(id, prefix)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signal_node_info& x) {
  return f(caf::meta::type_name("p2pd::signal_node_info"), x.id, x.keys, x.topic);
}

/// What a node did. The refusal counters follow wire::inbox_counters, with
/// one difference: a copy of a message the node delivered within its
/// duplicate window counts as `duplicates`, not as `replayed` (see
/// signal_node_spec::duplicate_window_ms). Nothing refused is ever delivered.
struct signal_node_stats {
  uint64_t sent = 0;             ///< sends answered with a message id
  uint64_t send_failed = 0;      ///< sends answered with an error
  /// Publishes a channel refused or failed (the send may still have succeeded).
  uint64_t channel_failures = 0;
  uint64_t delivered = 0;        ///< authenticated messages handed to subscribers
  uint64_t unclaimed = 0;        ///< authenticated messages that found no subscriber
  uint64_t duplicates = 0;       ///< second and later copies of a delivered message
  uint64_t malformed = 0;
  uint64_t too_large = 0;
  uint64_t unsupported_version = 0;
  uint64_t not_for_us = 0;
  uint64_t wrong_sender_key = 0;
  uint64_t bad_signature = 0;
  uint64_t undecryptable = 0;
  uint64_t replayed = 0;         ///< seen before and not a recent delivery's copy
  uint64_t expired = 0;
  uint64_t too_old = 0;
  uint64_t from_future = 0;
  /// Message ids the replay guard dropped for room (each raised its sender's floor).
  uint64_t replay_evicted = 0;
  /// Senders the replay guard forgot for room (strangers first).
  uint64_t replay_senders_evicted = 0;
  uint32_t channels = 0;         ///< channels the node publishes on and listens to
  uint32_t channels_listening = 0; ///< of those, the ones that confirmed its subscription
  uint32_t subscribers = 0;
  uint64_t pending_sends = 0;    ///< sends with a channel answer outstanding

  /// The sum of the refusal counters (duplicates are not refusals).
  uint64_t refused() const {
    return malformed + too_large + unsupported_version + not_for_us + wrong_sender_key
           + bad_signature + undecryptable + replayed + expired + too_old + from_future;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signal_node_stats& x) {
  return f(caf::meta::type_name("p2pd::signal_node_stats"), x.sent, x.send_failed,
           x.channel_failures, x.delivered, x.unclaimed, x.duplicates, x.malformed, x.too_large,
           x.unsupported_version, x.not_for_us, x.wrong_sender_key, x.bad_signature,
           x.undecryptable, x.replayed, x.expired, x.too_old, x.from_future, x.replay_evicted,
           x.replay_senders_evicted, x.channels,
           x.channels_listening, x.subscribers, x.pending_sends);
}

/// A node's signalling: its identity, and encrypted, signed messages to and
/// from other nodes over several channels at once (actors/signal/
/// signal_node.hpp). Requests answer with the value shown or a caf::error of
/// the p2pd category.
///
/// - send (peer keys, payload type, plaintext): seals the plaintext to the
///   peer, signed by this node, and publishes it on the peer's topic on
///   `redundancy` channels at once. Answers the message id as soon as one
///   channel acknowledged it; an error only when every channel failed, whose
///   message names each channel and its error (the code is the first
///   channel's). Refused at once: errc::invalid_argument (type 0 or above
///   INT32_MAX), errc::message_too_large (the envelope would exceed the
///   node's max_message_size), errc::queue_full (max_pending_sends sends
///   wait for channels), errc::channel_closed (no channel left).
/// - subscribe (actor) / unsubscribe (actor): the actor gets a
///   signal_message for every authenticated message, once. Held until it
///   terminates or unsubscribes; errc::queue_full beyond max_subscribers.
/// - info: the node's id, public keys and topic.
/// - stats: counters (signal_node_stats).
/// - online (n): answers once n channels confirmed the node's subscription
///   to its own topic (0: all of them; n is capped at their number), so
///   that what peers send from then on reaches the node. An error, naming
///   each channel's, once every channel answered and fewer confirmed. A
///   channel that cannot reach its broker answers within its ack timeout.
/// - close: closes the channels the node opened itself, answers, and ends
///   the node. Channels given by the caller stay open.
using signal_node_actor = caf::typed_actor<
  caf::replies_to<send_atom, net::public_keys, uint32_t, bytes>::with<net::message_id>,
  caf::replies_to<caf::subscribe_atom, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<caf::unsubscribe_atom, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<info_atom>::with<signal_node_info>,
  caf::replies_to<stats_atom>::with<signal_node_stats>,
  caf::replies_to<online_atom, uint32_t>::with<caf::ok_atom>,
  caf::replies_to<caf::close_atom>::with<caf::ok_atom>>;

} // namespace p2pd
