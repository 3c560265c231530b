#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>

extern char** environ;

namespace p2pd::test {

child_process::child_process(child_process&& other) noexcept : pid_(other.pid_) {
  other.pid_ = -1;
}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

child_process::~child_process() {
  stop();
}

bool child_process::start(const std::vector<std::string>& argv, const std::string& log_path,
                          std::string& why) {
  stop();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    why = "cannot start " + argv[0] + ": " + std::strerror(rc);
    return false;
  }
  pid_ = pid;
  return true;
}

bool child_process::alive() {
  if (pid_ <= 0)
    return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

bool child_process::wait_exit(int timeout_ms) {
  if (pid_ <= 0)
    return true;
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pfd >= 0) {
    pollfd p{pfd, POLLIN, 0};
    ::poll(&p, 1, timeout_ms);
    ::close(pfd);
  }
  return !alive();
}

bool child_process::wait_for_text(const std::string& path, const std::string& needle,
                                  size_t from, int timeout_ms) {
  auto found = [&] {
    auto text = read_file(path);
    return text.size() > from && text.find(needle, from) != std::string::npos;
  };
  int ino = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (ino < 0)
    return found();
  ::inotify_add_watch(ino, path.c_str(), IN_MODIFY);
  int pfd = pid_ > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)) : -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool ok = false;
  // The watch comes before the first look, so no write between them is missed.
  while (!(ok = found())) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    pollfd fds[2] = {{ino, POLLIN, 0}, {pfd, POLLIN, 0}};
    if (::poll(fds, pfd >= 0 ? 2 : 1, static_cast<int>(left.count())) <= 0)
      continue;
    if (fds[1].revents != 0) {
      ok = found();
      break;
    }
    char buf[4096];
    while (::read(ino, buf, sizeof(buf)) > 0) {
    }
  }
  if (pfd >= 0)
    ::close(pfd);
  ::close(ino);
  return ok;
}

void child_process::stop() {
  if (pid_ <= 0)
    return;
  // A pidfd becomes readable when the process exits: a bounded wait (5 s)
  // without polling.
  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  ::kill(pid_, SIGTERM);
  if (pfd >= 0) {
    pollfd p{pfd, POLLIN, 0};
    ::poll(&p, 1, 5000);
    ::close(pfd);
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return;
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool have_program(const std::string& tool) {
  if (tool.find('/') != std::string::npos)
    return ::access(tool.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream dirs{path ? path : "/usr/bin:/bin"};
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + tool).c_str(), X_OK) == 0)
      return true;
  // Debian puts daemons (mosquitto) in sbin, which a user's PATH may lack.
  for (const char* sbin : {"/usr/sbin/", "/sbin/"})
    if (::access((std::string{sbin} + tool).c_str(), X_OK) == 0)
      return true;
  return false;
}

} // namespace p2pd::test
