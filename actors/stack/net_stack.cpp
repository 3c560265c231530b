#include "p2pd/actors/stack/net_stack.hpp"

#include <random>

#include "p2pd/actors/common/clock.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/actors/stack/os_resolver.hpp"

namespace p2pd {

net_stack::~net_stack() = default;

resolver_actor net_stack::resolver(caf::actor_system& sys) const {
  return spawn_os_resolver(sys);
}

namespace {

class os_net_stack : public net_stack {
public:
  std::string name() const override { return "os"; }

  pipe_actor spawn_pipe(caf::actor_system& sys, pipe_spec spec) const override {
    return p2pd::spawn_pipe(sys, std::move(spec));
  }

  net::result<net::interface_table> interfaces() const override {
    return net::list_interfaces();
  }

  int64_t unix_ms() const override { return system_clock_ms(); }

  int64_t unix_ns() const override { return system_clock_ns(); }

  uint64_t rng_seed() const override {
    std::random_device rd;
    return (uint64_t{rd()} << 32) | rd();
  }
};

} // namespace

stack_ptr os_stack() {
  static const stack_ptr instance = std::make_shared<os_net_stack>();
  return instance;
}

const net_stack& stack_or_os(const stack_ptr& s) {
  return s ? *s : *os_stack();
}

} // namespace p2pd
