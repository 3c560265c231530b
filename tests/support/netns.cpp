#include "netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>

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

[[noreturn]] void child_main(int report_fd, const std::function<std::string()>& body) {
  std::string report;
  if (::unshare(CLONE_NEWNET) != 0) {
    report = std::string{"unshare(CLONE_NEWNET) failed: "} + std::strerror(errno);
  } else {
    try {
      report = body();
    } catch (const std::exception& e) {
      report = std::string{"exception: "} + e.what();
    } catch (...) {
      report = "unknown exception";
    }
  }
  write_all(report_fd, report);
  ::close(report_fd);
  // _exit: no atexit handlers, no GoogleTest teardown, no flushing of the
  // parent's stdio buffers a second time.
  ::_exit(report.empty() ? 0 : 1);
}

} // namespace

netns_outcome run_in_new_netns(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return {false, std::string{"pipe2() failed: "} + std::strerror(errno)};
  std::fflush(nullptr); // or the child would print the parent's pending output again
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {false, std::string{"fork() failed: "} + std::strerror(errno)};
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], body);
  }
  ::close(fds[1]);
  std::string report;
  char buf[4096];
  for (;;) {
    auto n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    report.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!exited_ok && report.empty())
    report = WIFSIGNALED(status) ? "child killed by signal " + std::to_string(WTERMSIG(status))
                                 : "child exited with " + std::to_string(WEXITSTATUS(status));
  return {exited_ok && report.empty(), report};
}

bool can_create_netns() {
  return ::geteuid() == 0;
}

bool ipv6_enabled() {
  std::ifstream f{"/proc/sys/net/ipv6/conf/lo/disable_ipv6"};
  int disabled = 1;
  return f >> disabled && disabled == 0;
}

std::string sh(const std::string& cmd) {
  // stderr into stdout so the report says why `ip` refused.
  // The newline lets `cmd` end with a here-document.
  FILE* p = ::popen(("(" + cmd + "\n) 2>&1").c_str(), "r");
  if (p == nullptr)
    return "popen() failed for: " + cmd;
  std::string out;
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof(buf), p))
    out.append(buf, n);
  int status = ::pclose(p);
  if (status == 0)
    return {};
  return "command failed (status " + std::to_string(status) + "): " + cmd + "\n" + out;
}

std::string add_nic_cmd(const std::string& name) {
  std::string peer = "veth-" + name;
  return "ip link add " + name + " type veth peer name " + peer + " && ip link set " + peer
         + " up && ip link set " + name + " up";
}

bool child_checks::expect(bool ok, const char* what, const char* file, int line) {
  if (!ok)
    fail(file, line, what);
  return ok;
}

void child_checks::fail(const char* file, int line, const std::string& what) {
  failures_ += std::string{file} + ':' + std::to_string(line) + ": expected " + what + '\n';
}

} // namespace p2pd::test
