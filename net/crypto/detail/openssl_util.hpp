#pragma once

// Internal to net/'s .cpp files that call OpenSSL (tls.cpp, tls_context.cpp,
// identity.cpp, seal.cpp): the helpers each of them needs, kept in one place
// so that they cannot drift apart. Not part of the library's interface; it is
// installed only because every net/*.hpp is.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "p2pd/net/error.hpp"
#include "p2pd/net/tls/tls_context.hpp"

namespace p2pd::net::detail {

/// Clears this thread's OpenSSL error queue on entry and again on exit,
/// whichever way that is. OpenSSL keeps one queue per thread: without the
/// first clear a call would report an earlier call's leftovers (SSL_get_error
/// reads the queue) as its own failure, and without the second a TLS session
/// or other caller on the same thread would report ours.
struct clear_errors_on_exit {
  clear_errors_on_exit() { ERR_clear_error(); }
  ~clear_errors_on_exit() { ERR_clear_error(); }
  clear_errors_on_exit(const clear_errors_on_exit&) = delete;
  clear_errors_on_exit& operator=(const clear_errors_on_exit&) = delete;
};

/// A unique_ptr deleter that calls OpenSSL's own free function for `T`, so
/// each owning pointer type below is one line and cannot name the wrong one.
template <typename T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const { Free(p); }
};

/// Owns an OpenSSL object and frees it with `Free`.
template <typename T, void (*Free)(T*)>
using openssl_ptr = std::unique_ptr<T, openssl_deleter<T, Free>>;

/// A key (public, or a key pair).
using pkey_ptr = openssl_ptr<EVP_PKEY, EVP_PKEY_free>;
/// A key operation's state (derive, keygen).
using pkey_ctx_ptr = openssl_ptr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
/// A digest or signature operation's state.
using md_ctx_ptr = openssl_ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
/// A cipher operation's state.
using cipher_ctx_ptr = openssl_ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
/// A fetched key derivation function (EVP_KDF_fetch takes a reference).
using kdf_ptr = openssl_ptr<EVP_KDF, EVP_KDF_free>;
/// A key derivation's state.
using kdf_ctx_ptr = openssl_ptr<EVP_KDF_CTX, EVP_KDF_CTX_free>;

/// N secret bytes (a private key, a shared secret), wiped with
/// OPENSSL_cleanse when they go out of scope, whichever way that is: a plain
/// memset before the end of a lifetime may be optimised away. Not copyable,
/// so that no copy escapes the wipe.
template <size_t N>
struct secret_bytes {
  std::array<uint8_t, N> bytes{};
  secret_bytes() = default;
  secret_bytes(const secret_bytes&) = delete;
  secret_bytes& operator=(const secret_bytes&) = delete;
  ~secret_bytes() { OPENSSL_cleanse(bytes.data(), N); }
};

/// `what` and OpenSSL's reason for the failure that just happened (taken
/// off this thread's error queue), as an errc::crypto_failed error.
inline error crypto_error(const std::string& what) {
  auto why = take_openssl_errors();
  return error{errc::crypto_failed, what + ": " + (why.empty() ? "OpenSSL gave no reason" : why)};
}

} // namespace p2pd::net::detail
