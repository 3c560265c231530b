#include "p2pd/net/punch/detail/chacha_poly.hpp"

#include <climits>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace p2pd::net::detail {

void chacha_poly::ctx_free::operator()(evp_cipher_ctx_st* p) const {
  EVP_CIPHER_CTX_free(p);
}

chacha_poly::chacha_poly(const std::array<uint8_t, 32>& key, bool seal)
  : ctx_(EVP_CIPHER_CTX_new()) {
  if (!ctx_)
    return;
  auto init = seal ? EVP_EncryptInit_ex2 : EVP_DecryptInit_ex2;
  if (init(ctx_.get(), EVP_chacha20_poly1305(), key.data(), nullptr, nullptr) != 1)
    ctx_.reset();
}

chacha_poly::~chacha_poly() = default;

namespace {

bool fits(byte_view x) {
  return x.size() <= static_cast<size_t>(INT_MAX) - chacha_poly::tag_size;
}

} // namespace

bool chacha_poly::seal(const std::array<uint8_t, 12>& nonce, byte_view aad, byte_view plain,
                       uint8_t* out) {
  if (!ctx_ || !fits(aad) || !fits(plain))
    return false;
  auto* c = ctx_.get();
  int n = 0;
  if (EVP_EncryptInit_ex2(c, nullptr, nullptr, nonce.data(), nullptr) != 1)
    return false;
  if (!aad.empty() && EVP_EncryptUpdate(c, nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1)
    return false;
  int done = 0;
  if (!plain.empty()) {
    if (EVP_EncryptUpdate(c, out, &n, plain.data(), static_cast<int>(plain.size())) != 1)
      return false;
    done = n;
  }
  if (EVP_EncryptFinal_ex(c, out + done, &n) != 1)
    return false;
  done += n;
  return static_cast<size_t>(done) == plain.size()
         && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_size),
                                out + plain.size())
              == 1;
}

bool chacha_poly::open(const std::array<uint8_t, 12>& nonce, byte_view aad, byte_view sealed,
                       uint8_t* out) {
  if (!ctx_ || sealed.size() < tag_size || !fits(aad) || !fits(sealed))
    return false;
  auto* c = ctx_.get();
  size_t body = sealed.size() - tag_size;
  auto reject = [&] {
    if (body > 0)
      OPENSSL_cleanse(out, body);
    return false;
  };
  int n = 0;
  // The tag is an input here, but OpenSSL's ctrl takes a non-const pointer.
  auto* tag = const_cast<uint8_t*>(sealed.data() + body);
  if (EVP_DecryptInit_ex2(c, nullptr, nullptr, nonce.data(), nullptr) != 1
      || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_size), tag) != 1)
    return false;
  if (!aad.empty() && EVP_DecryptUpdate(c, nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1)
    return reject();
  int done = 0;
  if (body > 0) {
    if (EVP_DecryptUpdate(c, out, &n, sealed.data(), static_cast<int>(body)) != 1)
      return reject();
    done = n;
  }
  // A stream cipher's final step writes nothing, but wants somewhere to.
  uint8_t none = 0;
  if (EVP_DecryptFinal_ex(c, body > 0 ? out + done : &none, &n) != 1
      || static_cast<size_t>(done + n) != body)
    return reject();
  return true;
}

std::array<uint8_t, 12> frame_nonce(uint32_t constant, uint64_t counter) {
  std::array<uint8_t, 12> out{};
  for (int i = 0; i < 4; ++i)
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(constant >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i)
    out[static_cast<size_t>(4 + i)] = static_cast<uint8_t>(counter >> (56 - 8 * i));
  return out;
}

} // namespace p2pd::net::detail
