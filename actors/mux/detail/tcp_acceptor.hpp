#pragma once

#include <cstdint>

#include "caf/io/doorman.hpp"
#include "caf/io/network/default_multiplexer.hpp"

#include "p2pd/actors/mux/detail/loop_handler.hpp"
#include "p2pd/actors/mux/detail/tcp_stream.hpp"
#include "p2pd/net/addr/address.hpp"

namespace p2pd::actors::mux {

/// A listening TCP socket served by CAF's epoll multiplexer that hands each
/// accepted connection to the broker as a tcp_stream (new_connection_msg).
/// Running out of file descriptors does not make it spin: a descriptor the
/// process keeps in reserve is given up to accept and shed the connection.
///
/// All members: multiplexer thread only, i.e. from the owning broker.
class tcp_acceptor : public caf::io::doorman {
public:
  using operation = caf::io::network::operation;

  struct counters {
    uint64_t accepted = 0;
    uint64_t shed = 0;   ///< connections closed at once: no descriptor left
    uint64_t errors = 0; ///< other accept() failures
  };

  /// Takes ownership of the listening, non-blocking socket `fd`; accepted
  /// streams read at most `read_limit` bytes at a time.
  tcp_acceptor(caf::io::network::default_multiplexer& dm, int fd, size_t read_limit);
  ~tcp_acceptor() override;

  /// The stream most recently accepted (valid inside new_connection_msg).
  const tcp_stream_ptr& last_accepted() const { return last_; }
  const net::endpoint& local() const { return local_; }
  const counters& stats() const { return stats_; }

  // doorman / manager interface
  void launch() override;
  bool new_connection() override;
  void graceful_shutdown() override;
  std::string addr() const override;
  uint16_t port() const override;
  void add_to_loop() override;
  void remove_from_loop() override;

private:
  friend class loop_handler<tcp_acceptor>;

  void on_event(operation op);
  bool accept_one(bool& more);
  void want_read(bool on) { handler_.want(operation::read, on); }

  loop_handler<tcp_acceptor> handler_;
  size_t read_limit_;
  size_t max_accepts_;
  net::endpoint local_;
  tcp_stream_ptr last_;
  counters stats_;
};

using tcp_acceptor_ptr = caf::intrusive_ptr<tcp_acceptor>;

} // namespace p2pd::actors::mux
