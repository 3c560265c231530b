// The NTP packet codec: requests, chrony's answers, and every way a reply is
// refused.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"

#include "p2pd/net/ntp/ntp_packet.hpp"

using namespace p2pd::net;

namespace {

// An answer chronyd 4.3 (local stratum 8) gave on loopback to a request
// whose transmit timestamp was 0x1111111111111111.
const std::vector<uint8_t> chrony_reply = {
  0x24, 0x08, 0x00, 0xe6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7f, 0x7f, 0x01, 0x01,
  0xee, 0xbd, 0x0f, 0x42, 0xd1, 0xac, 0x3d, 0xed, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
  0xee, 0xbd, 0x0f, 0x43, 0xed, 0xc6, 0x85, 0xe7, 0xee, 0xbd, 0x0f, 0x43, 0xee, 0x4e, 0x5e, 0xa0};
const ntp_timestamp chrony_nonce{0x1111111111111111u};

const ntp_timestamp nonce{0x0123456789abcdefu};

// A well-formed answer to `nonce`, for each test to break one way.
ntp_packet good_reply() {
  ntp_packet x;
  x.leap = ntp_leap::none;
  x.version = 4;
  x.mode = ntp_mode::server;
  x.stratum = 2;
  x.precision = -20;
  x.root_delay = 0x00002000;      // 1/8 s
  x.root_dispersion = 0x00000800; // 1/32 s
  x.reference_id = 0xc0000201; // 192.0.2.1
  x.reference = ntp_timestamp::from_parts(3'913'056'000u, 0);
  x.origin = nonce;
  x.receive = ntp_timestamp::from_parts(3'913'056'010u, 0x40000000u);
  x.transmit = ntp_timestamp::from_parts(3'913'056'010u, 0x40010000u);
  return x;
}

std::vector<uint8_t> wire(const ntp_packet& x) {
  auto a = encode_ntp(x);
  return {a.begin(), a.end()};
}

// Decodes and checks `bytes` as the answer to `nonce`; the refusal's reason.
result<ntp_packet> reply(const std::vector<uint8_t>& bytes, ntp_reject& why,
                         ntp_timestamp sent = nonce) {
  return decode_ntp_reply(bytes.data(), bytes.size(), sent, &why);
}

void expect_packet_refused(const ntp_packet& x, ntp_reject reason, errc code, const std::string& text) {
  ntp_reject why{};
  auto r = reply(wire(x), why);
  ASSERT_FALSE(r) << "accepted, expected " << to_string(reason);
  EXPECT_EQ(why, reason) << to_string(why);
  EXPECT_EQ(r.error().code, code) << to_string(r.error());
  EXPECT_NE(r.error().what.find(text), std::string::npos) << r.error().what;
}

} // namespace

TEST(NtpPacket, RequestIsVersion4ModeClientWithTheNonceAsTransmit) {
  auto bytes = wire(ntp_request(nonce));
  ASSERT_EQ(bytes.size(), 48u);
  EXPECT_EQ(bytes[0], 0x23); // LI 0, VN 4, mode 3
  for (size_t i = 1; i < 40; ++i)
    EXPECT_EQ(bytes[i], 0) << "byte " << i;
  const std::vector<uint8_t> xmt(bytes.begin() + 40, bytes.end());
  EXPECT_EQ(xmt, (std::vector<uint8_t>{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}));
}

TEST(NtpPacket, ChronysAnswerDecodes) {
  ntp_reject why{};
  auto x = reply(chrony_reply, why, chrony_nonce);
  ASSERT_OK(x);
  EXPECT_EQ(x->leap, ntp_leap::none);
  EXPECT_EQ(x->version, 4);
  EXPECT_EQ(x->mode, ntp_mode::server);
  EXPECT_EQ(x->stratum, 8);
  EXPECT_EQ(x->precision, -26);
  EXPECT_EQ(x->reference_text(), "0x7f7f0101"); // 127.127.1.1, the local clock
  EXPECT_EQ(x->kiss_code(), "");
  EXPECT_EQ(x->origin, chrony_nonce);
  EXPECT_EQ(x->receive.seconds(), 0xeebd0f43u);
  EXPECT_EQ(x->transmit.raw, 0xeebd0f43ee4e5ea0u);
  EXPECT_EQ(x->root_distance_ns(), 0);
}

TEST(NtpPacket, EncodeDecodeRoundTrips) {
  auto x = good_reply();
  auto bytes = wire(x);
  auto y = decode_ntp(bytes.data(), bytes.size());
  ASSERT_OK(y);
  EXPECT_EQ(wire(*y), bytes);
  EXPECT_EQ(y->root_distance_ns(), 62'500'000 + 31'250'000);
}

TEST(NtpPacket, GoodReplyPasses) {
  ntp_reject why = ntp_reject::wrong_sender;
  ASSERT_OK(reply(wire(good_reply()), why));
  EXPECT_EQ(why, ntp_reject::wrong_sender); // untouched on success
}

TEST(NtpPacket, ExtensionFieldsAndMacAfterTheHeaderAreSkipped) {
  for (size_t extra : {20u, 24u, 52u}) {
    auto bytes = wire(good_reply());
    bytes.resize(48 + extra, 0xaa);
    ntp_reject why{};
    EXPECT_OK(reply(bytes, why)) << extra << " bytes after the header";
  }
}

TEST(NtpPacket, ShortPacketIsRefused) {
  for (size_t n : {0u, 1u, 47u}) {
    auto bytes = wire(good_reply());
    bytes.resize(n);
    ntp_reject why{};
    auto r = reply(bytes, why);
    ASSERT_FALSE(r);
    EXPECT_EQ(why, ntp_reject::short_packet);
    EXPECT_EQ(r.error().code, errc::malformed);
    EXPECT_NE(r.error().what.find("shorter than the 48-byte header"), std::string::npos)
      << r.error().what;
  }
}

TEST(NtpPacket, LengthThatIsNoWholeWordOrTooLongIsRefused) {
  for (size_t n : {49u, 50u, 51u, 1028u}) {
    auto bytes = wire(good_reply());
    bytes.resize(n);
    ntp_reject why{};
    auto r = reply(bytes, why);
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(why, ntp_reject::bad_length) << n;
    EXPECT_EQ(r.error().code, errc::malformed);
  }
}

TEST(NtpPacket, VersionThatDoesNotExistIsRefused) {
  for (uint8_t v : {0, 5, 7}) {
    auto bytes = wire(good_reply());
    bytes[0] = static_cast<uint8_t>((bytes[0] & ~0x38) | (v << 3));
    ntp_reject why{};
    auto r = reply(bytes, why);
    ASSERT_FALSE(r);
    EXPECT_EQ(why, ntp_reject::bad_version);
    EXPECT_NE(r.error().what.find("version " + std::to_string(v)), std::string::npos);
  }
}

TEST(NtpPacket, OldVersionAnswerIsRefused) {
  auto x = good_reply();
  x.version = 2;
  expect_packet_refused(x, ntp_reject::bad_version, errc::malformed, "version 2");
  x.version = 3; // RFC 1305 servers answer version 3: the same format
  ntp_reject why{};
  EXPECT_OK(reply(wire(x), why));
}

TEST(NtpPacket, AnswerThatIsNotModeServerIsRefused) {
  auto x = good_reply();
  x.mode = ntp_mode::client; // our own request reflected
  expect_packet_refused(x, ntp_reject::bad_mode, errc::malformed, "mode client (3), not server");
  x.mode = ntp_mode::broadcast;
  expect_packet_refused(x, ntp_reject::bad_mode, errc::malformed, "mode broadcast (5)");
  x.mode = ntp_mode::symmetric_passive;
  expect_packet_refused(x, ntp_reject::bad_mode, errc::malformed, "symmetric passive");
}

TEST(NtpPacket, KissOfDeathIsRefusedWithItsCode) {
  auto x = good_reply();
  x.stratum = 0;
  x.leap = ntp_leap::unsynchronised; // as servers send them
  x.reference_id = 0x52415445;       // "RATE"
  expect_packet_refused(x, ntp_reject::kiss_of_death, errc::server_refused,
                 "kiss-o'-death RATE (stratum 0): rate exceeded");
  x.reference_id = 0x44454e59; // "DENY"
  expect_packet_refused(x, ntp_reject::kiss_of_death, errc::server_refused,
                 "kiss-o'-death DENY (stratum 0): access denied");
  x.reference_id = 0x52535452; // "RSTR"
  expect_packet_refused(x, ntp_reject::kiss_of_death, errc::server_refused, "RSTR");
  EXPECT_EQ(x.kiss_code(), "RSTR");
}

TEST(NtpPacket, StratumZeroWithoutACodeIsRefused) {
  auto x = good_reply();
  x.stratum = 0;
  x.reference_id = 0;
  expect_packet_refused(x, ntp_reject::kiss_of_death, errc::server_refused,
                 "kiss-o'-death 0x00000000 (stratum 0)");
}

TEST(NtpPacket, LeapIndicatorThreeMeansUnsynchronised) {
  auto x = good_reply();
  x.leap = ntp_leap::unsynchronised;
  expect_packet_refused(x, ntp_reject::unsynchronised, errc::server_refused,
                 "not synchronised (leap indicator 3, stratum 2)");
}

TEST(NtpPacket, StratumSixteenMeansUnsynchronised) {
  auto x = good_reply();
  x.stratum = 16;
  expect_packet_refused(x, ntp_reject::unsynchronised, errc::server_refused, "stratum 16");
}

TEST(NtpPacket, ReservedStratumIsRefused) {
  auto x = good_reply();
  x.stratum = 17;
  expect_packet_refused(x, ntp_reject::bad_stratum, errc::malformed, "reserved stratum 17");
}

TEST(NtpPacket, OriginOtherThanOurNonceIsRefused) {
  auto x = good_reply();
  x.origin = ntp_timestamp{nonce.raw + 1};
  expect_packet_refused(x, ntp_reject::origin_mismatch, errc::not_for_us,
                 "not the transmit timestamp we sent");
  x.origin = ntp_timestamp{};
  expect_packet_refused(x, ntp_reject::origin_mismatch, errc::not_for_us, "late or spoofed");
}

TEST(NtpPacket, SpoofedKissOfDeathIsAnOriginMismatchFirst) {
  // Without the nonce nobody can make us drop a server.
  auto x = good_reply();
  x.stratum = 0;
  x.reference_id = 0x44454e59; // "DENY"
  x.origin = ntp_timestamp{42};
  expect_packet_refused(x, ntp_reject::origin_mismatch, errc::not_for_us, "origin");
}

TEST(NtpPacket, ZeroTransmitOrReceiveTimestampIsRefused) {
  auto x = good_reply();
  x.transmit = ntp_timestamp{};
  expect_packet_refused(x, ntp_reject::zero_timestamp, errc::malformed, "without a transmit timestamp");
  x = good_reply();
  x.receive = ntp_timestamp{};
  expect_packet_refused(x, ntp_reject::zero_timestamp, errc::malformed, "without a receive timestamp");
}

TEST(NtpPacket, AnswerSentBeforeTheRequestCameIsRefused) {
  auto x = good_reply();
  std::swap(x.receive, x.transmit);
  expect_packet_refused(x, ntp_reject::bad_timestamps, errc::malformed,
                 "sent 15259 ns before the request was received");
}

TEST(NtpPacket, KissCodesNameTheirAction) {
  EXPECT_EQ(kiss_action("DENY"), ntp_kiss_action::stop);
  EXPECT_EQ(kiss_action("RSTR"), ntp_kiss_action::stop);
  EXPECT_EQ(kiss_action("RATE"), ntp_kiss_action::slow_down);
  EXPECT_EQ(kiss_action("INIT"), ntp_kiss_action::skip);
  EXPECT_EQ(kiss_action(""), ntp_kiss_action::skip);
}

TEST(NtpPacket, EveryReasonHasAName) {
  for (size_t i = 0; i < ntp_reject_count; ++i)
    EXPECT_STRNE(to_string(static_cast<ntp_reject>(i)), "?") << i;
}
