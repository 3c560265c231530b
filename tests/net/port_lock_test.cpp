#include "p2pd/net/sock/port_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::ip;

namespace {

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string contents(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0)
      return;
    done += static_cast<size_t>(n);
  }
}

// Reads up to and without '\n', or to EOF.
std::string read_line(int fd) {
  std::string out;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n')
    out += c;
  return out;
}

// A forked child; killed and reaped if the test ends first, so that a failed
// assertion does not leave a lock holder behind.
struct child_process {
  pid_t pid = -1;
  int from_child = -1; // the child's report, one line

  ~child_process() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (from_child >= 0)
      ::close(from_child);
  }

  /// The wait status.
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
};

// Forks a child that runs `body`, sends its result as one line and then
// exits, or stays until killed if `stay` is set. The child uses no GoogleTest
// assertions: they would land in a copy of the runner that nobody reads.
void start_child(child_process& c, const std::function<std::string()>& body, bool stay = false) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  c.pid = ::fork();
  ASSERT_GE(c.pid, 0);
  if (c.pid == 0) {
    ::close(fds[0]);
    write_all(fds[1], body() + "\n");
    while (stay)
      ::pause();
    ::_exit(0); // no atexit handlers, no GoogleTest teardown in the copy
  }
  ::close(fds[1]);
  c.from_child = fds[0];
}

// The child's report of its own acquire: "locked" or the error.
std::string try_lock_report(const std::string& dir, uint16_t port, port_lock* keep = nullptr) {
  auto lock = port_lock::acquire(dir, family::v4, protocol::tcp, ip("127.0.0.1"), port);
  if (!lock)
    return to_string(lock.error());
  if (keep != nullptr)
    *keep = std::move(*lock);
  return "locked";
}

// Every test works in a fresh directory under /tmp, never in the real ~/.p2pd.
class PortLock : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/p2pd-port-lock-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    dir_ = tmp_ + "/data";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(tmp_, ec);
  }

  result<port_lock> lock(uint16_t port, protocol proto = protocol::tcp,
                         std::string_view addr = "127.0.0.1") {
    auto a = ip(addr);
    return port_lock::acquire(dir_, a.fam(), proto, a, port);
  }

  std::string lock_path(const std::string& name) const { return dir_ + "/locks/" + name; }

  std::string tmp_;
  std::string dir_;
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
  EXPECT_EQ(contents(a->path()), std::to_string(::getpid()) + "\n");
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
  EXPECT_EQ(contents(path), std::to_string(::getpid()) + "\n");
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
  child_process c;
  start_child(c, [&] { return try_lock_report(dir_, 8000); });
  std::string report = read_line(c.from_child);
  int status = c.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(report, "p2pd::port_locked: port 8000/tcp on 127.0.0.1 is held by pid "
                      + std::to_string(::getpid()) + " (lock " + a->path() + ")");
  EXPECT_FALSE(lock(8000)); // the child's exit did not release our lock
}

TEST_F(PortLock, IsReleasedWhenTheHolderIsKilled) {
  port_lock keep; // stays empty here; the child's copy holds its lock until it dies
  child_process c;
  start_child(c, [&] { return try_lock_report(dir_, 8000, &keep); }, true);
  ASSERT_EQ(read_line(c.from_child), "locked");
  auto while_held = lock(8000);
  ASSERT_FALSE(while_held);
  EXPECT_ERRC(while_held, errc::port_locked);
  EXPECT_TRUE(contains(while_held.error().what, "held by pid " + std::to_string(c.pid) + " "))
    << while_held.error().what;
  ASSERT_EQ(::kill(c.pid, SIGKILL), 0);
  int status = c.wait(); // the kernel closes a process's files before it can be reaped
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  auto after = lock(8000);
  ASSERT_OK(after);
  EXPECT_EQ(contents(after->path()), std::to_string(::getpid()) + "\n");
}

TEST_F(PortLock, AForkedChildsReleaseDoesNotUnlockTheParent) {
  auto a = lock(8000);
  ASSERT_TRUE(a);
  child_process c;
  start_child(c, [&] {
    a->release(); // the child's copy of the parent's lock
    return std::string{a->held() ? "held" : "released"};
  });
  EXPECT_EQ(read_line(c.from_child), "released");
  c.wait();
  EXPECT_TRUE(a->held());
  EXPECT_FALSE(lock(8000));
}

TEST_F(PortLock, ReleaseUnlocksEvenIfAForkedChildSharesTheDescriptor) {
  auto a = lock(8000);
  ASSERT_TRUE(a);
  child_process c; // inherits the descriptor and keeps it until killed
  start_child(c, [] { return std::string{"up"}; }, true);
  ASSERT_EQ(read_line(c.from_child), "up");
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
  std::string target = tmp_ + "/elsewhere";
  ASSERT_EQ(::symlink(target.c_str(), lock_path("v4_tcp_127.0.0.1_8000.lock").c_str()), 0);
  auto a = lock(8000);
  ASSERT_FALSE(a);
  EXPECT_ERRC(a, errc::io_failed);
  EXPECT_FALSE(std::filesystem::exists(target));
}

} // namespace
