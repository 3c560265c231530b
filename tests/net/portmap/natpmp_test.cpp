// The NAT-PMP codec (RFC 6886): requests byte by byte, responses round trip,
// and each way a response is refused (the epoch rule: portmap_epoch_test).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"

#include "p2pd/net/portmap/natpmp.hpp"

using namespace p2pd::net;

namespace {

using bytes = std::vector<uint8_t>;

natpmp_response map_answer() {
  natpmp_response x;
  x.op = natpmp_op::map_udp;
  x.epoch = 3600;
  x.internal_port = 5000;
  x.external_port = 40000;
  x.lifetime = 7200;
  return x;
}

void expect_refused(const bytes& b, natpmp_op asked, errc code, const std::string& text) {
  auto r = decode_natpmp_response(b, asked);
  ASSERT_FALSE(r) << "accepted";
  EXPECT_EQ(r.error().code, code) << to_string(r.error());
  EXPECT_NE(r.error().what.find(text), std::string::npos) << r.error().what;
}

} // namespace

TEST(Natpmp, ExternalAddressRequestIsVersion0Op0) {
  EXPECT_EQ(encode_natpmp_external_address_request(), (bytes{0, 0}));
}

TEST(Natpmp, MapUdpRequestCarriesPortsAndLifetimeInNetworkOrder) {
  natpmp_map_request req{natpmp_op::map_udp, 5000, 5001, 7200};
  auto b = encode_natpmp_map_request(req);
  ASSERT_OK(b);
  EXPECT_EQ(*b, (bytes{0, 1, 0, 0, 0x13, 0x88, 0x13, 0x89, 0x00, 0x00, 0x1c, 0x20}));
}

TEST(Natpmp, MapTcpRequestHasOp2) {
  auto b = encode_natpmp_map_request({natpmp_op::map_tcp, 443, 0, 60});
  ASSERT_OK(b);
  EXPECT_EQ((*b)[1], 2);
}

TEST(Natpmp, DeleteAllRequestHasPortAndLifetimeZero) {
  auto b = encode_natpmp_map_request({natpmp_op::map_udp, 0, 0, 0});
  ASSERT_OK(b);
  EXPECT_EQ(*b, (bytes{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(Natpmp, InternalPortZeroWithALifetimeIsRefused) {
  EXPECT_ERRC(encode_natpmp_map_request({natpmp_op::map_udp, 0, 0, 7200}),
              errc::invalid_argument);
}

TEST(Natpmp, MapRequestWithTheExternalAddressOpIsRefused) {
  EXPECT_ERRC(encode_natpmp_map_request({natpmp_op::external_address, 5000, 0, 7200}),
              errc::invalid_argument);
}

TEST(Natpmp, ExternalAddressResponseRoundTrips) {
  natpmp_response x;
  x.epoch = 1234;
  x.external_ip = ip_address::v4(0xcb007101); // 203.0.113.1
  auto b = encode_natpmp_response(x);
  EXPECT_EQ(b, (bytes{0, 128, 0, 0, 0, 0, 0x04, 0xd2, 203, 0, 113, 1}));
  auto r = decode_natpmp_response(b, natpmp_op::external_address);
  ASSERT_OK(r);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->epoch, 1234u);
  EXPECT_EQ(r->external_ip.to_string(), "203.0.113.1");
}

TEST(Natpmp, MapResponseRoundTrips) {
  auto b = encode_natpmp_response(map_answer());
  ASSERT_EQ(b.size(), 16u);
  EXPECT_EQ(b[1], 129);
  auto r = decode_natpmp_response(b, natpmp_op::map_udp);
  ASSERT_OK(r);
  EXPECT_EQ(r->op, natpmp_op::map_udp);
  EXPECT_EQ(r->epoch, 3600u);
  EXPECT_EQ(r->internal_port, 5000);
  EXPECT_EQ(r->external_port, 40000);
  EXPECT_EQ(r->lifetime, 7200u);
}

TEST(Natpmp, FullSizeErrorResponseKeepsTheInternalPortForMatching) {
  auto x = map_answer();
  x.op = natpmp_op::map_tcp;
  x.result = natpmp_result::not_authorized;
  x.external_port = 0;
  x.lifetime = 0;
  auto r = decode_natpmp_response(encode_natpmp_response(x), natpmp_op::map_tcp);
  ASSERT_OK(r);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->result, natpmp_result::not_authorized);
  EXPECT_EQ(r->internal_port, 5000);
}

TEST(Natpmp, EightByteUnsupportedVersionAnswerDecodes) {
  auto r = decode_natpmp_response(bytes{0, 129, 0, 1, 0, 0, 0, 9}, natpmp_op::map_udp);
  ASSERT_OK(r);
  EXPECT_EQ(r->result, natpmp_result::unsupported_version);
  EXPECT_EQ(r->epoch, 9u);
  EXPECT_EQ(r->external_port, 0);
}

TEST(Natpmp, UnsupportedVersionWithOpZeroOfErratum3618Decodes) {
  auto r = decode_natpmp_response(bytes{0, 0, 0, 1, 0, 0, 0, 9}, natpmp_op::map_tcp);
  ASSERT_OK(r);
  EXPECT_EQ(r->result, natpmp_result::unsupported_version);
  EXPECT_EQ(r->op, natpmp_op::map_tcp);
}

TEST(Natpmp, UnsupportedOpcodeAnswerIsTheRequestSentBack) {
  auto r = decode_natpmp_response(
      bytes{0, 130, 0, 5, 0x13, 0x88, 0x13, 0x89, 0, 0, 0x1c, 0x20}, natpmp_op::map_tcp);
  ASSERT_OK(r);
  EXPECT_EQ(r->result, natpmp_result::unsupported_opcode);
  EXPECT_EQ(r->epoch, 0u);
  EXPECT_EQ(r->internal_port, 5000);
  EXPECT_EQ(r->external_port, 5001);
  EXPECT_EQ(r->lifetime, 7200u);
}

TEST(Natpmp, ResponseShorterThanEightBytesIsRefused) {
  expect_refused(bytes{0, 128, 0, 0, 0, 0, 0}, natpmp_op::external_address, errc::malformed,
                 "7 bytes");
}

TEST(Natpmp, ResponseLongerThanSixteenBytesIsRefused) {
  auto b = encode_natpmp_response(map_answer());
  b.push_back(0);
  expect_refused(b, natpmp_op::map_udp, errc::malformed, "17 bytes");
}

TEST(Natpmp, SuccessResponseOfAnotherOpsSizeIsRefused) {
  auto b = encode_natpmp_response(map_answer());
  b[1] = 128; // an external address answer of 16 bytes
  expect_refused(b, natpmp_op::external_address, errc::malformed, "has 16 bytes, not 12");
}

TEST(Natpmp, ErrorResponseOfNoKnownSizeIsRefused) {
  expect_refused(bytes{0, 129, 0, 3, 0, 0, 0, 9, 0, 0}, natpmp_op::map_udp, errc::malformed,
                 "10 bytes");
}

TEST(Natpmp, VersionOtherThanZeroIsRefused) {
  auto b = encode_natpmp_response(map_answer());
  b[0] = 1;
  expect_refused(b, natpmp_op::map_udp, errc::malformed, "version 1 at offset 0");
}

TEST(Natpmp, Version2AnswerSaysTheGatewaySpeaksPcp) {
  auto b = encode_natpmp_response(map_answer());
  b[0] = 2;
  expect_refused(b, natpmp_op::map_udp, errc::unsupported_version, "speaks PCP");
}

TEST(Natpmp, RequestOpIsRefusedAsNotAResponse) {
  auto b = *encode_natpmp_map_request({natpmp_op::map_udp, 5000, 0, 7200});
  expect_refused(b, natpmp_op::map_udp, errc::malformed, "op 1 at offset 1 has no top bit");
}

TEST(Natpmp, ResponseOpAbove130IsRefused) {
  auto b = encode_natpmp_response(map_answer());
  b[1] = 131;
  expect_refused(b, natpmp_op::map_udp, errc::malformed, "op 131 at offset 1");
}

TEST(Natpmp, ResponseToAnotherOpIsNotForUs) {
  auto b = encode_natpmp_response(map_answer()); // answers map UDP
  expect_refused(b, natpmp_op::map_tcp, errc::not_for_us, "answers op 1");
}

TEST(Natpmp, ResultCodesHaveRfc6886Names) {
  EXPECT_STREQ(to_string(natpmp_result::success), "success");
  EXPECT_STREQ(to_string(natpmp_result::unsupported_version), "unsupported version");
  EXPECT_STREQ(to_string(natpmp_result::not_authorized), "not authorized/refused");
  EXPECT_STREQ(to_string(natpmp_result::network_failure), "network failure");
  EXPECT_STREQ(to_string(natpmp_result::out_of_resources), "out of resources");
  EXPECT_STREQ(to_string(natpmp_result::unsupported_opcode), "unsupported opcode");
  EXPECT_STREQ(to_string(static_cast<natpmp_result>(6)), "unknown result code");
}
