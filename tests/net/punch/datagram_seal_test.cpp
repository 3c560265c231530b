#include "p2pd/net/punch/datagram_seal.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "p2pd/net/punch/detail/chacha_poly.hpp"

#include "support/expect.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::bytes_of;
using p2pd::test::from_hex;

namespace {

std::vector<uint8_t> hex_bytes(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// Two ends of one session: what one seals, the other opens.
struct pair_keys {
  session_keys a;
  session_keys b;
};

pair_keys keys(uint32_t tag = 0x7c82a72c) {
  pair_keys k;
  k.a.send = from_hex<32>("462c4895c82f08474e3c026440af8070ccd979555f94199a15c34b3cc6717c6b");
  k.a.recv = from_hex<32>("83f501fde0ea535ce80199fdaacd7e1f6da3a7d13da1bbedb6503049994aa0d9");
  k.a.tag = tag;
  k.b.send = k.a.recv;
  k.b.recv = k.a.send;
  k.b.tag = tag;
  return k;
}

datagram_seal make(const session_keys& k, uint64_t first = 0) {
  auto s = datagram_seal::make(k, first);
  if (!s)
    throw std::runtime_error{to_string(s.error())};
  return std::move(*s);
}

class DatagramSeal : public ::testing::Test {
protected:
  pair_keys k_ = keys();
  datagram_seal a_ = make(k_.a);
  datagram_seal b_ = make(k_.b);

  std::vector<uint8_t> from_a(frame_kind kind, const std::string& text) {
    auto x = a_.seal(kind, bytes_of(text));
    EXPECT_OK(x);
    return x ? *x : std::vector<uint8_t>{};
  }
};

} // namespace

// RFC 8439, section 2.8.2, through the nonce layout of the frames: its
// nonce is the constant 07 00 00 00 and the counter 0x4041424344454647.
TEST(ChachaPoly, Rfc8439VectorThroughTheFrameNonce) {
  auto key = from_hex<32>("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  auto nonce = detail::frame_nonce(0x07000000, 0x4041424344454647);
  EXPECT_EQ(nonce, from_hex<12>("070000004041424344454647"));
  auto aad = hex_bytes("50515253c0c1c2c3c4c5c6c7");
  auto plain = bytes_of("Ladies and Gentlemen of the class of '99: If I could offer you only "
                        "one tip for the future, sunscreen would be it.");
  auto expected = hex_bytes(
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69"
    "da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad67594"
    "5585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
    "1ae10b594f09e26a7e902ecbd0600691");
  detail::chacha_poly enc{key, true};
  ASSERT_TRUE(enc.ready());
  std::vector<uint8_t> out(plain.size() + detail::chacha_poly::tag_size);
  ASSERT_TRUE(enc.seal(nonce, aad, plain, out.data()));
  EXPECT_EQ(out, expected);
  detail::chacha_poly dec{key, false};
  std::vector<uint8_t> back(plain.size());
  ASSERT_TRUE(dec.open(nonce, aad, expected, back.data()));
  EXPECT_EQ(back, plain);
  // One context serves many messages: the same again gives the same.
  ASSERT_TRUE(enc.seal(nonce, aad, plain, out.data()));
  EXPECT_EQ(out, expected);
}

// A whole frame, computed apart from this code (Python's ChaCha20Poly1305
// over the layout of datagram_seal.hpp): version 1, data, tag, counter 5.
TEST_F(DatagramSeal, SealsTheKnownFrame) {
  auto s = make(k_.a, 5);
  auto x = s.seal(frame_kind::data, bytes_of("hello"));
  ASSERT_OK(x);
  EXPECT_EQ(*x, hex_bytes("01057c82a72c00000000000000050a1cbdafda482f362977dc79cdafcd69c5af0ebb96"));
  auto f = b_.open(*x);
  ASSERT_OK(f);
  EXPECT_EQ(f->kind, frame_kind::data);
  EXPECT_EQ(f->counter, 5u);
  EXPECT_EQ(f->payload, bytes_of("hello"));
}

TEST_F(DatagramSeal, EveryKindRoundTripsWithRisingCounters) {
  for (uint8_t k = 1; k <= 7; ++k) {
    auto kind = static_cast<frame_kind>(k);
    auto f = b_.open(from_a(kind, "payload " + std::to_string(k)));
    ASSERT_OK(f);
    EXPECT_EQ(f->kind, kind);
    EXPECT_EQ(f->counter, k - 1u);
    EXPECT_EQ(f->payload, bytes_of("payload " + std::to_string(k)));
  }
  EXPECT_EQ(a_.counters().sealed, 7u);
  EXPECT_EQ(b_.counters().opened, 7u);
  EXPECT_EQ(a_.next_counter(), 7u);
}

TEST_F(DatagramSeal, AnEmptyPayloadIsAFrameOfItsOverhead) {
  auto x = from_a(frame_kind::keepalive, "");
  EXPECT_EQ(x.size(), frame_overhead);
  auto f = b_.open(x);
  ASSERT_OK(f);
  EXPECT_TRUE(f->payload.empty());
}

TEST_F(DatagramSeal, TooShortIsMalformed) {
  auto x = from_a(frame_kind::data, "");
  x.pop_back();
  auto f = b_.open(x);
  ASSERT_ERRC(f, errc::malformed);
  EXPECT_NE(f.error().what.find("shorter than a frame"), std::string::npos);
  EXPECT_ERRC(b_.open(byte_view{}), errc::malformed);
  EXPECT_EQ(b_.counters().malformed, 2u);
}

TEST_F(DatagramSeal, AnUnknownVersionOrKindIsMalformed) {
  auto x = from_a(frame_kind::data, "x");
  auto v2 = x;
  v2[0] = 2;
  auto f = b_.open(v2);
  ASSERT_ERRC(f, errc::malformed);
  EXPECT_NE(f.error().what.find("version 2"), std::string::npos) << f.error().what;
  for (uint8_t bad : {0, 8, 255}) {
    auto k = x;
    k[1] = bad;
    EXPECT_ERRC(b_.open(k), errc::malformed);
  }
  EXPECT_EQ(b_.counters().malformed, 4u);
  // None of it moved the window: the real frame still opens.
  EXPECT_OK(b_.open(x));
}

TEST_F(DatagramSeal, AnotherSessionsTagIsForeign) {
  auto other = keys(0x01020304);
  auto s = make(other.a);
  auto x = s.seal(frame_kind::probe, {});
  ASSERT_OK(x);
  auto f = b_.open(*x);
  ASSERT_ERRC(f, errc::not_for_us);
  EXPECT_NE(f.error().what.find("another session"), std::string::npos);
  EXPECT_EQ(b_.counters().foreign, 1u);
}

TEST_F(DatagramSeal, AnyChangedBitIsForged) {
  auto x = from_a(frame_kind::data, "attack at dawn");
  // Every bit of the payload and tag; header bits that leave the header
  // valid (the counter's) are covered as associated data.
  for (size_t byte = 6; byte < x.size(); ++byte) {
    auto y = x;
    y[byte] ^= 0x01;
    auto f = b_.open(y);
    ASSERT_ERRC(f, errc::forged) << "byte " << byte;
  }
  EXPECT_EQ(b_.counters().forged, x.size() - 6);
  EXPECT_EQ(b_.counters().opened, 0u);
  // The forgeries did not move the window.
  EXPECT_OK(b_.open(x));
}

TEST_F(DatagramSeal, AFrameReflectedToItsSenderIsForged) {
  auto x = from_a(frame_kind::probe, "");
  EXPECT_ERRC(a_.open(x), errc::forged);
}

TEST_F(DatagramSeal, TheSameFrameTwiceIsReplayed) {
  auto x = from_a(frame_kind::data, "once");
  ASSERT_OK(b_.open(x));
  auto again = b_.open(x);
  ASSERT_ERRC(again, errc::replayed);
  EXPECT_NE(again.error().what.find("accepted before"), std::string::npos);
  EXPECT_EQ(b_.counters().replayed, 1u);
}

TEST_F(DatagramSeal, FramesOutOfOrderWithinTheWindowOpenOnce) {
  std::vector<std::vector<uint8_t>> xs;
  for (int i = 0; i < 100; ++i)
    xs.push_back(from_a(frame_kind::data, std::to_string(i)));
  for (int i = 99; i >= 0; --i)
    ASSERT_OK(b_.open(xs[static_cast<size_t>(i)])) << i;
  for (const auto& x : xs)
    EXPECT_ERRC(b_.open(x), errc::replayed);
}

TEST(DatagramSealWindow, EdgesOfTheWindow) {
  auto k = keys();
  // The sender starts at 10000; the receiver first sees a frame there.
  auto a = make(k.a, 10000);
  auto b = make(k.b);
  std::vector<std::vector<uint8_t>> early;
  // Frames 10000 .. 10000 + window: the last one moves the top.
  for (uint64_t i = 0; i <= replay_window_size; ++i) {
    auto x = a.seal(frame_kind::data, {});
    ASSERT_OK(x);
    early.push_back(*x);
  }
  ASSERT_OK(b.open(early.back()));
  uint64_t top = 10000 + replay_window_size;
  EXPECT_EQ(b.window().highest(), top);
  // top - (window - 1) is the oldest tracked: it opens; top - window does not.
  ASSERT_OK(b.open(early[1]));
  auto old = b.open(early[0]);
  ASSERT_ERRC(old, errc::replayed);
  EXPECT_NE(old.error().what.find("behind the replay window"), std::string::npos);
}

TEST(DatagramSealWindow, AJumpClearsTheWholeWindow) {
  auto k = keys();
  auto a = make(k.a);
  auto b = make(k.b);
  auto first = a.seal(frame_kind::data, {});
  ASSERT_OK(first);
  ASSERT_OK(b.open(*first));
  auto far = make(k.a, uint64_t{1} << 62);
  auto jump = far.seal(frame_kind::data, {});
  ASSERT_OK(jump);
  ASSERT_OK(b.open(*jump));
  EXPECT_ERRC(b.open(*first), errc::replayed);
  // A counter just below the jump, never seen, opens.
  auto below = make(k.a, (uint64_t{1} << 62) - 5);
  auto x = below.seal(frame_kind::data, {});
  ASSERT_OK(x);
  EXPECT_OK(b.open(*x));
}

TEST(DatagramSealCounter, ASealerRefusesToWrap) {
  auto k = keys();
  auto max = std::numeric_limits<uint64_t>::max();
  auto a = make(k.a, max - 2);
  auto b = make(k.b);
  auto x = a.seal(frame_kind::data, {});
  auto y = a.seal(frame_kind::data, {});
  ASSERT_OK(x);
  ASSERT_OK(y);
  EXPECT_OK(b.open(*y));
  auto z = a.seal(frame_kind::data, {});
  ASSERT_ERRC(z, errc::crypto_failed);
  EXPECT_NE(z.error().what.find("used up"), std::string::npos);
  EXPECT_EQ(a.next_counter(), max); // it did not move
  EXPECT_ERRC(a.seal(frame_kind::close, {}), errc::crypto_failed);
  EXPECT_EQ(a.counters().sealed, 2u);
}

TEST_F(DatagramSeal, AnOversizedPayloadIsRefused) {
  std::vector<uint8_t> big(max_frame_payload + 1);
  auto x = a_.seal(frame_kind::data, big);
  ASSERT_ERRC(x, errc::message_too_large);
  EXPECT_EQ(a_.next_counter(), 0u);
  big.pop_back();
  auto fits = a_.seal(frame_kind::data, big);
  ASSERT_OK(fits);
  EXPECT_EQ(fits->size(), 65507u);
  EXPECT_OK(b_.open(*fits));
}
