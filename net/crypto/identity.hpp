#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "p2pd/net/error.hpp"

// A node's identity is two key pairs: Ed25519 to sign what it says, X25519 so
// that others can seal messages only it can open (net/seal.hpp). Two keys, not
// one converted into the other: OpenSSL has no Ed25519 -> X25519 conversion,
// and keeping signing and key agreement apart is what RFC 8032 / 7748 intend.
// The node id names both at once, so a peer that learned an id can check a
// pair of public keys against it.

// OpenSSL's name for EVP_PKEY, declared here so that this header does not pull
// in <openssl/evp.h>.
struct evp_pkey_st;

namespace p2pd::net {

/// A read-only view of bytes (C++17 has no std::span). It does not own what
/// it points to: keep the bytes alive while the view is used.
class byte_view {
public:
  constexpr byte_view() = default;
  constexpr byte_view(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  byte_view(const std::vector<uint8_t>& bytes) : data_(bytes.data()), size_(bytes.size()) {}
  template <size_t N>
  constexpr byte_view(const std::array<uint8_t, N>& bytes) : data_(bytes.data()), size_(N) {}
  /// The characters of a string as bytes.
  byte_view(const std::string& text)
    : data_(reinterpret_cast<const uint8_t*>(text.data())), size_(text.size()) {}
  /// The characters of a string as bytes.
  byte_view(std::string_view text)
    : data_(reinterpret_cast<const uint8_t*>(text.data())), size_(text.size()) {}

  constexpr const uint8_t* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }

private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

/// The public half of an identity, as raw keys (RFC 8032 and RFC 7748
/// encodings).
struct public_keys {
  std::array<uint8_t, 32> sign{};  ///< Ed25519: verifies the node's signatures
  std::array<uint8_t, 32> agree{}; ///< X25519: seals messages to the node

  friend bool operator==(const public_keys& x, const public_keys& y) {
    return x.sign == y.sign && x.agree == y.agree;
  }
  friend bool operator!=(const public_keys& x, const public_keys& y) { return !(x == y); }
};

/// A node's name: the first 20 bytes of SHA-256("p2pd node id v1" || sign ||
/// agree), so it commits to both public keys. Its text form is 32 characters
/// of lower-case base32 (RFC 4648 alphabet, no padding: 160 bits are exactly
/// 32 characters), usable as a file name or an MQTT topic level.
struct node_id {
  static constexpr size_t size = 20;

  std::array<uint8_t, size> bytes{};

  /// The id of the node with these public keys.
  static node_id of(const public_keys& keys);

  /// Reads the text form. Exactly 32 characters of 'a'-'z' and '2'-'7';
  /// upper case and '=' padding are refused so that every id has one spelling
  /// (it is used as a map key and a topic name). Errors (invalid_argument) say
  /// what is wrong: "node id 'ab' has 2 characters; it must have 32".
  static result<node_id> parse(std::string_view text);

  /// The text form: 32 lower-case base32 characters.
  std::string to_string() const;

  /// A hash of the bytes keyed with a secret chosen at random per process:
  /// ids can come from peers, and one who could predict the hash could fill
  /// one bucket of our tables on purpose.
  size_t hash() const noexcept;

  friend bool operator==(const node_id& x, const node_id& y) { return x.bytes == y.bytes; }
  friend bool operator!=(const node_id& x, const node_id& y) { return x.bytes != y.bytes; }
  friend bool operator<(const node_id& x, const node_id& y) { return x.bytes < y.bytes; }
};

/// What a signature is for. Each purpose signs under a context string of its
/// own ("p2pd/<purpose>/v<n>" and a 0 byte, before the message), so that a
/// signature made for one use can never be taken for another; there is no
/// way to sign raw bytes. (OpenSSL 3.0 has no Ed25519ctx, hence the prefix.)
enum class sign_purpose : uint8_t {
  envelope, ///< a signalling envelope (proto/envelope.proto): "p2pd/envelope/v2"
  peer_address, ///< a node's address (node/address/peer_address.hpp): "p2pd/peer-address/v1"
  name_record, ///< a name service record (net/names/name_record.hpp): "p2pd/name-record/v1"
};

/// The context string of `p`.
const char* context_of(sign_purpose p);

class identity;

namespace detail {

/// The identity's Ed25519 private key as OpenSSL holds it, owned by `me`:
/// for the node's TLS certificate (net/tls/node_cert), which OpenSSL signs
/// with and uses in handshakes itself.
evp_pkey_st* sign_key_of(const identity& me);

} // namespace detail

/// A node's private keys: Ed25519 for signing, X25519 for key agreement.
/// Movable, not copyable: there is one owner of the secrets. A moved-from
/// identity holds no keys and may only be assigned to or destroyed. The const
/// members may run on several threads at once (OpenSSL 3 shares a key that
/// nobody modifies).
class identity {
public:
  /// Fresh random keys.
  static result<identity> generate();

  /// The identity with these raw private keys: the 32-byte Ed25519 seed
  /// (RFC 8032) and the 32-byte X25519 scalar (RFC 7748). For key files and
  /// test vectors. errc::crypto_failed if OpenSSL refuses them.
  static result<identity> from_private_keys(const std::array<uint8_t, 32>& sign_key,
                                            const std::array<uint8_t, 32>& agree_key);

  identity(identity&& other) noexcept;
  identity& operator=(identity&& other) noexcept;
  identity(const identity&) = delete;
  identity& operator=(const identity&) = delete;
  ~identity();

  /// The public keys.
  public_keys pub() const { return pub_; }

  /// node_id::of(pub()), computed once.
  node_id id() const { return id_; }

  /// The Ed25519 signature of `msg` for `purpose` (64 bytes, deterministic),
  /// i.e. over its context string and `msg`. Cannot fail for keys that
  /// generate() or from_private_keys() accepted except by running out of
  /// memory, which throws std::bad_alloc as containers do.
  std::array<uint8_t, 64> sign(sign_purpose purpose, byte_view msg) const;

  /// The X25519 shared secret with a peer's agreement key (RFC 7748). A key
  /// of small order gives the all-zero secret, which anyone can compute: that
  /// is refused with errc::crypto_failed, not returned. The caller owns the
  /// secret: clear it (OPENSSL_cleanse) once a key is derived from it.
  result<std::array<uint8_t, 32>> agree(const std::array<uint8_t, 32>& peer_agree_key) const;

private:
  friend evp_pkey_st* detail::sign_key_of(const identity& me);

  struct pkey_free {
    void operator()(evp_pkey_st* p) const;
  };
  using pkey_ptr = std::unique_ptr<evp_pkey_st, pkey_free>;

  identity(pkey_ptr sign_key, pkey_ptr agree_key, const public_keys& pub);

  pkey_ptr sign_key_;
  pkey_ptr agree_key_;
  public_keys pub_;
  node_id id_;
};

namespace detail {

/// X25519 between an OpenSSL private key and a peer's raw public key; the
/// all-zero result (a small-order peer key) is refused with
/// errc::crypto_failed. What identity::agree and seal() share.
result<std::array<uint8_t, 32>> x25519(evp_pkey_st* mine,
                                       const std::array<uint8_t, 32>& peer_key);

/// 'x' for a printable ASCII character, else 0xNN: for messages that name
/// a byte from outside.
std::string quote_char(char c);

} // namespace detail

/// Whether `sig` is a valid Ed25519 signature of `msg` by the key `sign_key`.
/// False for a key that is not a valid Ed25519 point, too.
bool verify(const std::array<uint8_t, 32>& sign_key, byte_view msg,
            const std::array<uint8_t, 64>& sig);

/// Whether `sig` is a valid signature of `msg` for `purpose` by `sign_key`
/// (identity::sign with the same purpose).
bool verify(sign_purpose purpose, const std::array<uint8_t, 32>& sign_key, byte_view msg,
            const std::array<uint8_t, 64>& sig);

/// verify(purpose, keys.sign, msg, sig).
inline bool verify(sign_purpose purpose, const public_keys& keys, byte_view msg,
                   const std::array<uint8_t, 64>& sig) {
  return verify(purpose, keys.sign, msg, sig);
}

} // namespace p2pd::net

namespace std {

template <>
struct hash<p2pd::net::node_id> {
  size_t operator()(const p2pd::net::node_id& x) const noexcept { return x.hash(); }
};

} // namespace std
