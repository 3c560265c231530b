#include "p2pd/node/link/frame.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace p2pd;
using namespace p2pd::node;
using net::errc;

namespace {

// Cuts `stream` into frames as a pipe with frame_size as its framer would.
std::vector<std::string> cut(std::string stream, size_t max = default_max_message) {
  std::vector<std::string> out;
  while (!stream.empty()) {
    auto n = frame_size(stream, max);
    EXPECT_TRUE(n) << n.error().what;
    if (!n || *n == 0 || *n > stream.size())
      break;
    out.push_back(stream.substr(0, *n));
    stream.erase(0, *n);
  }
  return out;
}

} // namespace

TEST(LinkFrame, AHelloRoundTrips) {
  hello h{link_version, link_purpose::reverse, 0x0102030405060708};
  auto f = read_frame(encode_hello(h));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, frame_type::hello);
  auto back = read_hello(f->body);
  ASSERT_TRUE(back) << back.error().what;
  EXPECT_EQ(*back, h);
}

TEST(LinkFrame, MessagesWithNewlinesArriveWhole) {
  std::string stream = encode_hello({});
  ASSERT_FALSE(append_data_frame("one\ntwo", default_max_message, stream));
  ASSERT_FALSE(append_data_frame("", default_max_message, stream));
  ASSERT_FALSE(append_data_frame(std::string(70000, 'x'), default_max_message, stream));
  auto frames = cut(stream);
  ASSERT_EQ(frames.size(), 4u);
  auto second = read_frame(frames[1]);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, frame_type::data);
  EXPECT_EQ(second->body, "one\ntwo");
  EXPECT_EQ(read_frame(frames[2])->body, "");
  EXPECT_EQ(read_frame(frames[3])->body.size(), 70000u);
}

TEST(LinkFrame, AnIncompleteHeaderAsksForMore) {
  std::string stream;
  ASSERT_FALSE(append_data_frame("abc", default_max_message, stream));
  for (size_t n = 0; n < frame_header; ++n)
    EXPECT_EQ(*frame_size(stream.substr(0, n), default_max_message), 0u) << n;
  EXPECT_EQ(*frame_size(stream.substr(0, frame_header), default_max_message), stream.size());
}

TEST(LinkFrame, AnOversizedMessageIsRefusedOnItsHeader) {
  std::string out;
  auto err = append_data_frame(std::string(101, 'x'), 100, out);
  EXPECT_EQ(err.code, errc::message_too_large);
  EXPECT_TRUE(out.empty());
  // The peer's header alone is enough to refuse it: nothing is buffered.
  std::string header{"\x7f\xff\xff\xff\x02", 5};
  auto n = frame_size(header, 100);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, errc::malformed);
  EXPECT_NE(n.error().what.find("above the limit of 100"), std::string::npos) << n.error().what;
}

TEST(LinkFrame, EmptyAndUnknownFramesAreMalformed) {
  auto empty = frame_size(std::string{"\0\0\0\0\x02", 5}, 100);
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().what.find("length 0"), std::string::npos);
  auto unknown = frame_size(std::string{"\0\0\0\x01\x09", 5}, 100);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().what.find("unknown type 9"), std::string::npos);
  EXPECT_FALSE(read_frame(std::string{"\0\0\0\x05\x02", 5})); // says 5, has 1
}

TEST(LinkFrame, BadHellosAreRefusedWithAReason) {
  auto body = read_frame(encode_hello({}))->body;
  auto wrong_version = std::string{body};
  wrong_version[0] = 9;
  EXPECT_EQ(read_hello(wrong_version).error().code, errc::unsupported_version);
  auto short_one = std::string{body.substr(0, 5)};
  EXPECT_EQ(read_hello(short_one).error().code, errc::malformed);
  auto bad_purpose = std::string{body};
  bad_purpose[1] = 7;
  EXPECT_NE(read_hello(bad_purpose).error().what.find("unknown purpose 7"), std::string::npos);
  EXPECT_EQ(read_hello("").error().code, errc::malformed);
}
