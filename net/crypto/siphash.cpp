#include "p2pd/net/crypto/siphash.hpp"

#include <unistd.h>

#include <random>

#include <openssl/err.h>
#include <openssl/rand.h>

namespace p2pd::net {

namespace {

uint64_t load_le64(const uint8_t* p) {
  uint64_t x = 0;
  for (int i = 7; i >= 0; --i)
    x = (x << 8) | p[i];
  return x;
}

uint64_t rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

} // namespace

uint64_t siphash24(const std::array<uint64_t, 2>& key, const uint8_t* in, size_t n) {
  uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
  uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
  uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
  uint64_t v3 = 0x7465646279746573ULL ^ key[1];
  auto round = [&] {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  };
  size_t whole = n - n % 8;
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m = load_le64(in + i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  uint64_t last = static_cast<uint64_t>(n) << 56;
  for (size_t i = 0; i < n % 8; ++i)
    last |= static_cast<uint64_t>(in[whole + i]) << (8 * i);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i)
    round();
  return v0 ^ v1 ^ v2 ^ v3;
}

std::array<uint64_t, 2> random_hash_key() noexcept {
  std::array<uint64_t, 2> key{};
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), sizeof key) == 1)
    return key;
  ERR_clear_error();
  // Without OpenSSL's generator the kernel's is the next best; a hash key
  // is no long-term secret.
  try {
    std::random_device rd;
    key[0] = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    key[1] = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  } catch (...) {
    key[0] = reinterpret_cast<uintptr_t>(&key) ^ static_cast<uint64_t>(::getpid());
  }
  return key;
}

} // namespace p2pd::net
