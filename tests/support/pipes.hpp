#pragma once

// Pipes through the facade (p2pd/p2pd.hpp), for the pipe, daemon, STUN and
// interface suites: a handler that echoes, and one request and its echo.

#include <string>
#include <string_view>

#include "actors.hpp"

#include "p2pd/p2pd.hpp"

namespace p2pd::test {

inline msg_handler echo_handler() {
  return [](pipe_io& io, std::string_view data, const endpoint&) { io.reply(data); };
}

/// One request and its echo over a new client.
inline caf::expected<pipe_msg> echo_once(runtime& rt, net::protocol proto, const endpoint& to,
                                         const std::string& text) {
  auto c = rt.connect(proto, to);
  if (!c)
    return c.error();
  if (auto err = c->send(text))
    return err;
  return c->recv(5s);
}

} // namespace p2pd::test
