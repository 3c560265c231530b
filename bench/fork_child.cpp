#include "fork_child.hpp"

#include <poll.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <thread>

namespace p2pd::bench {

void write_all(int fd, const void* data, size_t size) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    auto n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

bool read_all(int fd, void* data, size_t size, seconds_d limit) {
  auto deadline = clk::now() + std::chrono::duration_cast<clk::duration>(limit);
  auto* p = static_cast<char*>(data);
  size_t got = 0;
  while (got < size) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clk::now());
    if (left.count() <= 0)
      return false;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
      continue;
    auto n = ::read(fd, p + got, size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

std::string reap(pid_t pid, seconds_d limit) {
  auto deadline = clk::now() + std::chrono::duration_cast<clk::duration>(limit);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (clk::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return "did not exit within " + std::to_string(static_cast<int>(limit.count()))
             + " s of reporting; killed";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status));
  if (WEXITSTATUS(status) != 0)
    return "exit status " + std::to_string(WEXITSTATUS(status));
  return {};
}

} // namespace p2pd::bench
