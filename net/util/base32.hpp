#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2pd::net {

/// RFC 4648 base32 in lower case and without padding: the alphabet of node
/// ids ('a' to 'z', '2' to '7').
std::string base32_encode(const uint8_t* data, size_t size);

/// The value (0..31) of one base32 character, or -1 for any other.
int base32_value(char c);

/// Decodes `text` into `out`, which holds text.size() * 5 / 8 bytes; bits
/// left over at the end are ignored. Returns the position of the first
/// character that is not base32, or nothing when all are.
std::optional<size_t> base32_decode(std::string_view text, uint8_t* out);

} // namespace p2pd::net
