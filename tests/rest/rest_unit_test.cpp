// The REST API's pure parts: the token file and the request checks.

#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "p2pd/rest/rest_guard.hpp"
#include "p2pd/rest/rest_token.hpp"

#include "support/expect.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace p2pd::test {

TEST(RestToken, IsCreatedOnce0600AndReadAgain) {
  temp_dir d;
  auto t = rest::load_or_create_token(d.path());
  ASSERT_OK(t);
  EXPECT_EQ(t->token.size(), 64u);
  EXPECT_EQ(t->path, d.path() + "/rest_token");
  EXPECT_EQ(mode_of(t->path), mode_t{0600});
  auto again = rest::load_or_create_token(d.path());
  ASSERT_OK(again);
  EXPECT_EQ(again->token, t->token);
  temp_dir other;
  auto fresh = rest::load_or_create_token(other.path());
  ASSERT_OK(fresh);
  EXPECT_NE(fresh->token, t->token);
}

TEST(RestToken, AFileOthersCanReadIsRefused) {
  temp_dir d;
  auto t = rest::load_or_create_token(d.path());
  ASSERT_OK(t);
  ASSERT_EQ(::chmod(t->path.c_str(), 0644), 0);
  auto r = rest::load_or_create_token(d.path());
  ASSERT_ERRC(r, net::errc::bad_key_file);
  EXPECT_NE(r.error().what.find("0644"), std::string::npos);
}

TEST(RestToken, AFileWithoutATokenIsRefused) {
  temp_dir d;
  auto path = d.path() + "/rest_token";
  std::ofstream(path) << "not a token\n";
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_ERRC(rest::load_or_create_token(d.path()), net::errc::bad_key_file);
}

TEST(RestGuard, HostsAndOriginsOfTheServerOnly) {
  EXPECT_TRUE(rest::host_allowed("127.0.0.1:12333", 12333));
  EXPECT_TRUE(rest::host_allowed("[::1]:12333", 12333));
  EXPECT_TRUE(rest::host_allowed("LocalHost:12333", 12333));
  EXPECT_FALSE(rest::host_allowed("127.0.0.1", 12333));
  EXPECT_FALSE(rest::host_allowed("127.0.0.1:12334", 12333));
  EXPECT_FALSE(rest::host_allowed("evil.example:12333", 12333));
  EXPECT_FALSE(rest::host_allowed("127.0.0.1:12333.evil", 12333));
  EXPECT_TRUE(rest::origin_allowed("http://127.0.0.1:80", 80));
  EXPECT_TRUE(rest::origin_allowed("http://[::1]:80", 80));
  EXPECT_FALSE(rest::origin_allowed("https://127.0.0.1:80", 80));
  EXPECT_FALSE(rest::origin_allowed("null", 80));
  EXPECT_FALSE(rest::origin_allowed("http://127.0.0.1:80/", 80));
}

TEST(RestGuard, BearerTokens) {
  std::string tok(64, 'a');
  EXPECT_TRUE(rest::bearer_ok("Bearer " + tok, tok));
  EXPECT_TRUE(rest::bearer_ok("bearer " + tok, tok));
  EXPECT_FALSE(rest::bearer_ok("Bearer " + tok + "a", tok));
  EXPECT_FALSE(rest::bearer_ok("Basic " + tok, tok));
  EXPECT_FALSE(rest::bearer_ok(std::nullopt, tok));
  EXPECT_FALSE(rest::bearer_ok("Bearer ", ""));
  EXPECT_TRUE(rest::constant_time_equal("abc", "abc"));
  EXPECT_FALSE(rest::constant_time_equal("abc", "abd"));
  EXPECT_FALSE(rest::constant_time_equal("abc", "ab"));
}

} // namespace p2pd::test
