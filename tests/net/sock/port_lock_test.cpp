#include "p2pd/net/sock/port_lock.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/files.hpp"
#include "support/forked_child.hpp"
#include "support/lock_holder.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::exited_cleanly;
using p2pd::test::forked_child;
using p2pd::test::ip;
using p2pd::test::contains;
using p2pd::test::lock_holder;
using p2pd::test::mode_of;
using p2pd::test::read_file;
using p2pd::test::status_text;
using p2pd::test::temp_dir;

namespace {

// Every test works in a fresh directory under /tmp, never in the real ~/.p2pd.
// dir_ does not exist yet: the first lock makes it (and some tests check that
// a refused one did not).
class PortLock : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(tmp_) << "cannot make a temporary directory"; }

  result<port_lock> lock(uint16_t port, protocol proto = protocol::tcp,
                         std::string_view addr = "127.0.0.1") {
    auto a = ip(addr);
    return port_lock::acquire(dir_, a.fam(), proto, a, port);
  }

  std::string lock_path(const std::string& name) const { return dir_ + "/locks/" + name; }

  temp_dir tmp_{"p2pd-port-lock-test-"};
  std::string dir_ = tmp_.path() + "/data";
};

TEST_F(PortLock, AcquireReleaseReacquire) {
  auto a = lock(8000);
  ASSERT_OK(a);
  EXPECT_TRUE(a->held());
  EXPECT_EQ(a->path(), lock_path("v4_tcp_127.0.0.1_8000.lock"));
  a->release();
  EXPECT_FALSE(a->held());
  EXPECT_EQ(a->path(), "");
  a->release(); // twice is harmless
  {
    auto b = lock(8000);
    ASSERT_OK(b);
  } // the destructor releases
  auto c = lock(8000);
  EXPECT_OK(c);
}

TEST_F(PortLock, CreatesPrivateDirectoriesAndA0600FileWithThePid) {
  auto a = lock(8000);
  ASSERT_OK(a);
  EXPECT_EQ(mode_of(dir_), 0700u);
  EXPECT_EQ(mode_of(dir_ + "/locks"), 0700u);
  EXPECT_EQ(mode_of(a->path()), 0600u);
  EXPECT_EQ(read_file(a->path()), std::to_string(::getpid()) + "\n");
}

TEST_F(PortLock, ReleaseKeepsTheFile) {
  auto a = lock(8000);
  ASSERT_TRUE(a);
  std::string path = a->path();
  a->release();
  EXPECT_TRUE(std::filesystem::exists(path)); // unlinking would race, see port_lock.cpp
}

TEST_F(PortLock, OverwritesALongerOldPid) {
  auto a = lock(8000);
  ASSERT_TRUE(a);
  std::string path = a->path();
  a->release();
  std::ofstream{path} << "1234567890123\n";
  ASSERT_TRUE(lock(8000));
  EXPECT_EQ(read_file(path), std::to_string(::getpid()) + "\n");
}

TEST_F(PortLock, SecondAcquireInTheSameProcessFails) {
  auto a = lock(8000);
  ASSERT_TRUE(a);
  auto b = lock(8000);
  ASSERT_FALSE(b);
  EXPECT_ERRC(b, errc::port_locked);
  EXPECT_EQ(b.error().what, "port 8000/tcp on 127.0.0.1 is held by pid "
                              + std::to_string(::getpid()) + " (this process, lock "
                              + a->path() + ")");
  EXPECT_TRUE(a->held()); // the failed attempt did not disturb the holder
  EXPECT_FALSE(lock(8000));
}

TEST_F(PortLock, MovesTransferTheLock) {
  auto a = lock(8000);
  ASSERT_TRUE(a);
  port_lock b = std::move(*a);
  EXPECT_FALSE(a->held());
  EXPECT_TRUE(b.held());
  port_lock c;
  EXPECT_FALSE(c.held());
  c = std::move(b);
  EXPECT_TRUE(c.held());
  EXPECT_FALSE(lock(8000)); // still held, by c
  auto d = lock(8001);
  ASSERT_TRUE(d);
  *d = std::move(c); // releases 8001, takes over 8000
  EXPECT_TRUE(lock(8001));
  EXPECT_FALSE(lock(8000));
  d->release();
  EXPECT_TRUE(lock(8000));
}

TEST_F(PortLock, AnotherProcessCannotTakeItWhileHeld) {
  auto a = lock(8000);
  ASSERT_TRUE(a);
  lock_holder other{dir_, 8000};
  std::string report = other.report();
  int status = other.release();
  ASSERT_TRUE(exited_cleanly(status)) << status_text(status);
  EXPECT_EQ(report, "p2pd::port_locked: port 8000/tcp on 127.0.0.1 is held by pid "
                      + std::to_string(::getpid()) + " (lock " + a->path() + ")");
  EXPECT_FALSE(lock(8000)); // the child's exit did not release our lock
}

TEST_F(PortLock, IsReleasedWhenTheHolderIsKilled) {
  lock_holder other{dir_, 8000};
  ASSERT_EQ(other.report(), "locked");
  auto while_held = lock(8000);
  ASSERT_FALSE(while_held);
  EXPECT_ERRC(while_held, errc::port_locked);
  EXPECT_TRUE(contains(while_held.error().what, "held by pid " + std::to_string(other.pid()) + " "))
    << while_held.error().what;
  int status = other.kill(); // the kernel closes a process's files before it can be reaped
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status_text(status);
  auto after = lock(8000);
  ASSERT_OK(after);
  EXPECT_EQ(read_file(after->path()), std::to_string(::getpid()) + "\n");
}

TEST_F(PortLock, AForkedChildsReleaseDoesNotUnlockTheParent) {
  auto a = lock(8000);
  ASSERT_TRUE(a);
  forked_child c{[&] {
    a->release(); // the child's copy of the parent's lock
    return std::string{a->held() ? "held" : "released"};
  }};
  EXPECT_EQ(c.report(), "released");
  c.release();
  EXPECT_TRUE(a->held());
  EXPECT_FALSE(lock(8000));
}

TEST_F(PortLock, ReleaseUnlocksEvenIfAForkedChildSharesTheDescriptor) {
  auto a = lock(8000);
  ASSERT_TRUE(a);
  forked_child c{[] { return std::string{"up"}; }}; // inherits the descriptor, keeps it until killed
  ASSERT_EQ(c.report(), "up");
  a->release();
  auto b = lock(8000);
  EXPECT_OK(b);
}

TEST_F(PortLock, DistinctKeysDoNotConflict) {
  std::vector<port_lock> held;
  auto take = [&](uint16_t port, protocol proto, std::string_view addr) {
    auto l = lock(port, proto, addr);
    ASSERT_OK(l) << addr << " " << port;
    held.push_back(std::move(*l));
  };
  take(8000, protocol::tcp, "127.0.0.1");
  take(8000, protocol::udp, "127.0.0.1"); // protocol
  take(8001, protocol::tcp, "127.0.0.1"); // port
  take(8000, protocol::tcp, "127.0.0.2"); // IP
  take(8000, protocol::tcp, "0.0.0.0");   // the wildcard is a key of its own
  take(8000, protocol::tcp, "::1");       // family
  take(8000, protocol::tcp, "::ffff:127.0.0.1");
  take(8000, protocol::tcp, "fe80::1");   // scope ids
  take(8000, protocol::tcp, "fe80::1%1");
  take(8000, protocol::tcp, "fe80::1%2");
  EXPECT_EQ(held.size(), 10u);
  for (auto& l : held)
    EXPECT_TRUE(l.held());
  EXPECT_FALSE(lock(8000, protocol::tcp, "fe80::1%2"));
}

TEST_F(PortLock, Ipv6FileNamesArePortableAndKeepTheScope) {
  EXPECT_EQ(port_lock::file_name(family::v6, protocol::udp, ip("fe80::1%3"), 8000),
            "v6_udp_fe80--1-scope3_8000.lock");
  EXPECT_EQ(port_lock::file_name(family::v6, protocol::tcp, ip("::1"), 443),
            "v6_tcp_--1_443.lock");
  EXPECT_EQ(port_lock::file_name(family::v6, protocol::tcp, ip("::ffff:1.2.3.4"), 80),
            "v6_tcp_--ffff-1.2.3.4_80.lock");
  EXPECT_EQ(port_lock::file_name(family::v4, protocol::udp, ip("10.0.0.1"), 65535),
            "v4_udp_10.0.0.1_65535.lock");

  auto a = lock(8000, protocol::udp, "fe80::1%3");
  ASSERT_OK(a);
  EXPECT_EQ(a->path(), lock_path("v6_udp_fe80--1-scope3_8000.lock"));
  EXPECT_EQ(mode_of(a->path()), 0600u);
  auto b = lock(8000, protocol::udp, "fe80::1%3");
  ASSERT_FALSE(b);
  EXPECT_TRUE(contains(b.error().what, "port 8000/udp on fe80::1%3 is held by pid"))
    << b.error().what;
}

TEST_F(PortLock, PortZeroIsRejected) {
  auto a = lock(0);
  ASSERT_FALSE(a);
  EXPECT_ERRC(a, errc::invalid_argument);
  EXPECT_TRUE(contains(a.error().what, "lock after binding")) << a.error().what;
  EXPECT_FALSE(std::filesystem::exists(dir_)); // rejected before touching anything
}

TEST_F(PortLock, AFamilyThatIsNotTheAddresssIsRejected) {
  auto a = port_lock::acquire(dir_, family::v6, protocol::tcp, ip("127.0.0.1"), 8000);
  ASSERT_FALSE(a);
  EXPECT_ERRC(a, errc::invalid_argument);
}

TEST_F(PortLock, RefusesAnUnsafeDataDirectory) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  auto a = lock(8000);
  ASSERT_FALSE(a);
  EXPECT_ERRC(a, errc::invalid_argument);
  EXPECT_TRUE(contains(a.error().what, "data directory " + dir_ + " is world-writable"))
    << a.error().what;
}

TEST_F(PortLock, RefusesAnUnsafeLockDirectory) {
  ASSERT_TRUE(lock(8000));
  ASSERT_EQ(::chmod((dir_ + "/locks").c_str(), 0775), 0);
  auto a = lock(8000);
  ASSERT_FALSE(a);
  EXPECT_ERRC(a, errc::invalid_argument);
  EXPECT_TRUE(contains(a.error().what, "lock directory " + dir_ + "/locks is group-writable"))
    << a.error().what;
}

TEST_F(PortLock, RefusesASymlinkAsLockFile) {
  // The locks directory is private, so only the user can plant one; still, a
  // lock must never create or lock a file somewhere else.
  ASSERT_TRUE(lock(8001));
  std::string target = tmp_.path() + "/elsewhere";
  ASSERT_EQ(::symlink(target.c_str(), lock_path("v4_tcp_127.0.0.1_8000.lock").c_str()), 0);
  auto a = lock(8000);
  ASSERT_FALSE(a);
  EXPECT_ERRC(a, errc::io_failed);
  EXPECT_FALSE(std::filesystem::exists(target));
}

} // namespace
