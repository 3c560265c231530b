#include "p2pd/net/util/length_prefix.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"

using namespace p2pd::net;

namespace {

// Cuts `stream` as a pipe with length_prefixed_size as its framer would.
std::vector<std::string> cut(std::string stream, size_t max) {
  std::vector<std::string> out;
  while (!stream.empty()) {
    auto n = length_prefixed_size(stream, max);
    EXPECT_OK(n);
    if (!n || *n == 0 || *n > stream.size())
      break;
    out.push_back(stream.substr(length_prefix_size, *n - length_prefix_size));
    stream.erase(0, *n);
  }
  return out;
}

} // namespace

TEST(LengthPrefix, MessagesWithAnyByteArriveWhole) {
  std::string stream;
  ASSERT_FALSE(append_length_prefixed("one\ntwo", 1 << 20, stream));
  ASSERT_FALSE(append_length_prefixed("", 1 << 20, stream));
  ASSERT_FALSE(append_length_prefixed(std::string("\0\r\n", 3), 1 << 20, stream));
  ASSERT_FALSE(append_length_prefixed(std::string(70000, 'x'), 1 << 20, stream));
  auto msgs = cut(stream, 1 << 20);
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0], "one\ntwo");
  EXPECT_EQ(msgs[1], "");
  EXPECT_EQ(msgs[2], std::string("\0\r\n", 3));
  EXPECT_EQ(msgs[3].size(), 70000u);
}

TEST(LengthPrefix, AnIncompletePrefixAsksForMore) {
  std::string stream;
  ASSERT_FALSE(append_length_prefixed("abc", 100, stream));
  for (size_t n = 0; n < length_prefix_size; ++n)
    EXPECT_EQ(*length_prefixed_size(stream.substr(0, n), 100), 0u) << n;
  EXPECT_EQ(*length_prefixed_size(stream.substr(0, length_prefix_size), 100), stream.size());
}

TEST(LengthPrefix, AnOversizedMessageIsRefusedOnItsPrefix) {
  std::string out;
  EXPECT_EQ(append_length_prefixed(std::string(101, 'x'), 100, out).code, errc::message_too_large);
  EXPECT_TRUE(out.empty());
  auto n = length_prefixed_size(std::string{"\x7f\xff\xff\xff", 4}, 100);
  ASSERT_FALSE(n);
  EXPECT_ERRC(n, errc::malformed);
  EXPECT_NE(n.error().what.find("above the limit of 100"), std::string::npos) << n.error().what;
}
