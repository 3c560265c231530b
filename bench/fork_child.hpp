#pragma once

// Runs a measurement in a forked child and hands its fixed-size result back
// over a pipe, with a time limit on the result and on the child's exit. The
// parent must not have started an actor system (threads do not survive fork).

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <type_traits>

#include "sys_util.hpp"

namespace p2pd::bench {

/// Writes all of `data`, retrying on EINTR; gives up silently on an error
/// (the parent then sees a short result).
void write_all(int fd, const void* data, size_t size);

/// Reads `size` bytes from `fd` within `limit`; false on EOF or timeout.
bool read_all(int fd, void* data, size_t size, seconds_d limit);

/// Waits up to `limit` for the child to exit, then kills it. Returns a
/// description of anything but a clean exit.
std::string reap(pid_t pid, seconds_d limit);

/// Runs `body(send)` in a forked child; `send(result)` hands the result to
/// the parent. The child's teardown after that is watched too: a hang there
/// is reported, and the child killed. Error text ends up in Result::error.
template <class Result, class Body>
Result run_in_child(const std::string& label, seconds_d limit, Body&& body) {
  static_assert(std::is_trivially_copyable_v<Result>);
  std::fflush(stdout); // else the child would print the parent's buffer again
  std::cout.flush();
  int fds[2];
  check(::pipe2(fds, O_CLOEXEC), "pipe2");
  pid_t pid = check(::fork(), "fork");
  if (pid == 0) {
    ::close(fds[0]);
    bool sent = false;
    int status = 0;
    auto send = [&](const Result& r) {
      write_all(fds[1], &r, sizeof(r));
      sent = true;
    };
    try {
      body(send);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", label.c_str(), e.what());
      status = 1;
      if (!sent) {
        Result r;
        set_text(r.error, e.what());
        send(r);
      }
    }
    ::close(fds[1]);
    std::fflush(stdout);
    std::cout.flush();
    ::_exit(status);
  }
  ::close(fds[1]);
  Result r;
  bool got = read_all(fds[0], &r, sizeof(r), limit);
  ::close(fds[0]);
  if (!got) {
    ::kill(pid, SIGKILL);
    r = Result{};
    set_text(r.error, label + ": no result within "
                        + std::to_string(static_cast<int>(limit.count()))
                        + " s (hang or crash)");
  }
  auto exit_problem = reap(pid, seconds_d{10});
  if (got && !exit_problem.empty())
    add_text(r.error, label + ": child " + exit_problem);
  return r;
}

} // namespace p2pd::bench
