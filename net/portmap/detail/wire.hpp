#pragma once

// Internal to the port mapping codecs' .cpp files: byte order and message
// text. (The STUN codec has its own copy in stun_detail; neither is API.)

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "p2pd/net/error.hpp"

namespace p2pd::net::portmap_detail {

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

/// printf into a std::string (messages are short: cut at 255 bytes).
inline std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

inline std::string strf(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return n < 0 ? std::string() : std::string(buf, std::min<size_t>(n, sizeof(buf) - 1));
}

/// A reply that cannot be decoded.
inline error malformed(std::string what) {
  return error{errc::malformed, std::move(what)};
}

} // namespace p2pd::net::portmap_detail
