#include "p2pd/net/punch/datagram_seal.hpp"

#include <limits>
#include <string>

#include "p2pd/net/crypto/detail/openssl_util.hpp"
#include "p2pd/net/punch/detail/chacha_poly.hpp"

namespace p2pd::net {

namespace {

// The nonce's first four bytes: the keys are per direction, so the
// counter alone keeps nonces apart.
constexpr uint32_t nonce_constant = 0;

// The last counter a sealer uses: one short of the wrap, so that "the next
// counter" is always a number and the limit is checked before any use.
constexpr uint64_t last_counter = std::numeric_limits<uint64_t>::max() - 1;

uint64_t read_be(const uint8_t* p, size_t n) {
  uint64_t x = 0;
  for (size_t i = 0; i < n; ++i)
    x = (x << 8) | p[i];
  return x;
}

void write_be(uint8_t* p, uint64_t x, size_t n) {
  for (size_t i = 0; i < n; ++i)
    p[i] = static_cast<uint8_t>(x >> (8 * (n - 1 - i)));
}

bool known_kind(uint8_t k) {
  return k >= static_cast<uint8_t>(frame_kind::probe)
         && k <= static_cast<uint8_t>(frame_kind::close);
}

} // namespace

const char* to_string(frame_kind k) {
  switch (k) {
    case frame_kind::probe: return "probe";
    case frame_kind::probe_ack: return "probe_ack";
    case frame_kind::nominate: return "nominate";
    case frame_kind::nominate_ack: return "nominate_ack";
    case frame_kind::data: return "data";
    case frame_kind::keepalive: return "keepalive";
    case frame_kind::close: return "close";
  }
  return "unknown";
}

datagram_seal::datagram_seal(std::unique_ptr<detail::chacha_poly> tx,
                             std::unique_ptr<detail::chacha_poly> rx, uint32_t tag,
                             uint64_t first)
  : tx_(std::move(tx)), rx_(std::move(rx)), tag_(tag), next_(first) {}

datagram_seal::datagram_seal(datagram_seal&&) noexcept = default;
datagram_seal& datagram_seal::operator=(datagram_seal&&) noexcept = default;
datagram_seal::~datagram_seal() = default;

result<datagram_seal> datagram_seal::make(const session_keys& keys, uint64_t first_counter) {
  detail::clear_errors_on_exit guard;
  auto tx = std::make_unique<detail::chacha_poly>(keys.send, true);
  auto rx = std::make_unique<detail::chacha_poly>(keys.recv, false);
  if (!tx->ready() || !rx->ready())
    return detail::crypto_error("cannot set up ChaCha20-Poly1305 for a punched session");
  return datagram_seal{std::move(tx), std::move(rx), keys.tag, first_counter};
}

result<std::vector<uint8_t>> datagram_seal::seal(frame_kind kind, byte_view payload) {
  detail::clear_errors_on_exit guard;
  if (payload.size() > max_frame_payload)
    return error{errc::message_too_large,
                 "cannot seal " + std::to_string(payload.size())
                   + " bytes in one datagram: at most " + std::to_string(max_frame_payload)};
  if (next_ > last_counter)
    return error{errc::crypto_failed,
                 "the session's send counter is used up (2^64 - 1 frames): it must end"};
  std::vector<uint8_t> out(frame_overhead + payload.size());
  out[0] = frame_version;
  out[1] = static_cast<uint8_t>(kind);
  write_be(out.data() + 2, tag_, 4);
  write_be(out.data() + 6, next_, 8);
  if (!tx_->seal(detail::frame_nonce(nonce_constant, next_),
                 byte_view{out.data(), frame_header_size}, payload,
                 out.data() + frame_header_size))
    return detail::crypto_error("cannot seal a frame: ChaCha20-Poly1305 failed");
  ++next_;
  ++counters_.sealed;
  return out;
}

result<frame> datagram_seal::open(byte_view d) {
  detail::clear_errors_on_exit guard;
  auto refuse = [](uint64_t& counter, errc code, std::string what) -> result<frame> {
    ++counter;
    return error{code, std::move(what)};
  };
  if (d.size() < frame_overhead)
    return refuse(counters_.malformed, errc::malformed,
                  "a datagram of " + std::to_string(d.size())
                    + " bytes is shorter than a frame (" + std::to_string(frame_overhead)
                    + ")");
  const uint8_t* p = d.data();
  if (p[0] != frame_version)
    return refuse(counters_.malformed, errc::malformed,
                  "a frame of version " + std::to_string(p[0]) + " (this build reads "
                    + std::to_string(frame_version) + ")");
  if (!known_kind(p[1]))
    return refuse(counters_.malformed, errc::malformed,
                  "a frame of unknown kind " + std::to_string(p[1]));
  auto tag = static_cast<uint32_t>(read_be(p + 2, 4));
  if (tag != tag_)
    return refuse(counters_.foreign, errc::not_for_us,
                  "a frame of another session (tag " + std::to_string(tag) + ", ours "
                    + std::to_string(tag_) + ")");
  auto counter = read_be(p + 6, 8);
  if (!window_.fresh(counter))
    return refuse(counters_.replayed, errc::replayed,
                  window_.highest() - counter < replay_window_size
                    ? "counter " + std::to_string(counter) + " was accepted before"
                    : "counter " + std::to_string(counter)
                        + " is behind the replay window (highest "
                        + std::to_string(window_.highest()) + ")");
  frame out;
  out.kind = static_cast<frame_kind>(p[1]);
  out.counter = counter;
  out.payload.resize(d.size() - frame_overhead);
  if (!rx_->open(detail::frame_nonce(nonce_constant, counter), byte_view{p, frame_header_size},
                 byte_view{p + frame_header_size, d.size() - frame_header_size},
                 out.payload.data()))
    return refuse(counters_.forged, errc::forged,
                  "a " + std::string{to_string(out.kind)} + " frame (counter "
                    + std::to_string(counter) + ") failed authentication");
  window_.accept(counter);
  ++counters_.opened;
  return out;
}

} // namespace p2pd::net
