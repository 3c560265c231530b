// The PCP codec (RFC 6887): a MAP request against bytes written from the
// RFC's figures, round trips, options, and each way a response is refused
// (the epoch rule: portmap_epoch_test).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"

#include "p2pd/net/portmap/pcp.hpp"

using namespace p2pd::net;

namespace {

using bytes = std::vector<uint8_t>;

const pcp_nonce client_nonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

ip_address ip(const char* text) {
  return *ip_address::parse(text);
}

// MAP UDP internal port 5000, suggested 5000, lifetime 7200 from 192.168.1.2,
// any IPv4 external address (RFC 6887 §7.1 and §11.1, figures 2 and 9).
const bytes rfc_map_request = {
  // version 2, R 0 and opcode 1 (MAP), reserved
  0x02, 0x01, 0x00, 0x00,
  // requested lifetime 7200
  0x00, 0x00, 0x1c, 0x20,
  // client IP ::ffff:192.168.1.2
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xc0, 0xa8, 0x01, 0x02,
  // mapping nonce
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
  // protocol 17 (UDP), reserved
  0x11, 0x00, 0x00, 0x00,
  // internal port 5000, suggested external port 5000
  0x13, 0x88, 0x13, 0x88,
  // suggested external IP ::ffff:0.0.0.0
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};

pcp_request map_request() {
  pcp_request req;
  req.lifetime = 7200;
  req.client_ip = ip("192.168.1.2");
  req.map = pcp_map{client_nonce, pcp_protocol::udp, 5000, 5000, ip_address{}};
  return req;
}

pcp_response pcp_map_answer() {
  pcp_response x;
  x.lifetime = 7200;
  x.epoch = 3600;
  x.map = pcp_map{client_nonce, pcp_protocol::udp, 5000, 40000, ip("203.0.113.1")};
  return x;
}

bytes pcp_wire(const pcp_response& x) {
  return *encode_pcp_response(x);
}

void expect_refused(const bytes& b, errc code, const std::string& text,
                    const pcp_decode_options& opts = {}) {
  auto r = decode_pcp_response(b, opts);
  ASSERT_FALSE(r) << "accepted";
  EXPECT_EQ(r.error().code, code) << to_string(r.error());
  EXPECT_NE(r.error().what.find(text), std::string::npos) << r.error().what;
}

} // namespace

TEST(Pcp, MapRequestMatchesTheRfcLayout) {
  auto b = encode_pcp_request(map_request());
  ASSERT_OK(b);
  EXPECT_EQ(*b, rfc_map_request);
}

TEST(Pcp, AnnounceRequestIsTheHeaderOnly) {
  pcp_request req;
  req.opcode = pcp_opcode::announce;
  req.lifetime = 0;
  req.client_ip = ip("192.168.1.2");
  auto b = encode_pcp_request(req);
  ASSERT_OK(b);
  ASSERT_EQ(b->size(), 24u);
  EXPECT_EQ((*b)[1], 0);
  EXPECT_EQ(bytes(b->begin() + 4, b->begin() + 8), (bytes{0, 0, 0, 0}));
  // The client IP as in the MAP request.
  EXPECT_EQ(bytes(b->begin() + 8, b->end()),
            bytes(rfc_map_request.begin() + 8, rfc_map_request.begin() + 24));
}

TEST(Pcp, Ipv6ClientAddressIsSentAsIs) {
  auto req = map_request();
  req.client_ip = ip("2001:db8::2");
  auto b = encode_pcp_request(req);
  ASSERT_OK(b);
  auto want = ip("2001:db8::2").bytes();
  EXPECT_EQ(bytes(b->begin() + 8, b->begin() + 24), bytes(want.begin(), want.end()));
}

TEST(Pcp, RequestOptionsArePaddedToFour) {
  auto req = map_request();
  req.options.push_back({pcp_option_code::prefer_failure, {}});
  req.options.push_back({200, {0xaa, 0xbb, 0xcc, 0xdd, 0xee}});
  auto b = encode_pcp_request(req);
  ASSERT_OK(b);
  ASSERT_EQ(b->size(), 60u + 4 + 12);
  EXPECT_EQ(bytes(b->begin() + 60, b->end()),
            (bytes{2, 0, 0, 0, 200, 0, 0, 5, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0, 0}));
}

TEST(Pcp, UnspecifiedClientIpIsRefused) {
  auto req = map_request();
  req.client_ip = ip_address{};
  EXPECT_ERRC(encode_pcp_request(req), errc::invalid_argument);
}

TEST(Pcp, AllProtocolsWithAnInternalPortIsRefused) {
  auto req = map_request();
  req.map->protocol = pcp_protocol::all;
  EXPECT_ERRC(encode_pcp_request(req), errc::invalid_argument);
}

TEST(Pcp, AnnounceWithALifetimeIsRefused) {
  pcp_request req;
  req.opcode = pcp_opcode::announce;
  req.client_ip = ip("192.168.1.2");
  EXPECT_ERRC(encode_pcp_request(req), errc::invalid_argument);
}

TEST(Pcp, MapRequestWithoutMapDataIsRefused) {
  auto req = map_request();
  req.map.reset();
  EXPECT_ERRC(encode_pcp_request(req), errc::invalid_argument);
}

TEST(Pcp, RequestOver1100BytesIsRefused) {
  auto req = map_request();
  req.options.push_back({200, bytes(1100 - 60 - 4 + 1, 0)});
  EXPECT_ERRC(encode_pcp_request(req), errc::invalid_argument);
}

TEST(Pcp, RandomNoncesDiffer) {
  EXPECT_NE(pcp_random_nonce(), pcp_random_nonce());
}

TEST(Pcp, MapRequestHelperDrawsAFreshNonce) {
  auto a = pcp_map_request(ip("192.168.1.2"), pcp_protocol::tcp, 80);
  auto b = pcp_map_request(ip("192.168.1.2"), pcp_protocol::tcp, 80);
  ASSERT_TRUE(a.map && b.map);
  EXPECT_NE(a.map->nonce, b.map->nonce);
  EXPECT_EQ(a.map->external_ip, ip_address{});
}

TEST(Pcp, MapResponseWithOurNonceRoundTrips) {
  auto r = decode_pcp_response(pcp_wire(pcp_map_answer()), {pcp_opcode::map, client_nonce});
  ASSERT_OK(r);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->lifetime, 7200u);
  EXPECT_EQ(r->epoch, 3600u);
  ASSERT_TRUE(r->map);
  EXPECT_EQ(r->map->protocol, pcp_protocol::udp);
  EXPECT_EQ(r->map->internal_port, 5000);
  EXPECT_EQ(r->map->external_port, 40000);
  EXPECT_EQ(r->map->external_ip, ip("203.0.113.1"));
  EXPECT_TRUE(r->options.empty());
}

TEST(Pcp, Ipv6ExternalAddressRoundTrips) {
  auto x = pcp_map_answer();
  x.map->external_ip = ip("2001:db8::77");
  auto r = decode_pcp_response(pcp_wire(x));
  ASSERT_OK(r);
  EXPECT_EQ(r->map->external_ip, ip("2001:db8::77"));
}

TEST(Pcp, AnnounceResponseRoundTrips) {
  pcp_response x;
  x.opcode = pcp_opcode::announce;
  x.epoch = 12;
  auto r = decode_pcp_response(pcp_wire(x), {pcp_opcode::announce, std::nullopt});
  ASSERT_OK(r);
  EXPECT_EQ(r->opcode, pcp_opcode::announce);
  EXPECT_EQ(r->epoch, 12u);
  EXPECT_FALSE(r->map);
}

TEST(Pcp, ResponseOptionsAreDecodedAndSkipped) {
  auto x = pcp_map_answer();
  x.options.push_back({200, {1, 2, 3}});
  x.options.push_back({pcp_option_code::third_party, bytes(16, 7)});
  auto r = decode_pcp_response(pcp_wire(x), {pcp_opcode::map, client_nonce});
  ASSERT_OK(r);
  EXPECT_EQ(r->options, x.options);
  EXPECT_EQ(r->map->external_port, 40000);
}

TEST(Pcp, OptionRunningPastTheEndIsRefused) {
  auto x = pcp_map_answer();
  x.options.push_back({200, {1, 2, 3, 4}});
  auto b = pcp_wire(x);
  b[60 + 3] = 5; // length 5: one byte more than there is
  expect_refused(b, errc::malformed, "option 200 at offset 60 has length 5");
}

TEST(Pcp, ResponseShorterThanTheHeaderIsRefused) {
  auto b = pcp_wire(pcp_map_answer());
  b.resize(20);
  expect_refused(b, errc::malformed, "20 bytes is shorter than the 24-byte header");
}

TEST(Pcp, ResponseOver1100BytesIsRefused) {
  auto b = pcp_wire(pcp_map_answer());
  b.resize(1104, 0);
  expect_refused(b, errc::message_too_large, "1104 bytes");
}

TEST(Pcp, ResponseNotAMultipleOfFourIsRefused) {
  auto b = pcp_wire(pcp_map_answer());
  b.resize(62, 0);
  expect_refused(b, errc::malformed, "not a multiple of 4");
}

TEST(Pcp, NatPmpAnswerTellsTheClientToFallBack) {
  // A NAT-PMP gateway's "unsupported version" to our MAP request.
  expect_refused(bytes{0, 129, 0, 1, 0, 0, 0, 9}, errc::unsupported_version, "NAT-PMP only");
}

TEST(Pcp, VersionOtherThanTwoIsRefused) {
  auto b = pcp_wire(pcp_map_answer());
  b[0] = 1;
  expect_refused(b, errc::malformed, "version 1 at offset 0");
}

TEST(Pcp, RequestIsRefusedAsNotAResponse) {
  expect_refused(rfc_map_request, errc::malformed, "R bit clear at offset 1");
}

TEST(Pcp, ResponseToAnotherOpcodeIsNotForUs) {
  pcp_response x;
  x.opcode = pcp_opcode::announce;
  expect_refused(pcp_wire(x), errc::not_for_us, "opcode 0 (ANNOUNCE), not the MAP asked",
                 {pcp_opcode::map, std::nullopt});
}

TEST(Pcp, MapResponseWithAnotherNonceIsNotForUs) {
  auto other = client_nonce;
  other[11] ^= 1;
  expect_refused(pcp_wire(pcp_map_answer()), errc::not_for_us, "nonce 0102030405060708090a0b0c",
                 {pcp_opcode::map, other});
}

TEST(Pcp, MapSuccessWithoutMapDataIsRefused) {
  auto x = pcp_map_answer();
  x.map.reset();
  expect_refused(pcp_wire(x), errc::malformed, "0 bytes of opcode data at offset 24");
}

TEST(Pcp, ErrorResponseWithoutMapDataDecodes) {
  pcp_response x;
  x.result = pcp_result::not_authorized;
  x.lifetime = 30;
  auto r = decode_pcp_response(pcp_wire(x), {pcp_opcode::map, client_nonce});
  ASSERT_OK(r);
  EXPECT_EQ(r->result, pcp_result::not_authorized);
  EXPECT_EQ(r->lifetime, 30u);
  EXPECT_FALSE(r->map);
}

TEST(Pcp, PeerResponseIsRefusedAsNotReadHere) {
  auto b = pcp_wire(pcp_map_answer());
  b[1] = 0x80 | 2;
  expect_refused(b, errc::malformed, "opcode 2 (PEER) at offset 1");
}

TEST(Pcp, ResultCodesHaveRfc6887Names) {
  const char* names[] = {"SUCCESS",          "UNSUPP_VERSION",  "NOT_AUTHORIZED",
                         "MALFORMED_REQUEST", "UNSUPP_OPCODE",  "UNSUPP_OPTION",
                         "MALFORMED_OPTION",  "NETWORK_FAILURE", "NO_RESOURCES",
                         "UNSUPP_PROTOCOL",   "USER_EX_QUOTA",  "CANNOT_PROVIDE_EXTERNAL",
                         "ADDRESS_MISMATCH",  "EXCESSIVE_REMOTE_PEERS"};
  for (uint8_t i = 0; i < 14; ++i)
    EXPECT_STREQ(to_string(static_cast<pcp_result>(i)), names[i]) << int{i};
  EXPECT_STREQ(to_string(static_cast<pcp_result>(14)), "unknown result code");
}
