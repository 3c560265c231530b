#include "p2pd/net/crypto/key_check.hpp"

#include <string>

#include <gtest/gtest.h>

#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::from_hex;

namespace {

using key = std::array<uint8_t, 32>;

// p + n, little-endian (n < 19 stays in the lowest byte).
key p_plus(uint8_t n) {
  key out;
  out.fill(0xff);
  out[0] = static_cast<uint8_t>(0xed + n);
  out[31] = 0x7f;
  return out;
}

const char* ed_small_order[] = {
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
};

const char* x_small_order[] = {
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

} // namespace

TEST(KeyCheck, GeneratedKeysAreAccepted) {
  for (int i = 0; i < 20; ++i) {
    auto id = identity::generate();
    ASSERT_TRUE(id);
    EXPECT_FALSE(check_public_keys(id->pub())) << check_public_keys(id->pub()).what;
  }
}

TEST(KeyCheck, SmallOrderEd25519KeysAreRefusedWithEitherSignBit) {
  for (auto hex : ed_small_order) {
    auto k = from_hex<32>(hex);
    auto err = check_sign_key(k);
    EXPECT_EQ(err.code, errc::forged) << hex;
    EXPECT_NE(err.what.find("small order"), std::string::npos) << err.what;
    k[31] |= 0x80;
    EXPECT_EQ(check_sign_key(k).code, errc::forged) << hex << " with the sign bit";
  }
}

TEST(KeyCheck, UnreducedEd25519KeysAreRefused) {
  for (uint8_t n = 0; n < 19; ++n) {
    auto err = check_sign_key(p_plus(n));
    EXPECT_EQ(err.code, errc::forged) << "p + " << int(n);
    EXPECT_NE(err.what.find("canonical"), std::string::npos) << err.what;
  }
}

TEST(KeyCheck, SmallOrderX25519KeysAreRefused) {
  for (auto hex : x_small_order)
    EXPECT_EQ(check_agree_key(from_hex<32>(hex)).code, errc::forged) << hex;
  EXPECT_EQ(check_agree_key(p_plus(0)).code, errc::forged) << "p, i.e. 0";
  EXPECT_EQ(check_agree_key(p_plus(1)).code, errc::forged) << "p + 1, i.e. 1";
}

TEST(KeyCheck, X25519KeyWithTheTopBitSetIsASecondSpellingAndRefused) {
  auto id = identity::generate();
  ASSERT_TRUE(id);
  auto k = id->pub().agree;
  k[31] |= 0x80;
  EXPECT_EQ(check_agree_key(k).code, errc::forged);
}

TEST(KeyCheck, PublicKeysNameTheWeakOne) {
  auto id = identity::generate();
  ASSERT_TRUE(id);
  auto keys = id->pub();
  keys.agree = from_hex<32>(x_small_order[2]);
  auto err = check_public_keys(keys);
  EXPECT_NE(err.what.find("X25519"), std::string::npos) << err.what;
}

// Why it matters: the identity point verifies a signature (R = identity,
// S = 0) of any message, made without any private key.
TEST(KeyCheck, SmallOrderKeyReallyVerifiesAForgery) {
  auto identity_point = from_hex<32>(ed_small_order[1]);
  std::array<uint8_t, 64> sig{};
  sig[0] = 1; // R = the identity point's encoding, S = 0
  std::string msg = "anything at all";
  if (!verify(identity_point, byte_view{msg}, sig))
    GTEST_SKIP() << "this OpenSSL refuses the forgery itself";
  EXPECT_EQ(check_sign_key(identity_point).code, errc::forged);
}
