#pragma once

// How the tools and examples that serve until stopped wait for SIGINT or
// SIGTERM: the signals are blocked before the runtime starts its threads
// (which inherit the mask), so that only the main thread's sigwait sees them.

#include <csignal>

#include <pthread.h>

namespace p2pd::examples {

/// Blocks SIGINT and SIGTERM in the calling thread and returns their set;
/// call it before the runtime starts. Default dispositions first: a shell
/// starts background jobs with SIGINT ignored, and an ignored signal never
/// reaches sigwait.
inline sigset_t block_stop_signals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  return stop;
}

/// Waits until one of `stop` (block_stop_signals()) arrives; returns it.
inline int wait_for_stop(const sigset_t& stop) {
  int sig = 0;
  sigwait(&stop, &sig);
  return sig;
}

} // namespace p2pd::examples
