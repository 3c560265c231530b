#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace p2pd::net {

/// SipHash-2-4 (Aumasson and Bernstein) of `in` under `key`: a keyed hash
/// made for hash tables fed by an adversary, as tables keyed by node ids
/// from the network are.
uint64_t siphash24(const std::array<uint64_t, 2>& key, const uint8_t* in, size_t n);

/// A random key for siphash24, from OpenSSL's generator (the kernel's when
/// OpenSSL cannot give one: a hash key is no long-term secret).
std::array<uint64_t, 2> random_hash_key() noexcept;

} // namespace p2pd::net
