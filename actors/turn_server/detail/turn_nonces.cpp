#include "p2pd/actors/turn_server/detail/turn_nonces.hpp"

#include <openssl/rand.h>

#include <stdexcept>

#include "p2pd/net/stun/stun_auth.hpp"
#include "p2pd/net/util/digits.hpp"

namespace p2pd::actors::turn_srv {

namespace {

// 16 hex digits of expiry, then 16 of tag.
constexpr size_t expiry_digits = 16;
constexpr size_t tag_bytes = 8;

} // namespace

turn_nonces::turn_nonces() {
  // Without an entropy source nothing is safe: as stun_txid::random does.
  if (RAND_bytes(secret_.data(), static_cast<int>(secret_.size())) != 1)
    throw std::runtime_error("RAND_bytes failed: no entropy for the TURN server's nonce key");
}

std::string turn_nonces::tag(const net::ip_address& client, uint64_t expires) const {
  uint8_t in[8 + 16];
  for (int i = 0; i < 8; ++i)
    in[i] = static_cast<uint8_t>(expires >> (56 - 8 * i));
  const auto& ip = client.bytes();
  std::copy(ip.begin(), ip.end(), in + 8);
  net::stun_key key{std::vector<uint8_t>(secret_.begin(), secret_.end())};
  auto mac = net::stun_hmac_sha1(key, in, 8 + ip.size());
  return net::to_hex(mac.data(), tag_bytes);
}

std::string turn_nonces::mint(const net::ip_address& client, int64_t expires_ns) const {
  auto e = static_cast<uint64_t>(expires_ns);
  uint8_t be[8];
  for (int i = 0; i < 8; ++i)
    be[i] = static_cast<uint8_t>(e >> (56 - 8 * i));
  return net::to_hex(be, 8) + tag(client, e);
}

turn_nonces::verdict turn_nonces::check(std::string_view nonce, const net::ip_address& client,
                                        int64_t now_ns) const {
  if (nonce.size() != expiry_digits + 2 * tag_bytes)
    return verdict::forged;
  uint64_t e = 0;
  for (size_t i = 0; i < expiry_digits; ++i) {
    auto d = net::hex_digit(nonce[i]);
    if (d < 0)
      return verdict::forged;
    e = e << 4 | static_cast<uint64_t>(d);
  }
  auto want = tag(client, e);
  auto got = nonce.substr(expiry_digits);
  if (!net::stun_equal_ct(reinterpret_cast<const uint8_t*>(want.data()),
                          reinterpret_cast<const uint8_t*>(got.data()), want.size()))
    return verdict::forged;
  return static_cast<int64_t>(e) > now_ns ? verdict::ok : verdict::stale;
}

} // namespace p2pd::actors::turn_srv
