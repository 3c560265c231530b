#include "p2pd/net/crypto/session_key.hpp"

#include <array>
#include <cstdint>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::from_hex;

namespace {

// RFC 7748, section 6.1.
const auto alice_private =
  from_hex<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const auto alice_public =
  from_hex<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
const auto bob_private =
  from_hex<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const auto bob_public =
  from_hex<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");

std::array<uint8_t, 20> id_from(uint8_t first) {
  std::array<uint8_t, 20> out{};
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>(first + i);
  return out;
}

const auto initiator = id_from(1);
const auto responder = id_from(101);
constexpr uint64_t request = 0x0102030405060708;

ephemeral_key key_of(const std::array<uint8_t, 32>& scalar) {
  auto k = ephemeral_key::from_private(scalar);
  if (!k)
    throw std::runtime_error{to_string(k.error())};
  return std::move(*k);
}

ephemeral_key fresh() {
  auto k = ephemeral_key::generate();
  if (!k)
    throw std::runtime_error{to_string(k.error())};
  return std::move(*k);
}

} // namespace

TEST(SessionKey, PublicKeysAreRfc7748s) {
  EXPECT_EQ(key_of(alice_private).pub(), alice_public);
  EXPECT_EQ(key_of(bob_private).pub(), bob_public);
}

// The expected keys were computed apart from OpenSSL's HKDF, with HMAC-SHA256
// written out (RFC 5869) over RFC 7748's shared secret and the layout of
// session_key.hpp.
TEST(SessionKey, DerivesTheKnownKeysFromRfc7748Vectors) {
  auto a = derive_session(key_of(alice_private), bob_public, initiator, responder, request, true);
  auto b = derive_session(key_of(bob_private), alice_public, initiator, responder, request, false);
  ASSERT_OK(a);
  ASSERT_OK(b);
  auto i2r = from_hex<32>("462c4895c82f08474e3c026440af8070ccd979555f94199a15c34b3cc6717c6b");
  auto r2i = from_hex<32>("83f501fde0ea535ce80199fdaacd7e1f6da3a7d13da1bbedb6503049994aa0d9");
  EXPECT_EQ(a->send, i2r);
  EXPECT_EQ(a->recv, r2i);
  EXPECT_EQ(b->send, r2i);
  EXPECT_EQ(b->recv, i2r);
  EXPECT_EQ(a->tag, 0x7c82a72cu);
  EXPECT_EQ(b->tag, a->tag);
}

TEST(SessionKey, FreshPairsAgreeAndDifferEachTime) {
  auto x = fresh();
  auto y = fresh();
  auto a = derive_session(x, y.pub(), initiator, responder, request, true);
  auto b = derive_session(y, x.pub(), initiator, responder, request, false);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->send, b->recv);
  EXPECT_EQ(a->recv, b->send);
  EXPECT_NE(a->send, a->recv);
  auto z = fresh();
  auto c = derive_session(x, z.pub(), initiator, responder, request, true);
  ASSERT_OK(c);
  EXPECT_NE(c->send, a->send);
}

TEST(SessionKey, KeysAreBoundToBothNodesTheRequestAndTheRoles) {
  auto x = key_of(alice_private);
  auto base = derive_session(x, bob_public, initiator, responder, request, true);
  auto other_request = derive_session(x, bob_public, initiator, responder, request + 1, true);
  auto swapped_ids = derive_session(x, bob_public, responder, initiator, request, true);
  auto other_role = derive_session(x, bob_public, initiator, responder, request, false);
  ASSERT_OK(base);
  ASSERT_OK(other_request);
  ASSERT_OK(swapped_ids);
  ASSERT_OK(other_role);
  EXPECT_NE(other_request->send, base->send);
  EXPECT_NE(other_request->tag, base->tag);
  EXPECT_NE(swapped_ids->send, base->send);
  // The role orders the public keys in the salt too: a side that took the
  // wrong role derives keys that match neither direction, and nothing opens.
  for (const auto& k : {other_role->send, other_role->recv}) {
    EXPECT_NE(k, base->send);
    EXPECT_NE(k, base->recv);
  }
}

TEST(SessionKey, IdsAreLengthPrefixedSoSplitsDiffer) {
  auto x = key_of(alice_private);
  std::array<uint8_t, 3> abc{'a', 'b', 'c'};
  auto a_bc = derive_session(x, bob_public, byte_view{abc.data(), 1},
                             byte_view{abc.data() + 1, 2}, request, true);
  auto ab_c = derive_session(x, bob_public, byte_view{abc.data(), 2},
                             byte_view{abc.data() + 2, 1}, request, true);
  ASSERT_OK(a_bc);
  ASSERT_OK(ab_c);
  EXPECT_NE(a_bc->send, ab_c->send);
}

TEST(SessionKey, ALowOrderPeerKeyIsRefused) {
  // Zero and one are points of small order: the secret would be all zero.
  std::array<uint8_t, 32> zero{};
  std::array<uint8_t, 32> one{};
  one[0] = 1;
  for (const auto& bad : {zero, one}) {
    auto k = derive_session(fresh(), bad, initiator, responder, request, true);
    ASSERT_ERRC(k, errc::crypto_failed);
    EXPECT_NE(k.error().what.find("small order"), std::string::npos) << k.error().what;
  }
}

TEST(SessionKey, OurOwnKeyAsThePeersIsRefused) {
  auto x = fresh();
  auto k = derive_session(x, x.pub(), initiator, responder, request, true);
  ASSERT_ERRC(k, errc::invalid_argument);
  EXPECT_NE(k.error().what.find("our own"), std::string::npos) << k.error().what;
}

TEST(SessionKey, AnOverlongIdIsRefused) {
  std::array<uint8_t, 256> long_id{};
  auto k = derive_session(fresh(), bob_public, long_id, responder, request, true);
  ASSERT_ERRC(k, errc::invalid_argument);
}
