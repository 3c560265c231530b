#include "p2pd/net/crypto/siphash.hpp"

#include <vector>

#include <gtest/gtest.h>

using namespace p2pd::net;

namespace {

// The reference implementation's key: bytes 00..0f, read little-endian.
const std::array<uint64_t, 2> ref_key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

} // namespace

TEST(siphash, matches_the_reference_vectors) {
  std::vector<uint8_t> in;
  EXPECT_EQ(siphash24(ref_key, in.data(), 0), 0x726fdb47dd0e0e31ULL);
  for (uint8_t i = 0; i < 15; ++i)
    in.push_back(i);
  EXPECT_EQ(siphash24(ref_key, in.data(), in.size()), 0xa129ca6149be45e5ULL);
}

TEST(siphash, random_keys_differ) {
  EXPECT_NE(random_hash_key(), random_hash_key());
}
