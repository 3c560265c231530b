#pragma once

// Internal to the STUN codec's .cpp files: byte order and message text.

#include <cstdint>
#include <string>

namespace p2pd::net::stun_detail {

inline uint16_t get16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

inline uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

inline void put16(uint8_t* p, uint16_t x) {
  p[0] = static_cast<uint8_t>(x >> 8);
  p[1] = static_cast<uint8_t>(x);
}

inline void put32(uint8_t* p, uint32_t x) {
  put16(p, static_cast<uint16_t>(x >> 16));
  put16(p + 2, static_cast<uint16_t>(x));
}

/// printf into a std::string.
std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace p2pd::net::stun_detail
