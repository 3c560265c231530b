#include "p2pd/net/crypto/seal.hpp"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::bytes_of;
using p2pd::test::from_hex;
using p2pd::test::make_identity;

namespace {

sealed seal_to(const identity& to, const std::string& text, const std::string& aad = "") {
  auto box = seal(to.pub().agree, text, aad);
  EXPECT_OK(box);
  return box ? std::move(*box) : sealed{};
}

// Every way of failing looks the same from outside.
void expect_refused(const result<std::vector<uint8_t>>& opened, const std::string& why) {
  ASSERT_FALSE(opened) << why;
  EXPECT_ERRC(opened, errc::crypto_failed) << why;
  EXPECT_EQ(opened.error().what, "cannot decrypt: authentication failed") << why;
}

class Seal : public ::testing::Test {
protected:
  identity me_ = make_identity();
};

} // namespace

TEST_F(Seal, OpensWhatWasSealed) {
  auto box = seal_to(me_, "meet at the usual place", "header");
  auto opened = open(me_, box, std::string_view{"header"});
  ASSERT_OK(opened);
  EXPECT_EQ(*opened, bytes_of("meet at the usual place"));
}

TEST_F(Seal, EmptyPlaintextAndAadRoundTrip) {
  auto box = seal_to(me_, "");
  EXPECT_EQ(box.ciphertext.size(), seal_tag_size);
  auto opened = open(me_, box);
  ASSERT_OK(opened);
  EXPECT_TRUE(opened->empty());
}

TEST_F(Seal, LargePlaintextRoundTrips) {
  std::vector<uint8_t> big(1 << 20);
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<uint8_t>(i * 131 + (i >> 8));
  auto box = seal(me_.pub().agree, big);
  ASSERT_OK(box);
  auto opened = open(me_, *box);
  ASSERT_OK(opened);
  EXPECT_EQ(*opened, big);
}

TEST_F(Seal, CiphertextIsThePlaintextLengthPlusTheTag) {
  auto box = seal_to(me_, "twelve bytes");
  EXPECT_EQ(box.ciphertext.size(), 12 + seal_tag_size);
  std::string body(box.ciphertext.begin(), box.ciphertext.begin() + 12);
  EXPECT_NE(body, "twelve bytes");
}

TEST_F(Seal, TwoSealsOfTheSamePlaintextDiffer) {
  auto a = seal_to(me_, "same words", "same aad");
  auto b = seal_to(me_, "same words", "same aad");
  EXPECT_NE(a.ephemeral, b.ephemeral);
  EXPECT_NE(a.nonce, b.nonce);
  EXPECT_NE(a.ciphertext, b.ciphertext);
  EXPECT_TRUE(open(me_, a, std::string_view{"same aad"}));
  EXPECT_TRUE(open(me_, b, std::string_view{"same aad"}));
}

TEST_F(Seal, OpensAMessageBuiltToTheSpecification) {
  // Built with Python's cryptography package: ephemeral = RFC 7748 Alice,
  // recipient = RFC 7748 Bob, HKDF-SHA256(salt = Alice's public || Bob's
  // public, info = "p2pd seal v1"), ChaCha20-Poly1305 with nonce 00..0b.
  std::array<uint8_t, 32> sign{};
  auto bob = identity::from_private_keys(
    sign, from_hex<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  ASSERT_OK(bob);
  sealed box;
  box.ephemeral = from_hex<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  for (size_t i = 0; i < box.nonce.size(); ++i)
    box.nonce[i] = static_cast<uint8_t>(i);
  auto ct = from_hex<27>("3fcd982238387e64d04c90042e22997f89fb0942ddf95f128e2e78");
  box.ciphertext.assign(ct.begin(), ct.end());
  auto opened = open(*bob, box, std::string_view{"header"});
  ASSERT_OK(opened);
  EXPECT_EQ(*opened, bytes_of("hello, node"));
}

TEST_F(Seal, AnotherRecipientCannotOpen) {
  auto box = seal_to(me_, "for me only");
  auto other = make_identity();
  expect_refused(open(other, box), "other recipient");
}

TEST_F(Seal, AnyFlippedCiphertextOrTagBitIsRefused) {
  auto box = seal_to(me_, "0123456789", "aad");
  for (size_t bit = 0; bit < box.ciphertext.size() * 8; ++bit) {
    auto changed = box;
    changed.ciphertext[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    expect_refused(open(me_, changed, std::string_view{"aad"}), "bit " + std::to_string(bit));
  }
}

TEST_F(Seal, AnyFlippedNonceBitIsRefused) {
  auto box = seal_to(me_, "nonce", "aad");
  for (size_t bit = 0; bit < box.nonce.size() * 8; ++bit) {
    auto changed = box;
    changed.nonce[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    expect_refused(open(me_, changed, std::string_view{"aad"}), "bit " + std::to_string(bit));
  }
}

TEST_F(Seal, AnyFlippedEphemeralKeyBitIsRefused) {
  auto box = seal_to(me_, "ephemeral", "aad");
  // Bit 255 is ignored by X25519 (RFC 7748 masks it), so flipping it gives
  // the same shared secret; the key derivation's salt still catches it.
  for (size_t bit = 0; bit < box.ephemeral.size() * 8; ++bit) {
    auto changed = box;
    changed.ephemeral[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    expect_refused(open(me_, changed, std::string_view{"aad"}), "bit " + std::to_string(bit));
  }
}

TEST_F(Seal, OtherAssociatedDataIsRefused) {
  auto box = seal_to(me_, "body", "to: alice");
  expect_refused(open(me_, box, std::string_view{"to: mallory"}), "other aad");
  expect_refused(open(me_, box, std::string_view{"to: alic"}), "shorter aad");
  expect_refused(open(me_, box), "no aad");
  auto without = seal_to(me_, "body");
  expect_refused(open(me_, without, std::string_view{"added"}), "aad added");
}

TEST_F(Seal, CiphertextShorterThanTheTagIsRefused) {
  auto box = seal_to(me_, "short");
  for (size_t n : {size_t{0}, size_t{1}, seal_tag_size - 1}) {
    auto changed = box;
    changed.ciphertext.resize(n);
    expect_refused(open(me_, changed), "length " + std::to_string(n));
  }
}

TEST_F(Seal, TruncatedOrExtendedCiphertextIsRefused) {
  auto box = seal_to(me_, "a message of some length");
  auto shorter = box;
  shorter.ciphertext.pop_back();
  expect_refused(open(me_, shorter), "one byte less");
  auto first_cut = box;
  first_cut.ciphertext.erase(first_cut.ciphertext.begin());
  expect_refused(open(me_, first_cut), "first byte cut");
  auto longer = box;
  longer.ciphertext.push_back(0);
  expect_refused(open(me_, longer), "one byte more");
}

TEST_F(Seal, AllZeroEphemeralKeyIsRefused) {
  auto box = seal_to(me_, "zero");
  box.ephemeral.fill(0);
  expect_refused(open(me_, box), "all-zero ephemeral key");
}

TEST_F(Seal, EphemeralKeyOfSmallOrderIsRefused) {
  auto box = seal_to(me_, "small order");
  for (auto hex : {"0100000000000000000000000000000000000000000000000000000000000000",
                   "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                   "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
                   "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
    auto changed = box;
    changed.ephemeral = from_hex<32>(hex);
    expect_refused(open(me_, changed), hex);
  }
}

TEST_F(Seal, SealingToAKeyOfSmallOrderFails) {
  std::array<uint8_t, 32> zero{};
  auto box = seal(zero, std::string_view{"lost"});
  ASSERT_FALSE(box);
  EXPECT_ERRC(box, errc::crypto_failed);
  EXPECT_NE(box.error().what.find("cannot seal"), std::string::npos) << box.error().what;
}
