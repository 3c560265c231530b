#pragma once

#include "support/coturn_fixture.hpp"

#include "p2pd/actors/turn/turn_pipe_spec.hpp"

namespace p2pd::test {

/// Our account on a coturn the test started, over `transport`.
inline turn_server turn_account(const coturn_server& s,
                                net::protocol transport = net::protocol::udp) {
  turn_server t;
  t.server = s.primary();
  t.transport = transport;
  t.username = s.options().user;
  t.password = s.options().password;
  return t;
}

} // namespace p2pd::test
