#pragma once

#include <cstddef>
#include <cstdint>

/// The versions and sizes of p2pd's signalling wire format, apart from the
/// codec: code that only needs a limit (a spec's default) does not pull in
/// the protobuf-generated headers.
namespace p2pd::wire {

/// The format version this build writes and reads.
inline constexpr uint32_t current_version = 2;
/// The lowest reader version that understands what this build writes: a
/// writer raises it only when older readers would misread its messages.
inline constexpr uint32_t oldest_reader_version = 2;
/// Envelopes older than this are refused: format 1 signed the body alone.
inline constexpr uint32_t oldest_accepted_version = 2;

/// The default size limit of an envelope. Signalling messages are a few
/// hundred bytes; the limit stops a peer (or a broker) from making us parse
/// megabytes.
inline constexpr size_t max_envelope_bytes = 64 * 1024;

inline constexpr size_t node_id_size = 20;       ///< sender_id, recipient_id
inline constexpr size_t sign_key_size = 32;      ///< Ed25519 public key
inline constexpr size_t agree_key_size = 32;     ///< X25519 public key (sender's and ephemeral)
inline constexpr size_t message_id_size = 16;
inline constexpr size_t nonce_size = 12;         ///< ChaCha20-Poly1305 nonce
inline constexpr size_t aead_tag_size = 16;      ///< Poly1305 tag: the shortest ciphertext
inline constexpr size_t signature_size = 64;     ///< Ed25519 signature

} // namespace p2pd::wire
