#pragma once

#include <memory>

#include "caf/io/broker.hpp"
#include "caf/message_handler.hpp"

#include "p2pd/actors/mux/detail/tcp_acceptor.hpp"
#include "p2pd/actors/mux/detail/tcp_connector.hpp"
#include "p2pd/actors/mux/detail/tcp_stream.hpp"
#include "p2pd/actors/mux/detail/udp_servant.hpp"
#include "p2pd/actors/pipe/detail/pipe_transport.hpp"

namespace p2pd::actors::mux {

/// A pipe's real sockets: our epoll servants (udp_servant, tcp_acceptor,
/// tcp_stream, tcp_connector) inside the broker that hosts the pipe. The
/// broker's io messages become pipe_events through handlers().
///
/// All members: multiplexer thread only, i.e. from the owning broker.
class broker_transport final : public pipe_transport {
public:
  /// `self` hosts the pipe and outlives this; `events` is its core.
  broker_transport(caf::io::broker* self, pipe_events& events);
  ~broker_transport() override;
  broker_transport(const broker_transport&) = delete;
  broker_transport& operator=(const broker_transport&) = delete;

  /// The broker's handlers for what the multiplexer and the servants send.
  caf::message_handler handlers();

  caf::error usable() const override;
  caf::expected<endpoint> bind_udp(const endpoint& local, const net_conf& conf) override;
  int send_datagram(const endpoint& to, const char* data, size_t size) override;
  caf::expected<endpoint> listen(const endpoint& local, const net_conf& conf) override;
  void stop_listening() override;
  void pause_listening() override;
  caf::expected<uint64_t> connect(const endpoint& remote, const std::optional<endpoint>& local,
                                  const net_conf& conf) override;
  void connect_timeout(uint64_t id) override;
  void resolve(resolver_fn fn, std::string host, std::optional<net::family> fam,
               caf::timespan timeout) override;
  caf::expected<adopted_socket> adopt(pipe_spec& spec) override;
  transport_counters counters() const override;
  void close_all() override;
  void before_quit(const caf::error& reason) override;

private:
  caf::expected<endpoint> add_udp(net::unique_fd fd, const net_conf& conf);
  void add_acceptor(int fd, const net_conf& conf);
  pipe_stream_ptr add_stream(int fd);
  pipe_stream_ptr wrap(const tcp_stream_ptr& stream);

  caf::io::broker* self_;
  pipe_events& events_;
  udp_servant_ptr udp_;
  tcp_acceptor_ptr acceptor_;
  std::unique_ptr<tcp_connector> connector_;
  size_t read_limit_ = 0; ///< of the streams this transport connects
};

} // namespace p2pd::actors::mux
