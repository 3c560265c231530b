#include "p2pd/node/link/hello.hpp"

#include <string>

#include <gtest/gtest.h>

#include "support/expect.hpp"

using namespace p2pd;
using namespace p2pd::node;
using net::errc;

TEST(LinkHello, RoundTrips) {
  hello h{link_version, link_purpose::reverse, 0x0102030405060708};
  auto back = read_hello(encode_hello(h));
  ASSERT_OK(back);
  EXPECT_EQ(*back, h);
}

TEST(LinkHello, AnotherVersionIsToldApartFromGarbage) {
  auto msg = encode_hello({});
  msg[0] = 9;
  msg += "more fields of a newer version";
  auto x = read_hello(msg);
  ASSERT_FALSE(x);
  EXPECT_ERRC(x, errc::unsupported_version);
  EXPECT_NE(x.error().what.find("link version 9"), std::string::npos) << x.error().what;
}

TEST(LinkHello, WrongSizesAndPurposesAreMalformed) {
  auto msg = encode_hello({});
  EXPECT_EQ(read_hello("").error().code, errc::malformed);
  EXPECT_EQ(read_hello(msg.substr(0, 5)).error().code, errc::malformed);
  EXPECT_EQ(read_hello(msg + "x").error().code, errc::malformed);
  msg[1] = 7;
  auto x = read_hello(msg);
  ASSERT_FALSE(x);
  EXPECT_NE(x.error().what.find("unknown purpose 7"), std::string::npos) << x.error().what;
}
