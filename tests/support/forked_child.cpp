#include "forked_child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

namespace p2pd::test {

namespace {

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    auto n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    done += static_cast<size_t>(n);
  }
}

[[noreturn]] void child_main(int report_fd, int release_fd,
                             const std::function<std::string()>& body) {
  std::string report;
  try {
    report = body();
  } catch (const std::exception& e) {
    report = std::string{"exception: "} + e.what();
  } catch (...) {
    report = "unknown exception";
  }
  write_all(report_fd, report);
  ::close(report_fd); // the parent reads up to EOF
  // Blocks until the parent closes its end (release(), or its death).
  char c;
  while (::read(release_fd, &c, 1) < 0 && errno == EINTR) {
  }
  // _exit: no atexit handlers, no GoogleTest teardown, no flushing of the
  // parent's stdio buffers a second time; what `body` held (a lock, a
  // namespace) goes with the process.
  ::_exit(0);
}

} // namespace

forked_child::forked_child(const std::function<std::string()>& body) {
  int report[2];
  int release[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    report_ = std::string{"pipe2() failed: "} + std::strerror(errno);
    report_read_ = true;
    return;
  }
  if (::pipe2(release, O_CLOEXEC) != 0) {
    report_ = std::string{"pipe2() failed: "} + std::strerror(errno);
    report_read_ = true;
    ::close(report[0]);
    ::close(report[1]);
    return;
  }
  std::fflush(nullptr); // or the child would print the parent's pending output again
  pid_ = ::fork();
  if (pid_ == 0) {
    ::close(report[0]);
    ::close(release[1]);
    child_main(report[1], release[0], body);
  }
  ::close(report[1]);
  ::close(release[0]);
  if (pid_ < 0) {
    report_ = std::string{"fork() failed: "} + std::strerror(errno);
    report_read_ = true;
    ::close(report[0]);
    ::close(release[1]);
    return;
  }
  report_fd_ = report[0];
  release_fd_ = release[1];
}

forked_child::~forked_child() {
  kill();
  if (report_fd_ >= 0)
    ::close(report_fd_);
}

const std::string& forked_child::report() {
  if (report_read_)
    return report_;
  report_read_ = true;
  char buf[4096];
  for (;;) {
    auto n = ::read(report_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    report_.append(buf, static_cast<size_t>(n));
  }
  return report_;
}

int forked_child::release() {
  if (release_fd_ >= 0) {
    // Closing, not writing: a write to a child that died would be SIGPIPE.
    ::close(release_fd_);
    release_fd_ = -1;
  }
  return reap();
}

int forked_child::kill() {
  if (pid_ > 0)
    ::kill(pid_, SIGKILL); // our unreaped child: the pid cannot be anyone else's
  return release();
}

int forked_child::reap() {
  if (pid_ <= 0)
    return -1;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return status;
}

bool exited_cleanly(int status) {
  return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string status_text(int status) {
  if (status < 0)
    return "no child";
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

} // namespace p2pd::test
