#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/stun/stun_attrs.hpp"
#include "p2pd/net/stun/stun_auth.hpp"

// Decoding STUN messages: RFC 8489 (5389) with the magic cookie, and RFC 3489
// ones, whose 16-byte transaction id takes the cookie's place.
//
// decode_stun() checks everything before it reads it, and refuses with
// errc::malformed (saying what and at which offset) a message that:
// - is shorter than the 20-byte header, has one of the top two type bits set,
//   a length that is not a multiple of 4 or not the number of bytes after the
//   header, the wrong magic cookie (unless RFC 3489 messages are allowed), or
//   an unexpected transaction id;
// - has an attribute whose length runs past the end, or a known attribute
//   whose value breaks its type's rules (see stun_attr_info);
// - has a FINGERPRINT that is not the last attribute or does not match.
// A buffer over stun_decode_options::max_size fails with
// errc::message_too_large before anything is read.
//
// RFC 8489 rules the decoder applies rather than refuses:
// - an attribute type that appears twice: attributes() keeps both, in order,
//   and the typed accessors read the first (§14);
// - attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256
//   and FINGERPRINT, and after MESSAGE-INTEGRITY-SHA256 other than
//   FINGERPRINT, are bounds-checked and then dropped (§14.5, §14.6);
// - comprehension-optional types it does not know are kept, unchecked;
//   comprehension-required ones are kept and listed in
//   unknown_comprehension_required(), for the caller's 420 or refusal.
//
// Integrity is not checked by decoding, because the key depends on the
// message (USERNAME, REALM): call integrity_ok() with the key. It is always
// the RFC 8489 HMAC (length field adjusted), RFC 3489 messages included:
// RFC 3489's own variant (no adjusted length, input zero-padded to 64 bytes)
// belongs to its shared-secret scheme, which servers dropped and the original
// never used.

namespace p2pd::net {

/// The STUN magic cookie.
constexpr uint32_t stun_magic_cookie = 0x2112A442;
/// The header: type, length, cookie, transaction id.
constexpr size_t stun_header_size = 20;
/// The largest message the 16-bit length field can describe.
constexpr size_t stun_max_message = stun_header_size + 65532;

/// Message class (RFC 8489 §5).
enum class stun_class : uint8_t { request = 0, indication = 1, success = 2, error = 3 };

const char* to_string(stun_class x);

/// Method numbers: 12 bits.
namespace stun_method {
constexpr uint16_t binding = 0x001;
constexpr uint16_t shared_secret = 0x002; ///< RFC 3489 only
constexpr uint16_t allocate = 0x003;      ///< TURN
constexpr uint16_t refresh = 0x004;
constexpr uint16_t send = 0x006;
constexpr uint16_t data = 0x007;
constexpr uint16_t create_permission = 0x008;
constexpr uint16_t channel_bind = 0x009;
constexpr uint16_t connect = 0x00A;            ///< RFC 6062 (TCP allocations)
constexpr uint16_t connection_bind = 0x00B;
constexpr uint16_t connection_attempt = 0x00C;
} // namespace stun_method

/// The message type field for (class, method); method is cut to 12 bits.
uint16_t stun_message_type(stun_class c, uint16_t method);

/// A transaction id: 12 bytes after the magic cookie (RFC 8489), or 16 bytes
/// in the cookie's place (RFC 3489).
class stun_txid {
public:
  /// 12 zero bytes.
  stun_txid() = default;

  /// A new id from OpenSSL's CSPRNG (RFC 8489 §6 asks for ids an attacker
  /// cannot guess). 16 bytes with `rfc3489`.
  static stun_txid random(bool rfc3489 = false);

  /// From 12 or 16 bytes; errc::invalid_argument for any other size.
  static result<stun_txid> from_bytes(const uint8_t* data, size_t size);

  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return rfc3489_ ? 16 : 12; }
  bool rfc3489() const { return rfc3489_; }

  /// Lower-case hex.
  std::string to_string() const;

  friend bool operator==(const stun_txid& x, const stun_txid& y) {
    return x.rfc3489_ == y.rfc3489_ && x.bytes_ == y.bytes_;
  }
  friend bool operator!=(const stun_txid& x, const stun_txid& y) { return !(x == y); }

private:
  std::array<uint8_t, 16> bytes_{};
  bool rfc3489_ = false;
};

/// An attribute as it is on the wire: its type and unpadded value.
struct stun_attribute {
  uint16_t type = 0;
  std::vector<uint8_t> value;

  friend bool operator==(const stun_attribute& x, const stun_attribute& y) {
    return x.type == y.type && x.value == y.value;
  }
  friend bool operator!=(const stun_attribute& x, const stun_attribute& y) { return !(x == y); }
};

/// ERROR-CODE: code 300..699 and reason phrase.
struct stun_error_code {
  uint16_t code = 0;
  std::string reason;
};

/// CHANGE-REQUEST flags (RFC 5780 §7.2, RFC 3489 §11.2.4).
struct stun_change_request {
  bool change_ip = false;
  bool change_port = false;
};

/// What decode_stun accepts.
struct stun_decode_options {
  /// Read a message without the magic cookie as RFC 3489 (16-byte id)
  /// instead of refusing it.
  bool allow_rfc3489 = false;
  /// If set, the message must carry this transaction id (a response to our
  /// request).
  std::optional<stun_txid> expect_txid;
  /// Larger buffers are refused unread. The default is the largest message
  /// the length field allows.
  size_t max_size = stun_max_message;
};

/// A decoded (or built) STUN message.
class stun_message {
public:
  stun_message() = default;
  stun_message(stun_class c, uint16_t method, stun_txid id)
      : class_(c), method_(method & 0x0FFF), txid_(id) {}

  stun_class cls() const { return class_; }
  uint16_t method() const { return method_; }
  const stun_txid& txid() const { return txid_; }
  /// No magic cookie: a 16-byte RFC 3489 id.
  bool rfc3489() const { return txid_.rfc3489(); }

  /// The attributes in wire order, MESSAGE-INTEGRITY, -SHA256 and FINGERPRINT
  /// included, the ones RFC 8489 says to ignore excluded.
  const std::vector<stun_attribute>& attributes() const { return attrs_; }
  /// The first attribute of `type`, or nullptr.
  const stun_attribute* find(uint16_t type) const;

  std::optional<endpoint> mapped_address() const;
  /// XOR-MAPPED-ADDRESS, or the legacy 0x8020 if the message has only that.
  std::optional<endpoint> xor_mapped_address() const;
  std::optional<endpoint> response_origin() const;
  std::optional<endpoint> other_address() const;
  std::optional<endpoint> changed_address() const;
  std::optional<endpoint> source_address() const;
  /// Any address-type attribute, e.g. ALTERNATE-SERVER or XOR-PEER-ADDRESS:
  /// XORed or not as its type says. Nothing for other types.
  std::optional<endpoint> address(uint16_t type) const;
  /// Every attribute of that address type, in order (a dual TURN allocation
  /// carries two XOR-RELAYED-ADDRESS); values that do not decode are left out.
  std::vector<endpoint> addresses(uint16_t type) const;

  std::optional<stun_error_code> error_code() const;
  std::optional<stun_change_request> change_request() const;
  std::optional<std::string> software() const;
  std::optional<std::string> username() const;
  std::optional<std::string> realm() const;
  std::optional<std::string> nonce() const;
  /// The types an UNKNOWN-ATTRIBUTES attribute lists (a 420 response's).
  std::vector<uint16_t> unknown_attributes() const;

  /// Comprehension-required types the codec does not know, in order, once
  /// each: a server answers a request that has any with 420 and these in
  /// UNKNOWN-ATTRIBUTES; a client drops such a response.
  const std::vector<uint16_t>& unknown_comprehension_required() const { return unknown_; }

  bool has_integrity() const { return mi_offset_ != npos || mi256_offset_ != npos; }
  bool has_fingerprint() const { return has_fingerprint_; }

  /// True if the message carries MESSAGE-INTEGRITY and/or
  /// MESSAGE-INTEGRITY-SHA256 and every one present matches `key`. Only for
  /// decoded messages (a built one has no wire bytes: false).
  bool integrity_ok(const stun_key& key) const;

  /// The bytes the message was decoded from (empty for a built one).
  const std::vector<uint8_t>& raw() const { return raw_; }

  /// Appends an attribute as is. For building messages in memory; the
  /// builder (stun_builder) is the way to produce wire bytes.
  void push_back(stun_attribute a) { attrs_.push_back(std::move(a)); }

private:
  friend result<stun_message> decode_stun(const uint8_t*, size_t, const stun_decode_options&);
  static constexpr size_t npos = static_cast<size_t>(-1);

  stun_class class_ = stun_class::request;
  uint16_t method_ = stun_method::binding;
  stun_txid txid_;
  std::vector<stun_attribute> attrs_;
  std::vector<uint16_t> unknown_;
  std::vector<uint8_t> raw_;
  size_t mi_offset_ = npos;    // header offset of MESSAGE-INTEGRITY in raw_
  size_t mi256_offset_ = npos; // ... of MESSAGE-INTEGRITY-SHA256
  bool has_fingerprint_ = false;
};

/// Decodes one message, which must fill `data` exactly (a UDP datagram; for a
/// stream, cut it with stun_message_size first).
result<stun_message> decode_stun(const uint8_t* data, size_t size,
                                 const stun_decode_options& opts = {});

inline result<stun_message> decode_stun(const std::vector<uint8_t>& bytes,
                                        const stun_decode_options& opts = {}) {
  return decode_stun(bytes.data(), bytes.size(), opts);
}

/// The size of the message that starts at `data` (header + length field), or
/// nothing while fewer than 20 bytes are there. For framing STUN on a stream;
/// says nothing about whether the message is valid.
std::optional<size_t> stun_message_size(const uint8_t* data, size_t size);

/// Decodes an address-type value (MAPPED-ADDRESS layout), XORed with
/// `xor_key` (the 16 bytes after the length field: cookie and transaction id)
/// when it is given. Errors say what is wrong, without an offset.
result<endpoint> decode_stun_address(const uint8_t* value, size_t size, const uint8_t* xor_key);

} // namespace p2pd::net
