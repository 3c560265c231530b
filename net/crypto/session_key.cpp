#include "p2pd/net/crypto/session_key.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "p2pd/net/crypto/detail/hkdf.hpp"
#include "p2pd/net/crypto/detail/openssl_util.hpp"

namespace p2pd::net {

namespace {

constexpr char session_info[] = "p2pd udp punch v1";

// The longest info: the label, two ids of at most 255 bytes with their
// lengths, the request id.
constexpr size_t max_info = sizeof session_info - 1 + 2 * 256 + 8;

} // namespace

session_keys::~session_keys() {
  OPENSSL_cleanse(send.data(), send.size());
  OPENSSL_cleanse(recv.data(), recv.size());
}

void ephemeral_key::pkey_free::operator()(evp_pkey_st* p) const {
  EVP_PKEY_free(p);
}

ephemeral_key::ephemeral_key(pkey_ptr key, const std::array<uint8_t, 32>& pub)
  : key_(std::move(key)), pub_(pub) {}

ephemeral_key::ephemeral_key(ephemeral_key&&) noexcept = default;
ephemeral_key& ephemeral_key::operator=(ephemeral_key&&) noexcept = default;
ephemeral_key::~ephemeral_key() = default;

result<ephemeral_key> ephemeral_key::adopt(pkey_ptr key, const char* what) {
  if (!key)
    return detail::crypto_error(what);
  std::array<uint8_t, 32> pub{};
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != pub.size())
    return detail::crypto_error("cannot read the public half of an X25519 key");
  return ephemeral_key{std::move(key), pub};
}

result<ephemeral_key> ephemeral_key::generate() {
  detail::clear_errors_on_exit guard;
  return adopt(pkey_ptr{EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519")},
               "cannot generate an X25519 key pair");
}

result<ephemeral_key> ephemeral_key::from_private(const std::array<uint8_t, 32>& scalar) {
  detail::clear_errors_on_exit guard;
  return adopt(pkey_ptr{EVP_PKEY_new_raw_private_key_ex(nullptr, "X25519", nullptr,
                                                        scalar.data(), scalar.size())},
               "OpenSSL refused an X25519 private key");
}

result<session_keys> derive_session(const ephemeral_key& own,
                                    const std::array<uint8_t, 32>& peer_public,
                                    byte_view initiator_id, byte_view responder_id,
                                    uint64_t request_id, bool we_are_initiator) {
  detail::clear_errors_on_exit guard;
  if (initiator_id.size() > 255 || responder_id.size() > 255)
    return error{errc::invalid_argument,
                 "cannot derive session keys: a node id of "
                   + std::to_string(std::max(initiator_id.size(), responder_id.size()))
                   + " bytes (at most 255)"};
  if (CRYPTO_memcmp(peer_public.data(), own.pub().data(), 32) == 0)
    return error{errc::invalid_argument,
                 "cannot derive session keys: the peer's public key is our own (reflected)"};
  detail::secret_bytes<32> shared;
  {
    auto s = detail::x25519(own.key_.get(), peer_public);
    if (!s)
      return error{errc::crypto_failed, "cannot derive session keys: " + s.error().what};
    shared.bytes = *s;
    OPENSSL_cleanse(s->data(), s->size());
  }
  const auto& init_pub = we_are_initiator ? own.pub() : peer_public;
  const auto& resp_pub = we_are_initiator ? peer_public : own.pub();
  std::array<uint8_t, 64> salt{};
  std::memcpy(salt.data(), init_pub.data(), 32);
  std::memcpy(salt.data() + 32, resp_pub.data(), 32);

  std::array<uint8_t, max_info> info{};
  size_t n = 0;
  auto put = [&](const uint8_t* p, size_t len) {
    if (len > 0)
      std::memcpy(info.data() + n, p, len);
    n += len;
  };
  put(reinterpret_cast<const uint8_t*>(session_info), sizeof session_info - 1);
  for (auto id : {initiator_id, responder_id}) {
    auto len = static_cast<uint8_t>(id.size());
    put(&len, 1);
    put(id.data(), id.size());
  }
  for (int shift = 56; shift >= 0; shift -= 8) {
    auto b = static_cast<uint8_t>(request_id >> shift);
    put(&b, 1);
  }

  detail::secret_bytes<68> okm;
  if (!detail::hkdf_sha256(shared.bytes, salt, byte_view{info.data(), n}, okm.bytes.data(),
                           okm.bytes.size()))
    return detail::crypto_error("cannot derive session keys: HKDF failed");
  session_keys out;
  const uint8_t* i2r = okm.bytes.data();
  const uint8_t* r2i = okm.bytes.data() + 32;
  std::memcpy(out.send.data(), we_are_initiator ? i2r : r2i, 32);
  std::memcpy(out.recv.data(), we_are_initiator ? r2i : i2r, 32);
  const uint8_t* t = okm.bytes.data() + 64;
  out.tag = (uint32_t{t[0]} << 24) | (uint32_t{t[1]} << 16) | (uint32_t{t[2]} << 8) | t[3];
  return out;
}

} // namespace p2pd::net
