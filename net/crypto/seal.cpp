#include "p2pd/net/crypto/seal.hpp"

#include <climits>
#include <cstring>
#include <memory>
#include <string>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "p2pd/net/crypto/detail/openssl_util.hpp"
#include "p2pd/net/tls/tls_context.hpp"

namespace p2pd::net {

using namespace detail;

namespace {

constexpr char seal_info[] = "p2pd seal v1";

const char* auth_failed = "cannot decrypt: authentication failed";

// HKDF-SHA256(shared, salt = ephemeral || recipient, info = "p2pd seal v1").
bool derive_key(const std::array<uint8_t, 32>& shared, const std::array<uint8_t, 32>& ephemeral,
                const std::array<uint8_t, 32>& recipient, std::array<uint8_t, 32>& key) {
  kdf_ptr kdf{EVP_KDF_fetch(nullptr, "HKDF", nullptr)};
  if (!kdf)
    return false;
  kdf_ctx_ptr ctx{EVP_KDF_CTX_new(kdf.get())};
  if (!ctx)
    return false;
  std::array<uint8_t, 64> salt{};
  std::memcpy(salt.data(), ephemeral.data(), 32);
  std::memcpy(salt.data() + 32, recipient.data(), 32);
  // OSSL_PARAM takes non-const pointers but only reads through them here.
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(shared.data()),
                                      shared.size()),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(seal_info),
                                      sizeof seal_info - 1),
    OSSL_PARAM_construct_end(),
  };
  return EVP_KDF_derive(ctx.get(), key.data(), key.size(), params) == 1;
}

bool fits_int(byte_view x) {
  return x.size() <= static_cast<size_t>(INT_MAX) - seal_tag_size;
}

} // namespace

result<sealed> seal(const std::array<uint8_t, 32>& recipient_agree_key, byte_view plaintext,
                    byte_view aad) {
  clear_errors_on_exit guard;
  if (!fits_int(plaintext) || !fits_int(aad))
    return error{errc::message_too_large,
                 "cannot seal " + std::to_string(plaintext.size()) + " bytes with "
                   + std::to_string(aad.size())
                   + " bytes of associated data: more than OpenSSL takes in one call"};
  sealed out;
  pkey_ptr eph{EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519")};
  if (!eph)
    return crypto_error("cannot seal: cannot generate an ephemeral X25519 key");
  size_t len = out.ephemeral.size();
  if (EVP_PKEY_get_raw_public_key(eph.get(), out.ephemeral.data(), &len) != 1
      || len != out.ephemeral.size())
    return crypto_error("cannot seal: cannot read the ephemeral X25519 key");
  secret_bytes<32> shared;
  {
    auto s = detail::x25519(eph.get(), recipient_agree_key);
    if (!s)
      return error{errc::crypto_failed, "cannot seal to this X25519 key: " + s.error().what};
    shared.bytes = *s;
    OPENSSL_cleanse(s->data(), s->size());
  }
  secret_bytes<32> key;
  if (!derive_key(shared.bytes, out.ephemeral, recipient_agree_key, key.bytes))
    return crypto_error("cannot seal: HKDF failed");
  if (RAND_bytes(out.nonce.data(), static_cast<int>(out.nonce.size())) != 1)
    return crypto_error("cannot seal: no random nonce");

  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  out.ciphertext.resize(plaintext.size() + seal_tag_size);
  uint8_t* ct = out.ciphertext.data();
  int n = 0;
  if (!ctx
      || EVP_EncryptInit_ex2(ctx.get(), EVP_chacha20_poly1305(), key.bytes.data(),
                             out.nonce.data(), nullptr)
           != 1)
    return crypto_error("cannot seal: cannot set up ChaCha20-Poly1305");
  if (!aad.empty()
      && EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1)
    return crypto_error("cannot seal: ChaCha20-Poly1305 refused the associated data");
  int done = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), ct, &n, plaintext.data(), static_cast<int>(plaintext.size()))
        != 1)
      return crypto_error("cannot seal: encryption failed");
    done = n;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), ct + done, &n) != 1)
    return crypto_error("cannot seal: encryption failed");
  done += n;
  if (static_cast<size_t>(done) != plaintext.size()
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(seal_tag_size),
                             ct + plaintext.size())
           != 1)
    return crypto_error("cannot seal: no authentication tag");
  return out;
}

result<std::vector<uint8_t>> open(const identity& me, const sealed& box, byte_view aad) {
  clear_errors_on_exit guard;
  const error failed{errc::crypto_failed, auth_failed};
  if (box.ciphertext.size() < seal_tag_size || !fits_int(aad)
      || box.ciphertext.size() > static_cast<size_t>(INT_MAX))
    return failed;
  secret_bytes<32> shared;
  {
    auto s = me.agree(box.ephemeral);
    if (!s)
      return failed;
    shared.bytes = *s;
    OPENSSL_cleanse(s->data(), s->size());
  }
  secret_bytes<32> key;
  if (!derive_key(shared.bytes, box.ephemeral, me.pub().agree, key.bytes))
    return crypto_error("cannot decrypt: HKDF failed");

  size_t body = box.ciphertext.size() - seal_tag_size;
  std::array<uint8_t, seal_tag_size> tag{};
  std::memcpy(tag.data(), box.ciphertext.data() + body, tag.size());
  std::vector<uint8_t> out(body);
  // Decryption writes plaintext before the tag is checked: on failure it is
  // cleared, so no unauthenticated byte leaves this function.
  auto reject = [&] {
    OPENSSL_cleanse(out.data(), out.size());
    return failed;
  };
  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  int n = 0;
  if (!ctx
      || EVP_DecryptInit_ex2(ctx.get(), EVP_chacha20_poly1305(), key.bytes.data(),
                             box.nonce.data(), nullptr)
           != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()),
                             tag.data())
           != 1)
    return crypto_error("cannot decrypt: cannot set up ChaCha20-Poly1305");
  if (!aad.empty()
      && EVP_DecryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1)
    return reject();
  int done = 0;
  if (body > 0) {
    if (EVP_DecryptUpdate(ctx.get(), out.data(), &n, box.ciphertext.data(),
                          static_cast<int>(body))
        != 1)
      return reject();
    done = n;
  }
  // A stream cipher's final step writes nothing, but wants somewhere to.
  uint8_t none = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), body > 0 ? out.data() + done : &none, &n) != 1)
    return reject();
  if (static_cast<size_t>(done + n) != body)
    return reject();
  return out;
}

} // namespace p2pd::net
