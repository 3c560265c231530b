#include "p2pd/net/turn/turn_requests.hpp"

#include "p2pd/net/stun/detail/stun_detail.hpp"
#include "p2pd/net/stun/stun_builder.hpp"

namespace p2pd::net {

using namespace stun_detail;

namespace {

void add_u32(stun_builder& b, uint16_t type, uint32_t x) {
  uint8_t v[4];
  put32(v, x);
  b.add_raw(type, v, sizeof(v));
}

result<std::vector<uint8_t>> signed_finish(stun_builder& b, const turn_auth* auth) {
  if (auth != nullptr) {
    b.add_text(stun_attr::username, auth->username);
    b.add_text(stun_attr::realm, auth->realm);
    b.add_text(stun_attr::nonce, auth->nonce);
    b.add_integrity(auth->key);
  }
  b.add_fingerprint();
  return b.finish();
}

} // namespace

result<std::vector<uint8_t>> build_turn_allocate(const stun_txid& id,
                                                 const turn_allocate_params& p,
                                                 const turn_auth* auth, std::string_view software) {
  stun_builder b{stun_class::request, stun_method::allocate, id};
  uint8_t transport[4] = {static_cast<uint8_t>(p.relay_transport == protocol::udp ? 17 : 6), 0,
                          0, 0};
  b.add_raw(stun_attr::requested_transport, transport, sizeof(transport));
  if (p.relay_family == family::v6) {
    uint8_t fam[4] = {0x02, 0, 0, 0};
    b.add_raw(stun_attr::requested_address_family, fam, sizeof(fam));
  }
  add_u32(b, stun_attr::lifetime, p.lifetime_s);
  if (!software.empty())
    b.add_software(software);
  return signed_finish(b, auth);
}

result<std::vector<uint8_t>> build_turn_refresh(const stun_txid& id, uint32_t lifetime_s,
                                                const turn_auth* auth) {
  stun_builder b{stun_class::request, stun_method::refresh, id};
  add_u32(b, stun_attr::lifetime, lifetime_s);
  return signed_finish(b, auth);
}

result<std::vector<uint8_t>> build_turn_permission(const stun_txid& id,
                                                   const std::vector<endpoint>& peers,
                                                   const turn_auth* auth) {
  if (peers.empty())
    return error{errc::invalid_argument, "CreatePermission needs at least one peer"};
  stun_builder b{stun_class::request, stun_method::create_permission, id};
  for (auto& p : peers)
    b.add_xor_address(stun_attr::xor_peer_address, p);
  return signed_finish(b, auth);
}

result<std::vector<uint8_t>> build_turn_channel_bind(const stun_txid& id, uint16_t channel,
                                                     const endpoint& peer, const turn_auth* auth) {
  if (channel < 0x4000 || channel > 0x4FFF)
    return error{errc::invalid_argument,
                 strf("channel number 0x%04x is outside 0x4000..0x4FFF", channel)};
  stun_builder b{stun_class::request, stun_method::channel_bind, id};
  uint8_t v[4] = {static_cast<uint8_t>(channel >> 8), static_cast<uint8_t>(channel), 0, 0};
  b.add_raw(stun_attr::channel_number, v, sizeof(v));
  b.add_xor_address(stun_attr::xor_peer_address, peer);
  return signed_finish(b, auth);
}

result<std::vector<uint8_t>> build_turn_send(const stun_txid& id, const endpoint& peer,
                                             const uint8_t* data, size_t size) {
  stun_builder b{stun_class::indication, stun_method::send, id};
  b.add_xor_address(stun_attr::xor_peer_address, peer);
  b.add_raw(stun_attr::data, data, size);
  return b.finish();
}

std::optional<uint32_t> turn_lifetime(const stun_message& m) {
  auto a = m.find(stun_attr::lifetime);
  if (a == nullptr || a->value.size() != 4)
    return std::nullopt;
  return get32(a->value.data());
}

std::optional<endpoint> turn_relayed(const stun_message& m, family fam) {
  for (auto& ep : m.addresses(stun_attr::xor_relayed_address))
    if (ep.fam() == fam)
      return ep;
  return std::nullopt;
}

std::string turn_error_text(const stun_message& m) {
  auto ec = m.error_code();
  if (!ec)
    return "an error response without ERROR-CODE";
  return std::to_string(ec->code) + (ec->reason.empty() ? "" : " " + ec->reason);
}

} // namespace p2pd::net
