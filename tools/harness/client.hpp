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

#include "p2pd/messages/errors.hpp"

namespace p2pd::harness {

/// The agent published at `where`: a TCP connect within `wait` first (a
/// closed port or an unreachable address fails there), then the
/// middleman's remote_actor, which checks the agent's typed interface.
/// Errors: errc::connect_refused, errc::connect_timeout,
/// errc::connect_failed (the middleman's reason, e.g. an interface that
/// differs).
caf::expected<agent_actor> connect_agent(caf::actor_system& sys, const host_port& where,
                                         std::chrono::milliseconds wait);

/// The error of an ask whose agent went away: errc::connection_reset.
caf::error agent_gone(const caf::error& reason);

/// Asks `agent` (xs...), answering T or an error: the agent's, the
/// middleman's, sec::request_timeout after `wait`, or agent_gone(). A
/// short-lived actor asks and monitors the agent; the future is always set.
template <class T, class... Ts>
std::future<caf::expected<T>> ask(caf::actor_system& sys, const agent_actor& agent,
                                  caf::timespan wait, Ts... xs) {
  auto out = std::make_shared<std::promise<caf::expected<T>>>();
  auto fut = out->get_future();
  sys.spawn(
    [out, wait](caf::event_based_actor* self, agent_actor hdl, Ts... ys) -> caf::behavior {
      auto set = std::make_shared<bool>(false);
      auto done = [=](caf::expected<T> x) {
        if (!std::exchange(*set, true))
          out->set_value(std::move(x));
        self->quit();
      };
      self->set_down_handler([=](caf::down_msg& dm) { done(agent_gone(dm.reason)); });
      self->monitor(hdl);
      self->request(hdl, wait, std::move(ys)...)
        .then([=](T& x) { done(std::move(x)); }, [=](caf::error& err) { done(std::move(err)); });
      return {[](caf::ok_atom) {}}; // alive until done
    },
    agent, std::move(xs)...);
  return fut;
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
