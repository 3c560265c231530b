#pragma once

// A forked copy of the test process that runs a function: to hold a lock
// while the test tries to take it, to try what the test holds, or to check
// something in a network namespace of its own (netns.hpp). GoogleTest
// assertions in the copy would land in a runner nobody reads, so the child
// reports back one text through a pipe instead, then waits until the test
// releases it (or dies) and exits without running any exit handler.
//
// Fork while the test process has one thread (before a runtime or a server
// thread starts): the child has only the thread that forked. One child at a
// time: a second would inherit the first one's end of its release pipe and
// keep it from exiting.

#include <sys/types.h>

#include <functional>
#include <string>

namespace p2pd::test {

class forked_child {
public:
  /// Forks a child that runs `body`; what `body` returns (or what it threw)
  /// is the child's report.
  explicit forked_child(const std::function<std::string()>& body);
  /// Kills (SIGKILL) and reaps the child if it is still there, so that a
  /// failed assertion leaves no lock holder behind.
  ~forked_child();
  forked_child(const forked_child&) = delete;
  forked_child& operator=(const forked_child&) = delete;

  /// False if the child could not be started (report() says why).
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  /// The child's report, once `body` has returned (blocks until then); ""
  /// if it died first.
  const std::string& report();

  /// Lets the child exit and reaps it; its wait status (as waitpid gives
  /// it), -1 if there is no child.
  int release();
  /// Kills the child with SIGKILL and reaps it; its wait status, -1 if there
  /// is no child.
  int kill();

private:
  int reap();

  pid_t pid_ = -1;
  int report_fd_ = -1; // read end: the child's report, EOF once it is written
  int release_fd_ = -1; // write end: closing it lets the child exit
  bool report_read_ = false;
  std::string report_;
};

/// True for the wait status of a process that exited with status 0.
bool exited_cleanly(int status);

/// A wait status as text: "exited with status 1", "killed by signal 9".
std::string status_text(int status);

} // namespace p2pd::test
