#include "p2pd/actors/common/run_blocking.hpp"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/logger.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd {

namespace {

// Threads are started as jobs come, up to the bound, and wait for the next
// job when idle: a refresh's jobs come in bursts, and a thread per call
// would be started and joined on every one.
class thread_pool {
public:
  explicit thread_pool(size_t max_threads) : max_threads_(max_threads == 0 ? 1 : max_threads) {}

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  // Runs what was taken, then joins: a job never outlives its executor.
  ~thread_pool() {
    {
      std::lock_guard<std::mutex> lk{mtx_};
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  }

  void submit(blocking_job job) {
    std::unique_lock<std::mutex> lk{mtx_};
    jobs_.push_back(std::move(job));
    if (idle_ >= jobs_.size() || threads_.size() >= max_threads_) {
      lk.unlock();
      cv_.notify_one();
      return;
    }
    try {
      threads_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
      if (!threads_.empty())
        return; // those running take it
      jobs_.pop_back();
      throw;
    }
  }

private:
  void work() {
    std::unique_lock<std::mutex> lk{mtx_};
    for (;;) {
      ++idle_;
      cv_.wait(lk, [this] { return stop_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty())
        return; // stopped, nothing left
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lk.unlock();
      job(); // run_blocking's jobs catch what they throw
      job = nullptr; // drops what the job held before the lock is taken
      lk.lock();
    }
  }

  const size_t max_threads_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<blocking_job> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stop_ = false;
};

} // namespace

blocking_executor thread_pool_executor(size_t max_threads) {
  auto pool = std::make_shared<thread_pool>(max_threads);
  return [pool](blocking_job job) { pool->submit(std::move(job)); };
}

blocking_executor inline_executor() {
  return [](blocking_job job) { job(); };
}

blocking_config::blocking_config()
  : executor(thread_pool_executor(timeouts::max_blocking_threads)) {
  // nop
}

blocking_config::~blocking_config() = default;

} // namespace p2pd

namespace p2pd::actors {

namespace {

using ran_atom = caf::atom_constant<caf::atom("p2ran")>;

// For an actor system whose configuration is not a blocking_config. Never
// destroyed: a job may still run when the process exits. A forked child has
// none of its parent's threads, so it starts a pool of its own.
blocking_executor process_executor() {
  static std::mutex mtx;
  static pid_t owner = 0;
  static blocking_executor* exec = nullptr;
  std::lock_guard<std::mutex> lk{mtx};
  if (exec == nullptr || owner != ::getpid()) {
    exec = new blocking_executor(thread_pool_executor(timeouts::max_blocking_threads));
    owner = ::getpid();
  }
  return *exec;
}

caf::behavior blocking_call(caf::event_based_actor* self,
                            std::shared_ptr<std::function<caf::message()>> job) {
  return {
    [=](detail::run_atom) {
      auto rp = self->make_response_promise();
      self->become([=](ran_atom, caf::message& out) mutable {
        rp.deliver(std::move(out));
        self->quit();
      });
      // Held by the job: the system waits for this actor, so for the job.
      auto me = caf::actor_cast<caf::actor>(self);
      // Looked up here and not kept: the actor may be destroyed on one of
      // the pool's threads, which must not drop the pool's last reference
      // (its destructor joins them).
      auto exec = executor_of(self->home_system());
      try {
        exec([job, me] {
          // A scoped actor made by the job (probe_nat's, open_pipe's) leaves
          // its thread holding the system's logger (CAF 0.17 keeps it in a
          // thread-local), and ~actor_system waits until the logger is gone:
          // a pool's thread, which outlives the job, must let go of it.
          auto* logger_before = caf::logger::current_logger();
          caf::message out;
          try {
            out = (*job)();
          } catch (const std::exception& e) {
            out = caf::make_message(
              make_error(errc::io_failed, std::string{"a blocking job failed: "} + e.what()));
          }
          if (logger_before == nullptr)
            caf::logger::set_current_actor_system(nullptr);
          caf::anon_send(me, ran_atom::value, std::move(out));
        });
      } catch (const std::system_error& e) {
        rp.deliver(make_error(errc::io_failed,
                              std::string{"no thread to run a blocking job: "} + e.what()));
        self->quit();
      }
      return rp;
    },
  };
}

} // namespace

blocking_executor executor_of(caf::actor_system& sys) {
  if (auto* cfg = dynamic_cast<const blocking_config*>(&sys.config()); cfg && cfg->executor)
    return cfg->executor;
  return process_executor();
}

caf::actor detail::spawn_blocking_call(caf::actor_system& sys,
                                       std::function<caf::message()> job) {
  return sys.spawn(blocking_call, std::make_shared<std::function<caf::message()>>(std::move(job)));
}

void run_blocking_detached(caf::actor_system& sys, std::function<void()> fn) {
  auto call = detail::spawn_blocking_call(sys, [fn = std::move(fn)]() mutable {
    fn();
    return caf::make_message(caf::ok_atom::value);
  });
  caf::anon_send(call, detail::run_atom::value);
}

} // namespace p2pd::actors
