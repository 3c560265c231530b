#include "p2pd/net/stun/stun_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <string>

namespace p2pd::net {

namespace {

// SASLprep of printable ASCII is the identity; everything else is refused
// (see the header: no Unicode tables here).
error check_ascii_password(std::string_view password) {
  for (size_t i = 0; i < password.size(); ++i) {
    auto c = static_cast<unsigned char>(password[i]);
    if (c < 0x20 || c > 0x7E) {
      char buf[256];
      std::snprintf(buf, sizeof(buf),
                    "STUN password byte 0x%02x at %zu is not printable ASCII: only ASCII "
                    "passwords are prepared here; pass the SASLprep form of others",
                    c, i);
      return error{errc::invalid_argument, buf};
    }
  }
  return {};
}

struct crc_table {
  uint32_t v[256];
  constexpr crc_table() : v() {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      v[n] = c;
    }
  }
};

constexpr crc_table crc;

template <size_t N>
std::array<uint8_t, N> hmac(const EVP_MD* md, const stun_key& key, const uint8_t* data,
                            size_t size) {
  std::array<uint8_t, N> out{};
  unsigned len = 0;
  // HMAC() with a null output buffer would use a static one; ours is N bytes,
  // which is the digest's size.
  // An empty key is legal (an empty password); give OpenSSL a real pointer.
  static const uint8_t no_key = 0;
  const uint8_t* k = key.bytes.empty() ? &no_key : key.bytes.data();
  HMAC(md, k, static_cast<int>(key.bytes.size()), data, size, out.data(), &len);
  return out;
}

} // namespace

result<stun_key> stun_key::short_term(std::string_view password) {
  if (auto err = check_ascii_password(password))
    return err;
  return stun_key{std::vector<uint8_t>(password.begin(), password.end())};
}

result<stun_key> stun_key::long_term(std::string_view username, std::string_view realm,
                                     std::string_view password) {
  if (auto err = check_ascii_password(password))
    return err;
  std::string text;
  text.reserve(username.size() + realm.size() + password.size() + 2);
  text.append(username).append(1, ':').append(realm).append(1, ':').append(password);
  std::vector<uint8_t> md(16);
  unsigned len = 0;
  // RFC 8489 §9.2.2 keys long-term credentials with MD5; EVP, because
  // OpenSSL 3 deprecates MD5() itself.
  if (EVP_Digest(text.data(), text.size(), md.data(), &len, EVP_md5(), nullptr) != 1 || len != 16)
    return error{errc::invalid_argument, "MD5 is not available from OpenSSL"};
  return stun_key{std::move(md)};
}

std::array<uint8_t, 20> stun_hmac_sha1(const stun_key& key, const uint8_t* data, size_t size) {
  return hmac<20>(EVP_sha1(), key, data, size);
}

std::array<uint8_t, 32> stun_hmac_sha256(const stun_key& key, const uint8_t* data, size_t size) {
  return hmac<32>(EVP_sha256(), key, data, size);
}

uint32_t stun_fingerprint(const uint8_t* data, size_t size) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i)
    c = crc.v[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return (c ^ 0xFFFFFFFFu) ^ 0x5354554Eu;
}

bool stun_equal_ct(const uint8_t* a, const uint8_t* b, size_t size) {
  return CRYPTO_memcmp(a, b, size) == 0;
}

} // namespace p2pd::net
