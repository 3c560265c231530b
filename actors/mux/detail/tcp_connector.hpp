#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/io/abstract_broker.hpp"

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::actors::mux {

/// What a connect attempt gives the broker that started it.
struct connect_result {
  uint64_t id = 0;
  int error = 0; ///< 0 on success, otherwise errno (ETIMEDOUT on timeout)
  net::endpoint remote;
  /// The connected socket on success; closes it if the message is dropped.
  std::shared_ptr<net::unique_fd> fd;

  bool ok() const { return error == 0 && fd && *fd; }
};

/// Non-blocking TCP connects inside CAF's multiplexer: CAF 0.17's own connect
/// blocks the I/O thread. The socket is created here (optionally bound first:
/// bind-before-connect), connect() returns EINPROGRESS, and when epoll reports
/// the outcome a connect_result message goes to the broker, which adopts the
/// socket. Lives in a broker's state; destroying it cancels what is pending.
class tcp_connector {
public:
  explicit tcp_connector(caf::io::abstract_broker* self);
  ~tcp_connector();
  tcp_connector(const tcp_connector&) = delete;
  tcp_connector& operator=(const tcp_connector&) = delete;

  /// Starts an attempt; its result arrives as a connect_result message, also
  /// when connect() itself fails at once. Errors of socket() and bind() are
  /// returned here.
  net::result<uint64_t> connect(const net::endpoint& remote, std::optional<net::endpoint> local,
                   const net::socket_options& opts);

  /// Cancels an attempt if it is still pending and sends an ETIMEDOUT result.
  void timeout(uint64_t id);

  size_t pending() const;

  class attempt;
  struct registry {
    std::unordered_map<uint64_t, attempt*> pending;
    uint64_t next_id = 1;
  };

private:
  caf::io::abstract_broker* self_;
  std::shared_ptr<registry> reg_;
};

} // namespace p2pd::actors::mux

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::actors::mux::connect_result)
