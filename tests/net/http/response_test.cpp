#include "p2pd/net/http/response.hpp"

#include <gtest/gtest.h>

using namespace p2pd::net::http;

TEST(HttpResponse, SerializesStatusHeadersLengthAndBody) {
  response r;
  r.status = 404;
  r.set("Content-Type", "application/json").set("Content-Type", "text/plain");
  r.body = "gone";
  EXPECT_EQ(serialize(r, true),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\ngone");
  EXPECT_EQ(serialize(r, false),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
            "Connection: close\r\n\r\ngone");
}

TEST(HttpResponse, HeadersWithLineBreaksAreDropped) {
  response r;
  r.set("X-Ok", "1").set("X-Bad", "a\r\nSet-Cookie: x").set("X\nY", "2");
  auto out = serialize(r, true);
  EXPECT_NE(out.find("X-Ok: 1\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(out.find("X\nY"), std::string::npos);
}

TEST(HttpResponse, ReasonPhrasesOfTheStatusesTheApiUses) {
  EXPECT_EQ(reason(413), "Content Too Large");
  EXPECT_EQ(reason(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason(799), "Unknown");
}

TEST(HttpUrl, PercentDecodingAndQueryParameters) {
  EXPECT_EQ(percent_decode("a%20b%2Fc").value_or("?"), "a b/c");
  EXPECT_EQ(percent_decode("a+b", true).value_or("?"), "a b");
  EXPECT_EQ(percent_decode("a+b").value_or("?"), "a+b");
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("abc%"));
  EXPECT_EQ(query_param("timeout=2.5&x=%41", "x").value_or("?"), "A");
  EXPECT_EQ(query_param("timeout=2.5&x=%41", "timeout").value_or("?"), "2.5");
  EXPECT_FALSE(query_param("timeout=2.5", "y"));
  EXPECT_EQ(query_param("flag", "flag").value_or("?"), "");
}
