#include "p2pd/net/util/base32.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace p2pd::net;

namespace {

std::string encode(const std::string& s) {
  return base32_encode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

} // namespace

TEST(base32, encodes_the_rfc_4648_vectors_in_lower_case_without_padding) {
  EXPECT_EQ(encode(""), "");
  EXPECT_EQ(encode("f"), "my");
  EXPECT_EQ(encode("fo"), "mzxq");
  EXPECT_EQ(encode("foo"), "mzxw6");
  EXPECT_EQ(encode("foob"), "mzxw6yq");
  EXPECT_EQ(encode("fooba"), "mzxw6ytb");
  EXPECT_EQ(encode("foobar"), "mzxw6ytboi");
}

TEST(base32, decodes_what_it_encodes) {
  std::vector<uint8_t> out(6);
  EXPECT_FALSE(base32_decode("mzxw6ytboi", out.data()));
  EXPECT_EQ(std::string(out.begin(), out.end()), "foobar");
}

TEST(base32, names_the_first_character_that_is_not_base32) {
  std::vector<uint8_t> out(5);
  auto bad = base32_decode("mzxW6ytb", out.data());
  ASSERT_TRUE(bad);
  EXPECT_EQ(*bad, 3u) << "upper case is not the node id alphabet";
  EXPECT_EQ(base32_value('1'), -1);
  EXPECT_EQ(base32_value('7'), 31);
}
