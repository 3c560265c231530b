#include "netcheck_stop.hpp"

#include <pthread.h>
#include <unistd.h>

#include <ctime>

#include "caf/send.hpp"

#include "node_options.hpp"
#include "stop_signals.hpp"

namespace p2pd::cli {

namespace {

// The signal's default action, from the thread that calls it.
[[noreturn]] void die_by(int sig) {
  std::signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(sig);
  ::_exit(128 + sig); // not reached: SIGINT's and SIGTERM's default ends the process
}

} // namespace

netcheck_stop::netcheck_stop() : set_(examples::block_stop_signals()) {
  thread_ = std::thread([this] { watch(); });
}

netcheck_stop::~netcheck_stop() {
  quit_.store(true);
  if (thread_.joinable())
    thread_.join();
}

void netcheck_stop::watch() {
  timespec tick{0, 100 * 1000 * 1000};
  while (!quit_.load()) {
    int sig = sigtimedwait(&set_, nullptr, &tick);
    if (sig <= 0)
      continue;
    std::unique_lock<std::mutex> guard{mtx_};
    if (!target_ || stopped_.load() != 0)
      die_by(sig); // nothing to delete, or a second signal: at once
    stopped_.store(sig);
    caf::anon_send(target_, stop_signal_atom::value, sig);
  }
}

void netcheck_stop::guard(caf::actor target) {
  std::unique_lock<std::mutex> guard{mtx_};
  target_ = std::move(target);
}

void netcheck_stop::unguard() {
  std::unique_lock<std::mutex> guard{mtx_};
  target_ = nullptr;
}

void netcheck_stop::reraise_if_stopped() {
  if (int sig = stopped_.load(); sig != 0) {
    quit_.store(true);
    if (thread_.joinable())
      thread_.join();
    die_by(sig);
  }
}

} // namespace p2pd::cli
