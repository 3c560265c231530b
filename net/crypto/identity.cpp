#include "p2pd/net/crypto/identity.hpp"


#include <cstdio>
#include <cstring>
#include <new>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "p2pd/net/util/base32.hpp"
#include "p2pd/net/crypto/detail/openssl_util.hpp"
#include "p2pd/net/crypto/siphash.hpp"

namespace p2pd::net {

using namespace detail;

namespace {

// OpenSSL wants a valid pointer even for zero bytes in some code paths.
const uint8_t* nonnull(byte_view x) {
  static const uint8_t empty = 0;
  return x.data() != nullptr ? x.data() : &empty;
}

// -- node ids ----------------------------------------------------------------

constexpr size_t node_id_text_size = node_id::size * 8 / 5;
static_assert(node_id::size * 8 % 5 == 0, "node ids are whole base32 characters");

// -- keys --------------------------------------------------------------------

result<pkey_ptr> private_key(const char* type, const std::array<uint8_t, 32>& raw) {
  pkey_ptr key{EVP_PKEY_new_raw_private_key_ex(nullptr, type, nullptr, raw.data(), raw.size())};
  if (!key)
    return crypto_error(std::string{"cannot make an "} + type + " key from its private key");
  return key;
}

result<std::array<uint8_t, 32>> raw_public_key(EVP_PKEY* key, const char* type) {
  std::array<uint8_t, 32> out{};
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1 || len != out.size())
    return crypto_error(std::string{"cannot read the "} + type + " public key");
  return out;
}

} // namespace

// -- node_id -----------------------------------------------------------------

node_id node_id::of(const public_keys& keys) {
  static constexpr char label[] = "p2pd node id v1";
  std::array<uint8_t, sizeof label - 1 + 64> input{};
  std::memcpy(input.data(), label, sizeof label - 1);
  std::memcpy(input.data() + sizeof label - 1, keys.sign.data(), 32);
  std::memcpy(input.data() + sizeof label - 1 + 32, keys.agree.data(), 32);
  std::array<uint8_t, 32> md{};
  unsigned int len = 0;
  // SHA-256 with the default provider cannot fail short of a broken OpenSSL
  // installation, which would have failed long before (keys are made first).
  if (EVP_Digest(input.data(), input.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    throw std::bad_alloc{};
  node_id out;
  std::memcpy(out.bytes.data(), md.data(), out.bytes.size());
  return out;
}

result<node_id> node_id::parse(std::string_view text) {
  auto quoted = [&] {
    // An id from the network may be long or binary: quote a bounded prefix.
    std::string shown;
    for (size_t i = 0; i < text.size() && i < 40; ++i) {
      char c = text[i];
      shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    return "'" + shown + (text.size() > 40 ? "...'" : "'");
  };
  if (text.size() != node_id_text_size)
    return error{errc::invalid_argument,
                 "node id " + quoted() + " has " + std::to_string(text.size())
                   + " characters; it must have " + std::to_string(node_id_text_size)};
  node_id out;
  if (auto bad = base32_decode(text, out.bytes.data()))
    return error{errc::invalid_argument,
                 "node id " + quoted() + " has " + detail::quote_char(text[*bad]) + " at position "
                   + std::to_string(*bad)
                   + "; node ids are lower-case base32 ('a' to 'z' and '2' to '7')"};
  return out;
}

std::string node_id::to_string() const {
  return base32_encode(bytes.data(), bytes.size());
}

size_t node_id::hash() const noexcept {
  static const std::array<uint64_t, 2> key = random_hash_key();
  return static_cast<size_t>(siphash24(key, bytes.data(), bytes.size()));
}

// -- identity ----------------------------------------------------------------

void identity::pkey_free::operator()(evp_pkey_st* p) const {
  EVP_PKEY_free(p);
}

identity::identity(pkey_ptr sign_key, pkey_ptr agree_key, const public_keys& pub)
  : sign_key_(std::move(sign_key)),
    agree_key_(std::move(agree_key)),
    pub_(pub),
    id_(node_id::of(pub)) {}

identity::identity(identity&& other) noexcept = default;
identity& identity::operator=(identity&& other) noexcept = default;
identity::~identity() = default;

result<identity> identity::generate() {
  clear_errors_on_exit guard;
  secret_bytes<32> sign_key;
  secret_bytes<32> agree_key;
  if (RAND_priv_bytes(sign_key.bytes.data(), 32) != 1
      || RAND_priv_bytes(agree_key.bytes.data(), 32) != 1)
    return crypto_error("cannot generate identity keys");
  return from_private_keys(sign_key.bytes, agree_key.bytes);
}

result<identity> identity::from_private_keys(const std::array<uint8_t, 32>& sign_key,
                                             const std::array<uint8_t, 32>& agree_key) {
  clear_errors_on_exit guard;
  auto s = private_key("ED25519", sign_key);
  if (!s)
    return s.error();
  auto a = private_key("X25519", agree_key);
  if (!a)
    return a.error();
  auto sign_pub = raw_public_key(s->get(), "ED25519");
  if (!sign_pub)
    return sign_pub.error();
  auto agree_pub = raw_public_key(a->get(), "X25519");
  if (!agree_pub)
    return agree_pub.error();
  // The deleter type changes here: the header cannot name EVP_PKEY_free.
  return identity{identity::pkey_ptr{s->release()}, identity::pkey_ptr{a->release()},
                  public_keys{*sign_pub, *agree_pub}};
}

const char* context_of(sign_purpose p) {
  switch (p) {
    case sign_purpose::envelope: return "p2pd/envelope/v2";
    case sign_purpose::peer_address: return "p2pd/peer-address/v1";
    case sign_purpose::name_record: return "p2pd/name-record/v1";
  }
  return "p2pd/unknown";
}

namespace {

// The context string, its 0 terminator, then the message.
std::vector<uint8_t> in_context(sign_purpose p, byte_view msg) {
  std::string_view ctx{context_of(p)};
  std::vector<uint8_t> out;
  out.reserve(ctx.size() + 1 + msg.size());
  out.insert(out.end(), ctx.begin(), ctx.end());
  out.push_back(0);
  if (msg.size() > 0)
    out.insert(out.end(), msg.data(), msg.data() + msg.size());
  return out;
}

} // namespace

bool verify(sign_purpose purpose, const std::array<uint8_t, 32>& sign_key, byte_view msg,
            const std::array<uint8_t, 64>& sig) {
  return verify(sign_key, in_context(purpose, msg), sig);
}

std::array<uint8_t, 64> identity::sign(sign_purpose purpose, byte_view raw) const {
  clear_errors_on_exit guard;
  auto full = in_context(purpose, raw);
  byte_view msg{full};
  std::array<uint8_t, 64> sig{};
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  size_t len = sig.size();
  // Ed25519 hashes internally: no digest is named.
  if (!ctx
      || EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, sign_key_.get(),
                               nullptr)
           != 1
      || EVP_DigestSign(ctx.get(), sig.data(), &len, nonnull(msg), msg.size()) != 1
      || len != sig.size())
    throw std::bad_alloc{};
  return sig;
}

result<std::array<uint8_t, 32>>
identity::agree(const std::array<uint8_t, 32>& peer_agree_key) const {
  return detail::x25519(agree_key_.get(), peer_agree_key);
}

// -- free functions ----------------------------------------------------------

std::string detail::quote_char(char c) {
  if (c >= 0x20 && c < 0x7f)
    return std::string{'\''} + c + '\'';
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
  return buf;
}

result<std::array<uint8_t, 32>> detail::x25519(evp_pkey_st* mine,
                                               const std::array<uint8_t, 32>& peer_key) {
  clear_errors_on_exit guard;
  pkey_ptr peer{EVP_PKEY_new_raw_public_key_ex(nullptr, "X25519", nullptr, peer_key.data(),
                                               peer_key.size())};
  if (!peer)
    return crypto_error("cannot use the peer's X25519 key");
  pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr)};
  std::array<uint8_t, 32> out{};
  size_t len = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1
      || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1
      || EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    OPENSSL_cleanse(out.data(), out.size());
    // OpenSSL itself refuses the all-zero result (RFC 7748 section 6.1).
    return crypto_error("X25519 key agreement failed (a peer key of small order?)");
  }
  // Checked here as well, in constant time, so that no OpenSSL version or
  // provider can hand an attacker-known secret on.
  static const std::array<uint8_t, 32> zero{};
  if (CRYPTO_memcmp(out.data(), zero.data(), out.size()) == 0)
    return error{errc::crypto_failed,
                 "X25519 key agreement gave the all-zero secret: the peer key has small order"};
  return out;
}

bool verify(const std::array<uint8_t, 32>& sign_key, byte_view msg,
            const std::array<uint8_t, 64>& sig) {
  clear_errors_on_exit guard;
  pkey_ptr key{EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, sign_key.data(),
                                              sign_key.size())};
  if (!key)
    return false;
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  return ctx
         && EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key.get(),
                                    nullptr)
              == 1
         && EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), nonnull(msg), msg.size()) == 1;
}

evp_pkey_st* detail::sign_key_of(const identity& me) {
  return me.sign_key_.get();
}

} // namespace p2pd::net
