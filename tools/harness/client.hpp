#pragma once

// The controller's side of an agent: connecting to it with CAF's middleman
// (remote typed actor) and asking it things, each ask bounded and answered
// also when the agent goes away meanwhile (its process killed: the
// middleman's proxy goes down and the ask says so at once).

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/expected.hpp"

#include "host_port.hpp"
#include "messages.hpp"

#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::harness {

/// The agent published at `where`: a TCP connect within `wait` first (a
/// closed port or an unreachable address fails there), then the
/// middleman's connect (as remote_actor does it, but within `wait` too),
/// whose answer must be an actor of the agent's typed interface. Errors:
/// errc::connect_refused, errc::connect_timeout (no answer, no handshake),
/// errc::connect_failed (the middleman's reason, nothing published there,
/// another interface). Over TLS when `sys` has CAF's openssl module
/// (use_tls).
caf::expected<agent_actor> connect_agent(caf::actor_system& sys, const host_port& where,
                                         std::chrono::milliseconds wait);

/// The error of an ask whose agent went away: errc::connection_reset.
caf::error agent_gone(const caf::error& reason);

/// The message that ends an ask's wait.
using ask_expired_atom = caf::atom_constant<caf::atom("hexpired")>;

/// Asks `agent` (xs...), answering T or an error: the agent's, the
/// middleman's, errc::recv_timeout after `wait`, or agent_gone(). A
/// short-lived actor asks and monitors the agent; the future is always set.
/// The request itself has no timeout (in CAF 0.17 an unanswered request's
/// timeout keeps its requester, and so the actor system, alive until it
/// fires): a weak timer bounds the wait.
///
/// The asking actor goes into `*helper` (when not null): an exit sent to it
/// ends the ask (its future is then never set), for a caller that stops
/// waiting; else the actor system would wait for the ask's bound to end.
template <class T, class... Ts>
std::future<caf::expected<T>> ask_as(caf::actor_system& sys, caf::actor* helper,
                                     const agent_actor& agent, caf::timespan wait, Ts... xs) {
  auto out = std::make_shared<std::promise<caf::expected<T>>>();
  auto fut = out->get_future();
  auto hdl = sys.spawn(
    [out, wait](caf::event_based_actor* self, agent_actor hdl, Ts... ys) -> caf::behavior {
      auto set = std::make_shared<bool>(false);
      auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait).count();
      auto timer = actors::start_weak_timer(self->home_system(), caf::weak_actor_ptr{self->ctrl()},
                                            wait, caf::make_message(ask_expired_atom::value));
      // However the ask ends (an answer, or an exit), its timer goes too.
      self->attach_functor([timer] { caf::anon_send_exit(timer, caf::exit_reason::user_shutdown); });
      auto done = [=](caf::expected<T> x) {
        if (!std::exchange(*set, true))
          out->set_value(std::move(x));
        self->quit();
      };
      self->set_down_handler([=](caf::down_msg& dm) { done(agent_gone(dm.reason)); });
      self->monitor(hdl);
      self->request(hdl, caf::infinite, std::move(ys)...)
        .then([=](T& x) { done(std::move(x)); }, [=](caf::error& err) { done(std::move(err)); });
      return {[=](ask_expired_atom) {
        done(make_error(errc::recv_timeout, "no answer from the agent within "
                                              + std::to_string(wait_ms) + " ms"));
      }};
    },
    agent, std::move(xs)...);
  if (helper != nullptr)
    *helper = hdl;
  return fut;
}

/// ask_as() without the helper.
template <class T, class... Ts>
std::future<caf::expected<T>> ask(caf::actor_system& sys, const agent_actor& agent,
                                  caf::timespan wait, Ts... xs) {
  return ask_as<T>(sys, nullptr, agent, wait, std::move(xs)...);
}

/// ask() and its answer: waits at most `wait` and a second (the ask's own
/// bound answers first).
template <class T, class... Ts>
caf::expected<T> ask_now(caf::actor_system& sys, const agent_actor& agent, caf::timespan wait,
                         Ts... xs) {
  auto fut = ask<T>(sys, agent, wait, std::move(xs)...);
  if (fut.wait_for(wait + std::chrono::seconds(1)) != std::future_status::ready)
    return make_error(errc::recv_timeout, "no answer from the agent in time");
  return fut.get();
}

} // namespace p2pd::harness
