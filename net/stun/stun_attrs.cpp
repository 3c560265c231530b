#include "p2pd/net/stun/stun_attrs.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace p2pd::net {

namespace {

using k = stun_value_kind;

// Address values: 0, family, port and 4 (family 1) or 16 (family 2) bytes;
// decode_stun_address checks that the family and the length agree.
constexpr uint16_t addr_min = 8;
constexpr uint16_t addr_max = 20;
constexpr uint16_t any_len = 0xFFFF;

// Sorted by type for the binary search in stun_attr_lookup.
constexpr stun_attr_info table[] = {
  {stun_attr::mapped_address, "MAPPED-ADDRESS", k::address, addr_min, addr_max, 4},
  {stun_attr::response_address, "RESPONSE-ADDRESS", k::address, addr_min, addr_max, 4},
  {stun_attr::change_request, "CHANGE-REQUEST", k::opaque, 4, 4, 1},
  {stun_attr::source_address, "SOURCE-ADDRESS", k::address, addr_min, addr_max, 4},
  {stun_attr::changed_address, "CHANGED-ADDRESS", k::address, addr_min, addr_max, 4},
  {stun_attr::username, "USERNAME", k::text, 0, stun_max_username, 1},
  {stun_attr::password, "PASSWORD", k::opaque, 0, any_len, 1},
  {stun_attr::message_integrity, "MESSAGE-INTEGRITY", k::opaque, 20, 20, 1},
  {stun_attr::error_code, "ERROR-CODE", k::error_code, 4, 4 + stun_max_text, 1},
  {stun_attr::unknown_attributes, "UNKNOWN-ATTRIBUTES", k::type_list, 0, any_len, 2},
  {stun_attr::reflected_from, "REFLECTED-FROM", k::address, addr_min, addr_max, 4},
  {stun_attr::channel_number, "CHANNEL-NUMBER", k::opaque, 4, 4, 1},
  {stun_attr::lifetime, "LIFETIME", k::opaque, 4, 4, 1},
  {stun_attr::xor_peer_address, "XOR-PEER-ADDRESS", k::xor_address, addr_min, addr_max, 4},
  {stun_attr::data, "DATA", k::opaque, 0, any_len, 1},
  {stun_attr::realm, "REALM", k::text, 0, stun_max_text, 1},
  {stun_attr::nonce, "NONCE", k::text, 0, stun_max_text, 1},
  {stun_attr::xor_relayed_address, "XOR-RELAYED-ADDRESS", k::xor_address, addr_min, addr_max, 4},
  {stun_attr::requested_address_family, "REQUESTED-ADDRESS-FAMILY", k::opaque, 4, 4, 1},
  {stun_attr::even_port, "EVEN-PORT", k::opaque, 1, 1, 1},
  {stun_attr::requested_transport, "REQUESTED-TRANSPORT", k::opaque, 4, 4, 1},
  {stun_attr::dont_fragment, "DONT-FRAGMENT", k::opaque, 0, 0, 1},
  {stun_attr::message_integrity_sha256, "MESSAGE-INTEGRITY-SHA256", k::opaque, 16, 32, 4},
  {stun_attr::password_algorithm, "PASSWORD-ALGORITHM", k::opaque, 4, any_len, 1},
  {stun_attr::userhash, "USERHASH", k::opaque, 32, 32, 1},
  {stun_attr::xor_mapped_address, "XOR-MAPPED-ADDRESS", k::xor_address, addr_min, addr_max, 4},
  {stun_attr::reservation_token, "RESERVATION-TOKEN", k::opaque, 8, 8, 1},
  {stun_attr::priority, "PRIORITY", k::opaque, 4, 4, 1},
  {stun_attr::use_candidate, "USE-CANDIDATE", k::opaque, 0, 0, 1},
  {stun_attr::padding, "PADDING", k::opaque, 0, any_len, 1},
  // A port and 2 bytes of padding, which some servers count and some do not.
  {stun_attr::response_port, "RESPONSE-PORT", k::opaque, 2, 4, 2},
  {stun_attr::connection_id, "CONNECTION-ID", k::opaque, 4, 4, 1},
  {stun_attr::password_algorithms, "PASSWORD-ALGORITHMS", k::opaque, 0, any_len, 1},
  {stun_attr::alternate_domain, "ALTERNATE-DOMAIN", k::text, 0, 255, 1},
  {stun_attr::xor_mapped_address_legacy, "XOR-MAPPED-ADDRESS-0x8020", k::xor_address, addr_min,
   addr_max, 4},
  {stun_attr::software, "SOFTWARE", k::text, 0, stun_max_text, 1},
  {stun_attr::alternate_server, "ALTERNATE-SERVER", k::address, addr_min, addr_max, 4},
  {stun_attr::fingerprint, "FINGERPRINT", k::opaque, 4, 4, 1},
  {stun_attr::ice_controlled, "ICE-CONTROLLED", k::opaque, 8, 8, 1},
  {stun_attr::ice_controlling, "ICE-CONTROLLING", k::opaque, 8, 8, 1},
  {stun_attr::response_origin, "RESPONSE-ORIGIN", k::address, addr_min, addr_max, 4},
  {stun_attr::other_address, "OTHER-ADDRESS", k::address, addr_min, addr_max, 4},
};

constexpr bool sorted() {
  for (size_t i = 1; i < std::size(table); ++i)
    if (table[i - 1].type >= table[i].type)
      return false;
  return true;
}
static_assert(sorted(), "stun_attrs table must be sorted by type");

} // namespace

const stun_attr_info* stun_attr_lookup(uint16_t type) {
  auto it = std::lower_bound(std::begin(table), std::end(table), type,
                             [](const stun_attr_info& x, uint16_t t) { return x.type < t; });
  return it != std::end(table) && it->type == type ? &*it : nullptr;
}

std::string stun_attr_name(uint16_t type) {
  char num[8];
  std::snprintf(num, sizeof(num), "0x%04x", type);
  if (auto info = stun_attr_lookup(type))
    return std::string(info->name) + " (" + num + ")";
  return std::string("attribute ") + num;
}

bool valid_utf8(std::string_view text) {
  auto s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false; // a continuation byte, or 0xF8..0xFF
    }
    if (n - i < len)
      return false;
    for (size_t j = 1; j < len; ++j) {
      if ((s[i + j] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

} // namespace p2pd::net
