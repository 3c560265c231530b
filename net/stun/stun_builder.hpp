#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/stun/stun_auth.hpp"
#include "p2pd/net/stun/stun_message.hpp"

namespace p2pd::net {

/// Writes a STUN message attribute by attribute: each add appends the
/// attribute and its padding at once, so MESSAGE-INTEGRITY and FINGERPRINT
/// cover exactly what came before them.
///
/// The typed adds check their values like the decoder does and refuse what it
/// would refuse, and keep RFC 8489's order: nothing but
/// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT after MESSAGE-INTEGRITY, nothing
/// after FINGERPRINT. The first error sticks and finish() returns it
/// (errc::invalid_argument, or errc::message_too_large past 65532 bytes of
/// attributes). add_raw checks only sizes: it is for attributes the builder
/// has no typed add for, and for tests that need broken messages.
class stun_builder {
public:
  /// A message of class `c` and `method` (12 bits); RFC 3489 format (no
  /// cookie) if `id` is 16 bytes long.
  stun_builder(stun_class c, uint16_t method, const stun_txid& id);

  /// Starts from a message's header and attributes, MESSAGE-INTEGRITY,
  /// -SHA256 and FINGERPRINT left out (they are computed, not copied).
  static stun_builder from(const stun_message& m);

  /// The byte padding is filled with: RFC 8489 says any value, 0 by default.
  /// (RFC 5769's vectors pad text with spaces.)
  stun_builder& padding(uint8_t byte);

  stun_builder& add_raw(uint16_t type, const uint8_t* data, size_t size);
  stun_builder& add_raw(uint16_t type, std::string_view bytes);

  /// MAPPED-ADDRESS layout: MAPPED-ADDRESS, RESPONSE-ORIGIN, OTHER-ADDRESS,
  /// CHANGED-ADDRESS, SOURCE-ADDRESS, ALTERNATE-SERVER, ... An IPv6 scope id
  /// is not sent.
  stun_builder& add_address(uint16_t type, const endpoint& ep);
  /// XORed layout: XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS.
  stun_builder& add_xor_address(uint16_t type, const endpoint& ep);
  /// `code` 300..699; `reason` UTF-8 of at most 763 bytes.
  stun_builder& add_error_code(uint16_t code, std::string_view reason);
  stun_builder& add_change_request(stun_change_request flags);
  /// UNKNOWN-ATTRIBUTES.
  stun_builder& add_unknown_attributes(const std::vector<uint16_t>& types);
  /// A UTF-8 attribute within its type's length limit: SOFTWARE, USERNAME,
  /// REALM, NONCE, ...
  stun_builder& add_text(uint16_t type, std::string_view text);
  stun_builder& add_software(std::string_view text) { return add_text(stun_attr::software, text); }

  /// MESSAGE-INTEGRITY (HMAC-SHA1) over everything so far.
  stun_builder& add_integrity(const stun_key& key);
  /// MESSAGE-INTEGRITY-SHA256, full 32 bytes.
  stun_builder& add_integrity_sha256(const stun_key& key);
  /// FINGERPRINT; must be the last add.
  stun_builder& add_fingerprint();

  /// The message, or the first error an add ran into.
  result<std::vector<uint8_t>> finish() const;

private:
  bool check_order(uint16_t type);
  void append(uint16_t type, const uint8_t* data, size_t size);
  void set_length(size_t attrs_len);
  void fail(errc code, std::string what);
  const uint8_t* xor_key() const { return buf_.data() + 4; }

  std::vector<uint8_t> buf_;
  uint8_t pad_ = 0;
  bool after_integrity_ = false;
  bool after_integrity256_ = false;
  bool after_fingerprint_ = false;
  error err_;
};

} // namespace p2pd::net
