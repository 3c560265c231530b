#include "p2pd/net/util/data_dir.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/files.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"

using namespace p2pd::net;
using p2pd::test::mode_of;
using p2pd::test::temp_dir;

namespace {

// Sets or unsets an environment variable for one scope, then restores it.
class scoped_env {
public:
  scoped_env(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

private:
  const char* name_;
  std::optional<std::string> old_;
};

// Every test works in a fresh directory under /tmp, never in the real ~/.p2pd.
class DataDir : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(dir_) << "cannot make a temporary directory"; }

  temp_dir dir_{"p2pd-data-dir-test-"};
  const std::string tmp_ = dir_.path();
};

TEST_F(DataDir, CreatesMissingDirectoryAndParentsWithMode0700) {
  auto old_umask = ::umask(0277); // would leave 0500 without the explicit chmod
  auto dir = open_data_dir(tmp_ + "/a/b/p2pd");
  ::umask(old_umask);
  ASSERT_OK(dir);
  EXPECT_EQ(*dir, tmp_ + "/a/b/p2pd");
  EXPECT_EQ(mode_of(tmp_ + "/a"), 0700u);
  EXPECT_EQ(mode_of(tmp_ + "/a/b"), 0700u);
  EXPECT_EQ(mode_of(*dir), 0700u);
}

TEST_F(DataDir, OpensAnExistingPrivateDirectoryAgain) {
  ASSERT_TRUE(open_data_dir(tmp_ + "/d"));
  auto again = open_data_dir(tmp_ + "/d/"); // trailing slash dropped
  ASSERT_OK(again);
  EXPECT_EQ(*again, tmp_ + "/d");
}

TEST_F(DataDir, AcceptsAReadableButNotWritableDirectory) {
  // 0755 shows file names only; see the policy in data_dir.hpp.
  std::string d = tmp_ + "/d";
  ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(d.c_str(), 0755), 0);
  auto dir = open_data_dir(d);
  EXPECT_OK(dir);
  EXPECT_EQ(mode_of(d), 0755u); // not changed behind the user's back
}

TEST_F(DataDir, RefusesAWorldWritableDirectory) {
  std::string d = tmp_ + "/d";
  ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(d.c_str(), 0777), 0);
  auto dir = open_data_dir(d);
  ASSERT_FALSE(dir);
  EXPECT_ERRC(dir, errc::invalid_argument);
  EXPECT_EQ(dir.error().what, "data directory " + d
                                + " is world-writable (mode 0777); refusing to keep locks "
                                  "and keys there");
}

TEST_F(DataDir, RefusesAStickyWorldWritableDirectory) {
  std::string d = tmp_ + "/d"; // like /tmp: others still create names in it
  ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(d.c_str(), 01777), 0);
  auto dir = open_data_dir(d);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().what.find("world-writable (mode 1777)"), std::string::npos)
    << dir.error().what;
}

TEST_F(DataDir, RefusesAGroupWritableDirectory) {
  std::string d = tmp_ + "/d";
  ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(d.c_str(), 0770), 0);
  auto dir = open_data_dir(d);
  ASSERT_FALSE(dir);
  EXPECT_ERRC(dir, errc::invalid_argument);
  EXPECT_NE(dir.error().what.find("group-writable (mode 0770)"), std::string::npos)
    << dir.error().what;
}

TEST_F(DataDir, RefusesAFile) {
  std::string f = tmp_ + "/file";
  std::ofstream{f} << "x";
  auto dir = open_data_dir(f);
  ASSERT_FALSE(dir);
  EXPECT_ERRC(dir, errc::invalid_argument);
  EXPECT_EQ(dir.error().what, "data directory " + f
                                + " is not a directory; refusing to keep locks and keys there");
}

TEST_F(DataDir, RefusesAPathBelowAFile) {
  std::string f = tmp_ + "/file";
  std::ofstream{f} << "x";
  auto dir = open_data_dir(f + "/p2pd");
  ASSERT_FALSE(dir);
  EXPECT_ERRC(dir, errc::io_failed);
  EXPECT_NE(dir.error().what.find("ENOTDIR"), std::string::npos) << dir.error().what;
}

TEST_F(DataDir, RefusesADirectoryOfAnotherUser) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to give a directory away";
  std::string d = tmp_ + "/d";
  ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
  ASSERT_EQ(::chown(d.c_str(), 65534, 65534), 0);
  auto dir = open_data_dir(d);
  ASSERT_FALSE(dir);
  EXPECT_ERRC(dir, errc::invalid_argument);
  EXPECT_EQ(dir.error().what, "data directory " + d
                                + " is owned by uid 65534, not by this user (uid 0); refusing "
                                  "to keep locks and keys there");
}

TEST_F(DataDir, AcceptsASymlinkToAPrivateDirectory) {
  std::string real = tmp_ + "/real", link = tmp_ + "/link";
  ASSERT_EQ(::mkdir(real.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  auto dir = open_data_dir(link);
  ASSERT_OK(dir);
  EXPECT_EQ(*dir, link); // the user's spelling
}

TEST_F(DataDir, HonoursTheEnvironmentVariable) {
  scoped_env env{data_dir_env, tmp_ + "/from-env"};
  auto dir = open_data_dir();
  ASSERT_OK(dir);
  EXPECT_EQ(*dir, tmp_ + "/from-env");
  EXPECT_EQ(mode_of(*dir), 0700u);
}

TEST_F(DataDir, AnExplicitPathBeatsTheEnvironment) {
  scoped_env env{data_dir_env, tmp_ + "/from-env"};
  auto dir = resolve_data_dir(tmp_ + "/explicit");
  ASSERT_TRUE(dir);
  EXPECT_EQ(*dir, tmp_ + "/explicit");
}

TEST_F(DataDir, HomeDotP2pdIsTheDefault) {
  scoped_env env{data_dir_env, std::nullopt};
  scoped_env home{"HOME", tmp_};
  auto dir = open_data_dir();
  ASSERT_OK(dir);
  EXPECT_EQ(*dir, tmp_ + "/.p2pd");
  EXPECT_EQ(mode_of(*dir), 0700u);
}

TEST_F(DataDir, AnEmptyVariableCountsAsUnset) {
  scoped_env env{data_dir_env, std::string{}};
  scoped_env home{"HOME", tmp_};
  auto dir = resolve_data_dir();
  ASSERT_TRUE(dir);
  EXPECT_EQ(*dir, tmp_ + "/.p2pd");
}

TEST_F(DataDir, FallsBackToThePasswordDatabaseWithoutHome) {
  scoped_env env{data_dir_env, std::nullopt};
  scoped_env home{"HOME", std::nullopt};
  auto dir = resolve_data_dir(); // resolve only: this is the real home
  ASSERT_OK(dir);
  const passwd* pw = ::getpwuid(::geteuid());
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(*dir, std::string{pw->pw_dir} + "/.p2pd");
}

TEST_F(DataDir, MakesARelativePathAbsolute) {
  auto dir = resolve_data_dir(std::string{"rel/p2pd"});
  ASSERT_TRUE(dir);
  EXPECT_EQ(*dir, std::filesystem::current_path().string() + "/rel/p2pd");
}

TEST_F(DataDir, RejectsAnEmptyPath) {
  auto dir = open_data_dir(std::string{});
  ASSERT_FALSE(dir);
  EXPECT_ERRC(dir, errc::invalid_argument);
}

} // namespace
