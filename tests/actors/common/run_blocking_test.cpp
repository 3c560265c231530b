#include "p2pd/actors/common/run_blocking.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "p2pd/api/system_config.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"

using namespace p2pd;
using namespace p2pd::actors;

namespace {

// Runs `fn` through run_blocking from a scoped actor and returns the answer.
template <class T, class F>
caf::expected<T> ask(caf::actor_system& sys, F fn) {
  caf::scoped_actor self{sys};
  caf::expected<T> out{caf::make_error(caf::sec::request_timeout)};
  run_blocking(self.ptr(), std::chrono::seconds(30), std::move(fn))
    .receive([&](T& x) { out = std::move(x); }, [&](caf::error& err) { out = std::move(err); });
  return out;
}

uint64_t this_thread_hash() {
  return std::hash<std::thread::id>{}(std::this_thread::get_id());
}

} // namespace

TEST(RunBlocking, AnswersWithTheJobsResultFromAnotherThread) {
  config cfg;
  caf::actor_system sys{cfg};
  auto out = ask<uint64_t>(sys, [] { return this_thread_hash(); });
  ASSERT_TRUE(out) << sys.render(out.error());
  EXPECT_NE(*out, this_thread_hash());
}

TEST(RunBlocking, AnErrorTheJobReturnsIsTheAnswer) {
  config cfg;
  caf::actor_system sys{cfg};
  auto out = ask<std::string>(sys, []() -> caf::expected<std::string> {
    return make_error(errc::resolve_failed, "no such name");
  });
  ASSERT_FALSE(out);
  EXPECT_EQ(code_of(out.error()), errc::resolve_failed);
}

TEST(RunBlocking, AThrowingJobAnswersIoFailedWithItsMessage) {
  config cfg;
  caf::actor_system sys{cfg};
  auto out = ask<int>(sys, []() -> int { throw std::runtime_error("the library gave up"); });
  ASSERT_FALSE(out);
  EXPECT_EQ(code_of(out.error()), errc::io_failed);
  EXPECT_NE(render(out.error()).find("the library gave up"), std::string::npos)
    << render(out.error());
}

TEST(RunBlocking, AnsweringAnEventBasedActor) {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  // An argument, not none: CAF 0.17 binds a spawn without arguments to a
  // null tuple pointer, which UBSan reports.
  auto asker = sys.spawn([](caf::event_based_actor* me, int factor) -> caf::behavior {
    return {[me, factor](int x) {
      auto rp = me->make_response_promise();
      run_blocking(me, timeouts::until_answered, [x, factor] { return x * factor; })
        .then([rp](int y) mutable { rp.deliver(y); },
              [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    }};
  }, 2);
  int out = 0;
  self->request(asker, std::chrono::seconds(30), 21)
    .receive([&](int y) { out = y; }, [&](caf::error& err) { FAIL() << sys.render(err); });
  EXPECT_EQ(out, 42);
}

TEST(RunBlocking, UsesTheExecutorTheConfigurationCarries) {
  // What a simulation does: its own executor, here one that counts and
  // runs each job at once on the asking actor.
  std::atomic<int> jobs{0};
  config cfg;
  cfg.executor = [&jobs](blocking_job job) {
    ++jobs;
    inline_executor()(std::move(job));
  };
  caf::actor_system sys{cfg};
  auto out = ask<int>(sys, [] { return 7; });
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, 7);
  run_blocking_detached(sys, [] {});
  sys.await_all_actors_done();
  EXPECT_EQ(jobs.load(), 2);
}

TEST(RunBlocking, TheActorSystemCountsARunningJobAsAnActor) {
  // ~actor_system waits until no actor runs: a job still running keeps its
  // one-shot actor running, so the system waits for the job.
  config cfg;
  caf::actor_system sys{cfg};
  std::mutex mtx;
  std::condition_variable cv;
  bool started = false;
  bool release = false;
  auto before = sys.registry().running();
  run_blocking_detached(sys, [&] {
    std::unique_lock<std::mutex> lk{mtx};
    started = true;
    cv.notify_all();
    cv.wait(lk, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> lk{mtx};
    cv.wait(lk, [&] { return started; });
    EXPECT_GT(sys.registry().running(), before);
    release = true;
  }
  cv.notify_all();
  sys.await_all_actors_done();
  EXPECT_EQ(sys.registry().running(), before);
}

TEST(RunBlocking, AJobsScopedActorDoesNotHoldTheSystemPastItsEnd) {
  // The worker procedures (probe_nat, open_pipe) block on a scoped actor of
  // their own. CAF 0.17 then leaves the pool's thread holding the system's
  // logger, and ~actor_system would wait for it forever (this test would
  // time out).
  config cfg;
  {
    caf::actor_system sys{cfg};
    auto* s = &sys;
    auto out = ask<int>(sys, [s] {
      caf::scoped_actor inner{*s};
      return 1;
    });
    ASSERT_TRUE(out);
  }
  SUCCEED();
}

TEST(ThreadPoolExecutor, RunsEveryJobOnAtMostItsThreads) {
  std::mutex mtx;
  std::condition_variable cv;
  size_t running = 0;
  size_t most = 0;
  size_t done = 0;
  bool release = false;
  std::set<std::thread::id> threads;
  constexpr size_t jobs = 6;
  {
    auto exec = thread_pool_executor(2);
    for (size_t i = 0; i < jobs; ++i)
      exec([&] {
        std::unique_lock<std::mutex> lk{mtx};
        threads.insert(std::this_thread::get_id());
        most = std::max(most, ++running);
        cv.notify_all();
        cv.wait(lk, [&] { return release; });
        --running;
        ++done;
        cv.notify_all();
      });
    std::unique_lock<std::mutex> lk{mtx};
    cv.wait(lk, [&] { return running == 2; });
    release = true;
    cv.notify_all();
    cv.wait(lk, [&] { return done == jobs; });
  } // the last copy of the executor joins its threads
  EXPECT_EQ(most, 2u);
  EXPECT_LE(threads.size(), 2u);
}

TEST(ThreadPoolExecutor, FinishesTheJobsItTookBeforeItEnds) {
  std::atomic<int> ran{0};
  {
    auto exec = thread_pool_executor(1);
    for (int i = 0; i < 5; ++i)
      exec([&ran] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 5);
}
