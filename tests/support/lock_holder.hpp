#pragma once

// Another process holding a port lock: a forked child that takes the lock of
// (tcp, 127.0.0.1, port) in a data directory and keeps it until the test
// releases or kills it. The port lock tests and the daemon tests both need
// one; a port lock cannot tell it from a second program.

#include <cstdint>
#include <string>

#include "forked_child.hpp"

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/sock/port_lock.hpp"

namespace p2pd::test {

class lock_holder {
public:
  /// Forks the child (before the test starts any thread: see
  /// forked_child.hpp) and waits until it has tried the lock.
  lock_holder(const std::string& dir, uint16_t port)
    : child_{[dir, port, this]() -> std::string {
        auto lock = net::port_lock::acquire(dir, net::family::v4, net::protocol::tcp,
                                            net::ip_address::loopback(net::family::v4), port);
        if (!lock)
          return net::to_string(lock.error());
        // The child's copy of this object: the lock stays held until the
        // child ends.
        held_ = std::move(*lock);
        return "locked";
      }} {
    child_.report();
  }

  /// The child holds the lock.
  bool locked() { return child_.report() == "locked"; }
  /// "locked", or why the child could not take the lock.
  const std::string& report() { return child_.report(); }
  pid_t pid() const { return child_.pid(); }
  /// Lets the child exit (which frees the lock) and reaps it; its wait status.
  int release() { return child_.release(); }
  /// Kills the child (the kernel frees the lock with its files); its wait status.
  int kill() { return child_.kill(); }

private:
  net::port_lock held_; // empty here; set in the child's copy
  forked_child child_;
};

} // namespace p2pd::test
