#pragma once

// What the scenario tests share: a collector of pipe messages and an echo
// handler, on a scenario's actor system.

#include <memory>
#include <string>
#include <vector>

#include "caf/event_based_actor.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/sim/world/scenario.hpp"

namespace p2pd::test {

/// Messages a collector got, in order, with the virtual time of each.
struct collected {
  std::vector<std::string> texts;
  std::vector<endpoint> from;
};

/// An actor that records every pipe_msg it gets (subscribe it with
/// events::msgs); kept by the scenario until teardown.
inline caf::actor spawn_collector(sim::scenario& sc, std::shared_ptr<collected> out) {
  auto hdl = sc.system().spawn(
    [](caf::event_based_actor* self, std::shared_ptr<collected> into) -> caf::behavior {
      self->set_default_handler(caf::drop);
      return {
        [into](const pipe_msg& m) {
          into->texts.emplace_back(m.data.begin(), m.data.end());
          into->from.push_back(m.from);
        },
      };
    },
    std::move(out));
  sc.keep(hdl);
  return hdl;
}

/// Every line of `xs`, one per line (for failure messages).
inline std::string lines(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += x + "\n";
  return out;
}

inline net::ip_address ip(const char* text) {
  return *net::ip_address::parse(text);
}

/// A handler that sends every message back to its sender.
inline msg_handler echo_handler() {
  return [](pipe_io& io, std::string_view data, const endpoint&) { io.reply(data); };
}

inline bytes text_bytes(const std::string& s) {
  return bytes(s.begin(), s.end());
}

} // namespace p2pd::test
