#include "p2pd/net/util/base32.hpp"

namespace p2pd::net {

namespace {

constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

} // namespace

std::string base32_encode(const uint8_t* data, size_t size) {
  std::string out;
  out.reserve((size * 8 + 4) / 5);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < size; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(acc >> bits) & 31];
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0)
    out += alphabet[(acc << (5 - bits)) & 31];
  return out;
}

int base32_value(char c) {
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}

std::optional<size_t> base32_decode(std::string_view text, uint8_t* out) {
  uint32_t acc = 0;
  int bits = 0;
  size_t pos = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int v = base32_value(text[i]);
    if (v < 0)
      return i;
    acc = (acc << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[pos++] = static_cast<uint8_t>(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return std::nullopt;
}

} // namespace p2pd::net
