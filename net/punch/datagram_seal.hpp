#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/crypto/session_key.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/punch/replay_window.hpp"

// The wire frame of a punched UDP session: every datagram the punch sends,
// probes included, is one frame.
//
//   offset  size  field (big-endian)
//   0       1     version (1)
//   1       1     kind (frame_kind)
//   2       4     session tag (session_keys::tag)
//   6       8     counter
//   14      n     payload, encrypted with ChaCha20-Poly1305 (RFC 8439)
//   14+n    16    Poly1305 tag over the header (as associated data) and payload
//
// The key is the sender's direction key and the nonce is 4 zero bytes and
// the counter (big-endian). Each side seals with its own key and a counter
// that only goes up, so no (key, nonce) pair is ever used twice; a sealer
// refuses to go past 2^64 - 2 rather than wrap. The receiver refuses, in
// this order and each with its own error and counter: a datagram too short
// or of an unknown version or kind (malformed), another session's tag
// (foreign), a counter that the replay window has seen or left behind
// (replayed), and a frame that does not authenticate (forged). The replay
// check comes before decryption, so a forged frame that repeats a seen
// counter counts as replayed; the window moves only for authentic frames.
// The tag is not secret: it lets a receiver tell another session's frames
// (a previous punch on the same port) from forgeries at no cost.

namespace p2pd::net {

namespace detail {
class chacha_poly;
}

/// What a frame is for.
enum class frame_kind : uint8_t {
  probe = 1,        ///< a punch probe: answered with probe_ack on the path it came by
  probe_ack = 2,    ///< the answer to a probe: the path works both ways
  nominate = 3,     ///< the controlling side chose this path
  nominate_ack = 4, ///< the controlled side took the nominated path
  data = 5,         ///< application bytes
  keepalive = 6,    ///< keeps the NAT mappings of the path alive
  close = 7,        ///< the sender ended the session
};

/// "probe", "data", ...
const char* to_string(frame_kind k);

inline constexpr uint8_t frame_version = 1;
inline constexpr size_t frame_header_size = 14;
inline constexpr size_t frame_tag_size = 16;
/// Bytes a frame adds to its payload.
inline constexpr size_t frame_overhead = frame_header_size + frame_tag_size;
/// The largest payload: what fits in one UDP datagram over IPv4 (65507
/// bytes) with the frame around it.
inline constexpr size_t max_frame_payload = max_udp_payload(family::v4) - frame_overhead;

/// An opened frame.
struct frame {
  frame_kind kind = frame_kind::data;
  uint64_t counter = 0;
  std::vector<uint8_t> payload;
};

/// What a seal did, every refusal by its reason.
struct seal_counters {
  uint64_t sealed = 0;
  uint64_t opened = 0;
  uint64_t malformed = 0; ///< too short, unknown version or kind
  uint64_t foreign = 0;   ///< another session's tag
  uint64_t replayed = 0;  ///< a counter seen before, or behind the window
  uint64_t forged = 0;    ///< failed authentication
};

/// Seals what one side sends and opens what it receives in one session.
/// Not thread-safe: one owner (an actor) calls it.
class datagram_seal {
public:
  /// A seal for `keys`; its first frame has counter `first_counter` (0
  /// unless a test needs a sealer near the end of its counters). Use one
  /// seal per session keys: two would reuse nonces. errc::crypto_failed if
  /// OpenSSL cannot set up the cipher.
  static result<datagram_seal> make(const session_keys& keys, uint64_t first_counter = 0);

  datagram_seal(datagram_seal&&) noexcept;
  datagram_seal& operator=(datagram_seal&&) noexcept;
  datagram_seal(const datagram_seal&) = delete;
  datagram_seal& operator=(const datagram_seal&) = delete;
  ~datagram_seal();

  /// The next frame of `kind` around `payload`. Errors:
  /// errc::message_too_large above max_frame_payload, errc::crypto_failed
  /// once the counters are used up (the session must end) or if OpenSSL
  /// fails.
  result<std::vector<uint8_t>> seal(frame_kind kind, byte_view payload);

  /// Opens a received datagram. Errors, each counted: errc::malformed,
  /// errc::not_for_us (foreign), errc::replayed, errc::forged; each says
  /// what was wrong.
  result<frame> open(byte_view datagram);

  const seal_counters& counters() const { return counters_; }
  /// The counter the next sealed frame gets.
  uint64_t next_counter() const { return next_; }
  uint32_t tag() const { return tag_; }
  const replay_window& window() const { return window_; }

private:
  datagram_seal(std::unique_ptr<detail::chacha_poly> tx, std::unique_ptr<detail::chacha_poly> rx,
                uint32_t tag, uint64_t first);

  std::unique_ptr<detail::chacha_poly> tx_;
  std::unique_ptr<detail::chacha_poly> rx_;
  uint32_t tag_;
  uint64_t next_;
  replay_window window_;
  seal_counters counters_;
};

} // namespace p2pd::net
