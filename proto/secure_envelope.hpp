#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "p2pd/net/error.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/crypto/replay_guard.hpp"
#include "p2pd/proto/envelope_codec.hpp"

// The secure envelope: a payload turned into signed bytes that only one
// recipient can read, and the receiving side that checks everything about
// them. CAF-free; the signalling actors call it.
//
// Sending (seal_envelope):
//   1. a fresh message id (16 random bytes) and the header: sender id and
//      public keys, recipient id = node_id::of(recipient), message id,
//      timestamp, ttl, payload type;
//   2. the plaintext sealed to the recipient's X25519 key (net::seal) with
//      envelope_aad() of that header as associated data;
//   3. the body serialized (encode_body), signed with the sender's Ed25519 key
//      for sign_purpose::envelope over signed_bytes() (the versions, the
//      signing key and the body: everything a receiver acts on) and wrapped
//      in an envelope (encode_envelope).
//
// The signature proves who wrote the body; the AAD ties the ciphertext to the
// header it was sealed under. Without the AAD, anyone able to sign a body
// (the sender, or whoever holds a key the sender shared) could move a
// ciphertext under another message id, timestamp, ttl or type; with it, such
// a body no longer decrypts.

namespace p2pd::wire {

/// What seal_envelope() made: the bytes to send and the id it gave them.
struct sealed_message {
  bytes envelope;          ///< the encoded envelope, ready for the wire
  wire::message_id id{};   ///< its message id, e.g. to match an answer
};

/// Label at the start of envelope_aad(): names the construction and its
/// version, so that the AAD of another use of net::seal never matches.
inline constexpr char envelope_aad_label[] = "p2pd envelope v1";
inline constexpr size_t envelope_aad_label_size = sizeof(envelope_aad_label) - 1;

/// Size of envelope_aad(): every field has a fixed size, so no field can
/// spill into the next one.
inline constexpr size_t envelope_aad_size =
  envelope_aad_label_size + node_id_size + node_id_size + message_id_size + 8 + 4 + 4;

/// The associated data a body's ciphertext is sealed with: 88 bytes,
///
///     offset  size  content
///          0    16  "p2pd envelope v1" (ASCII, no terminator)
///         16    20  sender_id
///         36    20  recipient_id
///         56    16  message_id
///         72     8  timestamp_ms, big-endian two's complement
///         80     4  ttl_ms, big-endian
///         84     4  type (its int32 value), big-endian two's complement
///
/// The sender's keys are not included: the sender id commits to them
/// (node_id::of) and the inbox checks that it does. The ephemeral key and the
/// recipient's key are bound by net::seal's key derivation already.
std::array<uint8_t, envelope_aad_size> envelope_aad(const body& b);

/// The envelope signature of `body_bytes` by `me`, written as `version` with
/// `min_version`: identity::sign(sign_purpose::envelope, signed_bytes(...)).
signature sign_body(const net::identity& me, const bytes& body_bytes,
                    uint32_t version = current_version,
                    uint32_t min_version = oldest_reader_version);

/// Seals `plaintext` (a payload of type `type`, e.g. encode_payload(x)) from
/// `me` to the node with public keys `recipient`, stamped `now_ms` (Unix time
/// in ms) and valid for `ttl_ms` after that. Every call chooses a new message
/// id and a new ephemeral key, so two calls never give the same bytes.
/// Errors: errc::invalid_argument for PAYLOAD_TYPE_UNSPECIFIED and for
/// recipient keys that net::check_public_keys refuses;
/// errc::message_too_large when the plaintext or the envelope exceeds
/// `max_bytes`; errc::crypto_failed when the random generator fails or the
/// recipient's agreement key is of small order (no secret can be agreed with
/// it).
result<sealed_message> seal_envelope(const net::identity& me, const net::public_keys& recipient,
                                     payload_type type, net::byte_view plaintext, int64_t now_ms,
                                     uint32_t ttl_ms, size_t max_bytes = max_envelope_bytes);

/// seal_envelope() of a payload message, with its type taken from T.
template <class T, class = decltype(payload_traits<T>::type)>
result<sealed_message> seal_payload(const net::identity& me, const net::public_keys& recipient,
                                    const T& payload, int64_t now_ms, uint32_t ttl_ms,
                                    size_t max_bytes = max_envelope_bytes) {
  return seal_envelope(me, recipient, payload_type_of<T>, encode_payload(payload), now_ms,
                       ttl_ms, max_bytes);
}

/// An envelope that passed every check of inbox::open().
struct opened_message {
  net::node_id sender;          ///< node_id::of(sender_keys), checked
  net::public_keys sender_keys; ///< verify its next messages, seal answers to it
  wire::message_id id{};
  /// May be a value this build does not know; see known_type.
  payload_type type = PAYLOAD_TYPE_UNSPECIFIED;
  /// Whether this build has a payload message for `type`. An unknown type
  /// comes from a newer sender; the caller decides what to answer.
  bool known_type = false;
  int64_t timestamp_ms = 0; ///< as the sender stamped it
  uint32_t ttl_ms = 0;      ///< as the sender sent it (not capped)
  bytes plaintext;          ///< the payload, e.g. for decode_payload<T>()
};

/// How often inbox::open() gave each answer. Every call adds one to exactly
/// one counter other than unknown_type.
struct inbox_counters {
  uint64_t accepted = 0;
  uint64_t unknown_type = 0;        ///< of the accepted: a type this build does not know
  uint64_t too_large = 0;           ///< errc::message_too_large
  uint64_t malformed = 0;           ///< errc::malformed: garbage, truncated, bad fields
  uint64_t unsupported_version = 0; ///< errc::unsupported_version
  uint64_t not_for_us = 0;          ///< errc::not_for_us
  uint64_t wrong_sender_key = 0;    ///< errc::forged: the keys are not the sender id's
  uint64_t bad_signature = 0;       ///< errc::forged: the signature does not verify
  uint64_t undecryptable = 0;       ///< errc::crypto_failed
  uint64_t replayed = 0;            ///< errc::replayed
  uint64_t expired = 0;             ///< errc::expired: past its ttl
  uint64_t too_old = 0;             ///< errc::expired: below the replay cache's floor
  uint64_t from_future = 0;         ///< errc::from_future

  /// The sum of the refusals.
  uint64_t refused() const {
    return too_large + malformed + unsupported_version + not_for_us + wrong_sender_key
           + bad_signature + undecryptable + replayed + expired + too_old + from_future;
  }
};

/// The receiving side of one node: opens the envelopes sent to it, refusing
/// every one that is not authentic, not for this node, not fresh or seen
/// before. Not thread-safe: one owner (the node's signalling actor) calls it.
///
/// open() checks, cheapest first, and stops at the first failure:
///  1. size <= max_bytes                       (errc::message_too_large)
///  2. decode_envelope: format, version        (errc::malformed, errc::unsupported_version)
///  3. the envelope's signing key is not weak  (errc::forged, wrong_sender_key)
///  4. the signature over signed_bytes() of the bytes as received, before
///     anything of the body is parsed          (errc::forged, bad_signature)
///  5. decode_body                             (errc::malformed)
///  6. the body names the envelope's signing key, its agreement key is not
///     weak, node_id::of(sender keys) == sender id (errc::forged, wrong_sender_key)
///  7. recipient id is this node's             (errc::not_for_us)
///  8. the payload decrypts with envelope_aad() (errc::crypto_failed)
///  9. the replay guard: not expired, not from the future, not seen before
///     (errc::expired, errc::from_future, errc::replayed)
///
/// The replay guard comes last because it remembers what it accepts: a
/// message that fails to decrypt must leave no trace, or a body the sender
/// signed with a damaged ciphertext (or a header it changed) would block the
/// genuine message with the same id. Nothing before step 8 remembers
/// anything, so a refused message never changes how the next one is judged.
class inbox {
public:
  /// An inbox for `me`, which must outlive the inbox and must not be moved
  /// from meanwhile: the inbox keeps a reference (the node owns both, the
  /// identity declared first). `replay` limits the replay guard; `max_bytes`
  /// is the largest envelope looked at.
  explicit inbox(const net::identity& me, const net::replay_config& replay = {},
                 size_t max_bytes = max_envelope_bytes);

  // Not copyable: a copy would have a replay cache of its own, and a message
  // the original accepted would be accepted again by the copy.
  inbox(const inbox&) = delete;
  inbox& operator=(const inbox&) = delete;
  inbox(inbox&&) = default;

  /// Checks and opens an envelope that arrived at local time `now_ms` (Unix
  /// time in ms, the clock senders stamp with). Any bytes are safe. Errors
  /// carry the code listed above and say which check failed, e.g.
  /// "message for node <x>, this is node <y>" or "forged: bad signature".
  result<opened_message> open(net::byte_view envelope, int64_t now_ms);

  /// The answers given so far.
  const inbox_counters& counters() const { return counters_; }

  /// The replay guard, for its size, floor and eviction count.
  const net::replay_guard& replay() const { return guard_; }

  /// Keeps `peer` apart from strangers in the replay guard (see
  /// net::replay_guard::mark_known): the node calls it for peers it sends to.
  void mark_known(const net::node_id& peer) { guard_.mark_known(peer); }

  /// This node's id: what recipient_id must be.
  const net::node_id& id() const { return id_; }

  size_t max_bytes() const { return max_bytes_; }

private:
  const net::identity& me_;
  net::node_id id_;
  net::replay_guard guard_;
  size_t max_bytes_;
  inbox_counters counters_;
};

} // namespace p2pd::wire
