#include "p2pd/net/turn/turn_tcp.hpp"

#include "p2pd/net/stun/detail/stun_detail.hpp"
#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/turn/channel_data.hpp"

namespace p2pd::net {

using namespace stun_detail;

namespace {

result<std::vector<uint8_t>> signed_finish(stun_builder& b, const turn_auth& auth) {
  b.add_text(stun_attr::username, auth.username);
  b.add_text(stun_attr::realm, auth.realm);
  b.add_text(stun_attr::nonce, auth.nonce);
  b.add_integrity(auth.key);
  b.add_fingerprint();
  return b.finish();
}

} // namespace

result<std::vector<uint8_t>> build_turn_connect(const stun_txid& id, const endpoint& peer,
                                                const turn_auth* auth) {
  if (peer.port == 0 || peer.ip.is_any())
    return error{errc::invalid_argument, "Connect needs a peer address and port, not "
                                           + peer.to_string()};
  stun_builder b{stun_class::request, stun_method::connect, id};
  b.add_xor_address(stun_attr::xor_peer_address, peer);
  if (auth != nullptr)
    return signed_finish(b, *auth);
  b.add_fingerprint();
  return b.finish();
}

result<std::vector<uint8_t>> build_turn_connection_bind(const stun_txid& id,
                                                        uint32_t connection_id,
                                                        const turn_auth& auth) {
  stun_builder b{stun_class::request, stun_method::connection_bind, id};
  uint8_t v[4];
  put32(v, connection_id);
  b.add_raw(stun_attr::connection_id, v, sizeof(v));
  return signed_finish(b, auth);
}

std::optional<uint32_t> turn_connection_id(const stun_message& m) {
  auto a = m.find(stun_attr::connection_id);
  if (a == nullptr || a->value.size() != 4)
    return std::nullopt;
  return get32(a->value.data());
}

errc turn_errc(uint16_t code) {
  switch (code) {
    case 401:
    case 441: return errc::auth_refused;
    case 486:
    case 508: return errc::quota_exceeded;
    case 437: return errc::allocation_lost;
    case 440: return errc::family_unsupported;
    case 446: return errc::connection_exists;
    case 447: return errc::connect_failed;
    default: return errc::server_refused;
  }
}

result<size_t> check_turn_connection_bind(const uint8_t* buffered, size_t size,
                                          const stun_txid& id, const stun_key& key,
                                          uint32_t connection_id) {
  auto n = turn_stream_frame_size(buffered, size);
  if (!n)
    return n.error();
  if (!*n || **n > size)
    return size_t{0};
  auto m = decode_stun(buffered, **n);
  if (!m)
    return m.error();
  auto bind = strf("ConnectionBind of connection %u", connection_id);
  if (m->method() != stun_method::connection_bind
      || (m->cls() != stun_class::success && m->cls() != stun_class::error))
    return error{errc::malformed, "a STUN " + std::string{to_string(m->cls())}
                                    + " where the answer to the " + bind + " belongs"};
  if (m->txid() != id)
    return error{errc::not_for_us, "an answer to another " + bind + " (transaction "
                                     + m->txid().to_string() + ")"};
  if (m->cls() == stun_class::error) {
    auto ec = m->error_code();
    return error{turn_errc(ec ? ec->code : 0), bind + " refused: " + turn_error_text(*m)};
  }
  // Signed by the server with our key, or anyone on the path could have
  // sent it (RFC 8489 §9.2.5).
  if (!m->has_integrity() || !m->integrity_ok(key))
    return error{errc::forged, "the answer to the " + bind + " has a MESSAGE-INTEGRITY that "
                                 + (m->has_integrity() ? "does not check" : "is missing")};
  return **n;
}

} // namespace p2pd::net
