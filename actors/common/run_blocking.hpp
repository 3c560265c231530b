#pragma once

#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/atom.hpp"
#include "caf/detail/type_traits.hpp"
#include "caf/expected.hpp"
#include "caf/message.hpp"

namespace p2pd {

/// A job that blocks its thread: a getaddrinfo, a STUN probe that waits on a
/// scoped actor, the destruction of a paho client.
using blocking_job = std::function<void()>;

/// Runs blocking jobs somewhere other than an actor's thread. It runs every
/// job it takes exactly once, on any thread, in any order; it may throw
/// std::system_error when it cannot take one (run_blocking then answers with
/// an error). It must outlive the jobs it took.
using blocking_executor = std::function<void(blocking_job)>;

/// The default executor: at most `max_threads` threads, started as jobs come
/// and kept for the next ones; a job beyond waits for a free thread, in
/// order. No thread per call, and no more than `max_threads` blocked at once.
/// When the last copy is gone its threads finish the jobs taken and end.
blocking_executor thread_pool_executor(size_t max_threads);

/// Runs each job at once on the calling thread: the actor that asked. For a
/// simulated network on virtual time, whose jobs answer from a model and do
/// not block; a job that blocks stalls that actor's thread, and one that
/// waits for another actor deadlocks a single-threaded world.
blocking_executor inline_executor();

/// Where an actor system runs its blocking jobs. p2pd::config is one; a
/// configuration of one's own (a simulation's) derives from it as well and
/// sets `executor`; run_blocking finds it in the system's configuration.
class blocking_config {
public:
  blocking_config();
  virtual ~blocking_config();

  /// Default: thread_pool_executor(timeouts::max_blocking_threads).
  blocking_executor executor;
};

} // namespace p2pd

namespace p2pd::actors {

/// The executor of `sys`: its configuration's if that is a blocking_config,
/// else one pool shared by the process.
blocking_executor executor_of(caf::actor_system& sys);

namespace detail {

using run_atom = caf::atom_constant<caf::atom("p2run")>;

/// A job's result as the answer to the request run_blocking() makes.
template <class T>
caf::message to_answer(T&& x) {
  using value = std::decay_t<T>;
  static_assert(!std::is_void_v<value>, "a blocking job must return its result");
  if constexpr (caf::detail::is_expected<value>::value) {
    if (!x)
      return caf::make_message(std::move(x.error()));
    return caf::make_message(std::move(*x));
  } else {
    return caf::make_message(std::forward<T>(x));
  }
}

/// Spawns the one-shot actor that runs `job` on `sys`'s executor when asked
/// run_atom, answers with what `job` returned, and ends. The job holds it,
/// so the actor system waits for the job before it shuts down.
caf::actor spawn_blocking_call(caf::actor_system& sys, std::function<caf::message()> job);

} // namespace detail

/// Runs `fn`, which blocks, off the actor threads (on the system's
/// executor) and returns the handle of a request whose answer is what `fn`
/// returned: a value, or for a caf::expected its value or its error; an
/// exception `fn` throws answers as errc::io_failed. Used like any request:
///
///     run_blocking(self, dns_timeout, [=] { return resolve(host); })
///       .then([=](std::vector<ip_address>& ips) { ... },
///             [=](caf::error& err) { ... });
///
/// `timeout` (or timeouts::until_answered) bounds the wait, not the job: it
/// runs to its end, and an answer that comes too late is dropped. While the
/// job runs its requester stays alive (CAF 0.17: the answer's promise holds
/// it), and the actor system waits for the job when it shuts down.
///
/// A job must not wait for another job (say, a probe for a pipe that
/// resolves a name): with every thread of the pool busy, that one would
/// never start. The worker procedures connect to addresses, never to names.
template <class Self, class Timeout, class F>
auto run_blocking(Self* self, const Timeout& timeout, F fn) {
  auto call = detail::spawn_blocking_call(self->home_system(), [fn = std::move(fn)]() mutable {
    return detail::to_answer(fn());
  });
  return self->request(call, timeout, detail::run_atom::value);
}

/// Runs `fn` on the system's executor with nobody waiting for its end (a
/// paho client's destruction); the actor system still waits for it before
/// it shuts down. Safe from any thread.
void run_blocking_detached(caf::actor_system& sys, std::function<void()> fn);

} // namespace p2pd::actors
