#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// STUN attribute types and the rules the codec checks their values against.
// Types below 0x8000 are comprehension-required: a receiver that does not know
// one must refuse the message (RFC 8489 §14). The codec knows the STUN
// (RFC 8489, 5780, 3489), TURN (RFC 8656, RFC 6062) and ICE (RFC 8445) types below;
// any other comprehension-required type is reported by
// stun_message::unknown_comprehension_required().

namespace p2pd::net {

/// Attribute type numbers (IANA "STUN Attributes").
namespace stun_attr {
// RFC 8489 (5389)
constexpr uint16_t mapped_address = 0x0001;
constexpr uint16_t username = 0x0006;
constexpr uint16_t message_integrity = 0x0008;
constexpr uint16_t error_code = 0x0009;
constexpr uint16_t unknown_attributes = 0x000A;
constexpr uint16_t realm = 0x0014;
constexpr uint16_t nonce = 0x0015;
constexpr uint16_t message_integrity_sha256 = 0x001C;
constexpr uint16_t password_algorithm = 0x001D;
constexpr uint16_t userhash = 0x001E;
constexpr uint16_t xor_mapped_address = 0x0020;
constexpr uint16_t password_algorithms = 0x8002;
constexpr uint16_t alternate_domain = 0x8003;
constexpr uint16_t software = 0x8022;
constexpr uint16_t alternate_server = 0x8023;
constexpr uint16_t fingerprint = 0x8028;
// RFC 3489 only (CHANGE-REQUEST lives on in RFC 5780)
constexpr uint16_t response_address = 0x0002;
constexpr uint16_t change_request = 0x0003;
constexpr uint16_t source_address = 0x0004;
constexpr uint16_t changed_address = 0x0005;
constexpr uint16_t password = 0x0007;
constexpr uint16_t reflected_from = 0x000B;
/// Pre-RFC 5389 servers' XOR-MAPPED-ADDRESS (draft-ietf-behave-rfc3489bis-02).
constexpr uint16_t xor_mapped_address_legacy = 0x8020;
// RFC 5780 (NAT behaviour discovery)
constexpr uint16_t padding = 0x0026;
constexpr uint16_t response_port = 0x0027;
constexpr uint16_t response_origin = 0x802B;
constexpr uint16_t other_address = 0x802C;
// RFC 8656 (TURN)
constexpr uint16_t channel_number = 0x000C;
constexpr uint16_t lifetime = 0x000D;
constexpr uint16_t xor_peer_address = 0x0012;
constexpr uint16_t data = 0x0013;
constexpr uint16_t xor_relayed_address = 0x0016;
constexpr uint16_t requested_address_family = 0x0017;
constexpr uint16_t even_port = 0x0018;
constexpr uint16_t requested_transport = 0x0019;
constexpr uint16_t dont_fragment = 0x001A;
constexpr uint16_t reservation_token = 0x0022;
// RFC 6062 (TURN TCP allocations)
constexpr uint16_t connection_id = 0x002A;
// RFC 8445 (ICE)
constexpr uint16_t priority = 0x0024;
constexpr uint16_t use_candidate = 0x0025;
constexpr uint16_t ice_controlled = 0x8029;
constexpr uint16_t ice_controlling = 0x802A;
} // namespace stun_attr

/// Longest reason phrase, SOFTWARE, REALM, NONCE value: 127 characters of up
/// to 6 bytes as RFC 8489 counts them when decoding (it allows 509 when
/// encoding; the codec takes the decoder's limit both ways so that whatever it
/// decodes it can encode again).
constexpr size_t stun_max_text = 763;
/// Longest USERNAME (RFC 8489 §14.3).
constexpr size_t stun_max_username = 513;

/// How the codec reads a known attribute's value.
enum class stun_value_kind : uint8_t {
  opaque,      ///< bytes, only the length is checked
  address,     ///< MAPPED-ADDRESS layout: 0, family, port, 4 or 16 address bytes
  xor_address, ///< the same, XORed with the cookie and transaction id
  text,        ///< UTF-8
  error_code,  ///< ERROR-CODE
  type_list,   ///< a list of 16-bit attribute types
};

/// What the codec knows about an attribute type.
struct stun_attr_info {
  uint16_t type;
  const char* name;   ///< "XOR-MAPPED-ADDRESS"
  stun_value_kind kind;
  uint16_t min_len;   ///< value length bounds, inclusive
  uint16_t max_len;
  uint16_t len_step;  ///< the length must be a multiple of this (1: any)
};

/// The rules for `type`, or nullptr for a type the codec does not know.
const stun_attr_info* stun_attr_lookup(uint16_t type);

/// "XOR-MAPPED-ADDRESS (0x0020)", or "attribute 0x7f01" for an unknown type.
std::string stun_attr_name(uint16_t type);

/// True for types below 0x8000, which a receiver must understand.
constexpr bool stun_comprehension_required(uint16_t type) {
  return type < 0x8000;
}

/// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or code
/// points past U+10FFFF).
bool valid_utf8(std::string_view text);

} // namespace p2pd::net
