#pragma once

// Pipe tests that run on each transport under the pipe core: the broker's
// epoll sockets ("epoll") and the in-memory network ("memory",
// actors/pipe/detail/memory_transport.hpp). A suite derives its fixture from
// on_transport and is instantiated with transports(); its tests open pipes
// through the fixture's open/listen/connect instead of the runtime's.

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "p2pd/actors/pipe/detail/memory_transport.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"

#include "support/pipes.hpp"

namespace p2pd::test {

class on_transport : public ::testing::TestWithParam<const char*> {
protected:
  bool in_memory() const { return std::string{GetParam()} == "memory"; }

  pipe_actor spawn(const pipe_spec& spec) {
    return in_memory() ? actors::spawn_memory_pipe(rt.system(), spec, net)
                       : spawn_pipe(rt.system(), spec);
  }

  caf::expected<pipe_handle> open(const pipe_spec& spec) {
    return rt.open(spawn(spec), spec);
  }

  /// As runtime::listen.
  caf::expected<pipe_handle> listen(net::protocol proto, endpoint local = {},
                                    msg_handler on_msg = {}, net_conf conf = {}) {
    auto spec = server_spec(proto, local, std::move(on_msg));
    if (local == endpoint{})
      spec.local.reset(); // the default: 127.0.0.1 and a free port
    spec.conf = conf;
    return open(spec);
  }

  /// As runtime::connect.
  caf::expected<pipe_handle> connect(net::protocol proto, const endpoint& to, net_conf conf = {}) {
    auto spec = client_spec(proto, to.ip.to_string(), to.port);
    spec.conf = conf;
    return open(spec);
  }

  runtime rt;
  std::shared_ptr<actors::memory_net> net = std::make_shared<actors::memory_net>();
};

inline auto transports() {
  return ::testing::Values("epoll", "memory");
}

} // namespace p2pd::test
