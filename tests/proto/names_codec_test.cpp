// The name service's codec (proto/names_codec): shapes and bounds.
#include <gtest/gtest.h>

#include "p2pd/proto/names.pb.h"
#include "p2pd/proto/names_codec.hpp"

#include "support/expect.hpp"

using namespace p2pd;
using namespace p2pd::wire::names;

namespace {

name_record sample(bool deleted = false) {
  static auto me = std::move(*net::identity::generate());
  return net::names::make_record(me, "alice.p2p", {1, 2, 3}, 7, 1'700'000'000, 3600, deleted);
}

std::vector<uint8_t> raw(const google::protobuf::MessageLite& m) {
  std::vector<uint8_t> out(m.ByteSizeLong());
  m.SerializeToArray(out.data(), static_cast<int>(out.size()));
  return out;
}

} // namespace

TEST(NamesCodec, RequestsRoundTrip) {
  request put;
  put.request_id = 42;
  put.op = op::put;
  put.record = sample();
  auto bytes = encode_request(put);
  ASSERT_OK(bytes);
  auto back = decode_request(*bytes);
  ASSERT_OK(back);
  EXPECT_EQ(back->request_id, 42u);
  EXPECT_EQ(back->op, op::put);
  EXPECT_EQ(back->record, put.record);
  EXPECT_TRUE(net::names::verify_record(back->record));

  request lookup;
  lookup.op = op::lookup;
  lookup.name = "alice.p2p";
  auto lb = encode_request(lookup);
  ASSERT_OK(lb);
  auto lback = decode_request(*lb);
  ASSERT_OK(lback);
  EXPECT_EQ(lback->op, op::lookup);
  EXPECT_EQ(lback->name, "alice.p2p");
}

TEST(NamesCodec, ResponsesRoundTripWithTheirRecord) {
  response r;
  r.request_id = 9;
  r.code = status::ok;
  r.record = sample();
  auto bytes = encode_response(r);
  ASSERT_OK(bytes);
  auto back = decode_response(*bytes);
  ASSERT_OK(back);
  EXPECT_EQ(back->code, status::ok);
  ASSERT_TRUE(back->record);
  EXPECT_EQ(*back->record, *r.record);
}

TEST(NamesCodec, ADeleteMustCarryATombstoneAndAPutMustNot) {
  request del;
  del.op = op::del;
  del.record = sample(false);
  EXPECT_ERRC(encode_request(del), net::errc::invalid_argument);
  del.record = sample(true);
  ASSERT_OK(encode_request(del));
  // A peer that writes the protobuf itself gets the same refusal.
  p2pd::names_wire::name_request m;
  m.set_version(1);
  m.set_min_version(1);
  auto* rec = m.mutable_put()->mutable_record();
  rec->set_owner_key(std::string(32, 'k'));
  rec->set_signature(std::string(64, 's'));
  rec->set_deleted(true);
  EXPECT_ERRC(decode_request(raw(m)), net::errc::malformed);
}

TEST(NamesCodec, OversizedInputIsRefusedBeforeParsing) {
  std::vector<uint8_t> big(max_message_bytes + 1, 0);
  EXPECT_ERRC(decode_request(big), net::errc::message_too_large);
  EXPECT_ERRC(decode_response(big), net::errc::message_too_large);
  request put;
  put.op = op::put;
  put.record = sample();
  put.record.value.assign(max_message_bytes, 1);
  EXPECT_ERRC(encode_request(put), net::errc::message_too_large);
}

TEST(NamesCodec, MalformedInputIsAnErrorValue) {
  std::vector<uint8_t> garbage{0xff, 0xff, 0xff, 0x01};
  EXPECT_ERRC(decode_request(garbage), net::errc::malformed);
  EXPECT_ERRC(decode_response(garbage), net::errc::malformed);
  p2pd::names_wire::name_request m; // versions 0
  EXPECT_ERRC(decode_request(raw(m)), net::errc::malformed);
  m.set_version(1);
  m.set_min_version(1);
  EXPECT_ERRC(decode_request(raw(m)), net::errc::malformed); // no operation
  auto* rec = m.mutable_put()->mutable_record();
  rec->set_owner_key(std::string(31, 'k'));
  rec->set_signature(std::string(64, 's'));
  EXPECT_ERRC(decode_request(raw(m)), net::errc::malformed);
  rec->set_owner_key(std::string(32, 'k'));
  rec->set_signature(std::string(63, 's'));
  EXPECT_ERRC(decode_request(raw(m)), net::errc::malformed);
}

TEST(NamesCodec, ARequestForANewerReaderIsUnsupported) {
  p2pd::names_wire::name_request m;
  m.set_version(p2pd::wire::names::current_version + 1);
  m.set_min_version(p2pd::wire::names::current_version + 1);
  m.set_request_id(77);
  m.mutable_lookup()->set_name("alice.p2p");
  auto bytes = raw(m);
  EXPECT_ERRC(decode_request(bytes), net::errc::unsupported_version);
  EXPECT_EQ(peek_request_id(bytes.data(), bytes.size()), std::optional<uint64_t>{77});
  // A newer writer that older readers understand is read.
  m.set_min_version(p2pd::wire::names::current_version);
  ASSERT_OK(decode_request(raw(m)));
}

TEST(NamesCodec, AResponseOfAnUnknownStatusIsMalformed) {
  p2pd::names_wire::name_response m;
  m.set_version(1);
  m.set_min_version(1);
  m.set_status(static_cast<p2pd::names_wire::name_status>(99));
  EXPECT_ERRC(decode_response(raw(m)), net::errc::malformed);
  m.set_status(p2pd::names_wire::NAME_STATUS_UNSPECIFIED);
  EXPECT_ERRC(decode_response(raw(m)), net::errc::malformed);
}
