#pragma once

// A listener that drops every SYN, as a NAT drops an unsolicited one, on
// loopback and without root: its backlog is 0 and its one place is taken
// (a SYN that finds the accept queue full is dropped, not answered). It
// shares its port (SO_REUSEADDR and SO_REUSEPORT), so a client pipe can
// connect from there: a SYN toward the port then meets that pipe's socket
// if it is connecting (a simultaneous open), else it is dropped.

#include <sys/socket.h>

#include <optional>

#include "support/sockets.hpp"
#include "support/values.hpp"

namespace p2pd::test {

struct syn_sink {
  net::unique_fd listener;
  net::unique_fd filler; ///< the connection that fills the queue
  net::endpoint local;

  static std::optional<syn_sink> make() {
    net::socket_options o;
    o.reuse_addr = true;
    auto fd = net::open_bound_socket(net::protocol::tcp, any_port("127.0.0.1"), o);
    if (!fd || ::listen(fd->get(), 0) != 0)
      return std::nullopt;
    syn_sink s;
    s.local = *net::local_endpoint(fd->get());
    s.listener = std::move(*fd);
    s.filler = raw_connect(s.local);
    if (!s.filler)
      return std::nullopt;
    return s;
  }
};

} // namespace p2pd::test
