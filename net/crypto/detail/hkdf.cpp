#include "p2pd/net/crypto/detail/hkdf.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "p2pd/net/crypto/detail/openssl_util.hpp"

namespace p2pd::net::detail {

bool hkdf_sha256(byte_view ikm, byte_view salt, byte_view info, uint8_t* out, size_t out_size) {
  kdf_ptr kdf{EVP_KDF_fetch(nullptr, "HKDF", nullptr)};
  if (!kdf)
    return false;
  kdf_ctx_ptr ctx{EVP_KDF_CTX_new(kdf.get())};
  if (!ctx)
    return false;
  // OSSL_PARAM takes non-const pointers but only reads through them here.
  auto octets = [](const char* name, byte_view x) {
    return OSSL_PARAM_construct_octet_string(name, const_cast<uint8_t*>(x.data()), x.size());
  };
  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = octets(OSSL_KDF_PARAM_KEY, ikm);
  if (!salt.empty())
    params[n++] = octets(OSSL_KDF_PARAM_SALT, salt);
  params[n++] = octets(OSSL_KDF_PARAM_INFO, info);
  params[n] = OSSL_PARAM_construct_end();
  return EVP_KDF_derive(ctx.get(), out, out_size, params) == 1;
}

} // namespace p2pd::net::detail
