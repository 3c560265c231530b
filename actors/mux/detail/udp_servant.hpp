#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "caf/io/abstract_broker.hpp"
#include "caf/io/datagram_servant.hpp"
#include "caf/io/network/default_multiplexer.hpp"
#include "caf/io/network/receive_buffer.hpp"

#include "p2pd/actors/mux/detail/loop_handler.hpp"
#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::actors::mux {

/// A UDP socket served by CAF's own epoll multiplexer that, unlike CAF 0.17's
/// datagram servant, tells the broker who sent each datagram (sender()).
/// The broker gets new_datagram_msg synchronously on the multiplexer thread;
/// replies go out with send_to() at once (queued only on EAGAIN). Datagrams
/// larger than the read limit are not delivered cut short: they are counted
/// and reported through oversized().
///
/// All members: multiplexer thread only, i.e. from the owning broker.
class udp_servant : public caf::io::datagram_servant {
public:
  using operation = caf::io::network::operation;

  struct counters {
    uint64_t rx = 0;         ///< datagrams delivered
    uint64_t tx = 0;         ///< datagrams sent
    uint64_t tx_queued = 0;  ///< sends that waited for EPOLLOUT
    uint64_t tx_dropped = 0; ///< sends the kernel refused, or the queue was full
    uint64_t rx_errors = 0;  ///< transient recvfrom() errors (ICMP-induced)
    uint64_t rx_oversized = 0; ///< datagrams larger than the read limit, dropped
  };

  /// Takes ownership of the bound, non-blocking UDP socket `fd`. Datagrams
  /// longer than `read_limit` bytes are dropped and counted.
  udp_servant(caf::io::network::default_multiplexer& dm, int fd, size_t read_limit,
              size_t max_queued);
  ~udp_servant() override;

  const net::endpoint& sender() const { return sender_; }

  /// Sends one datagram; an error value if the kernel refuses it.
  int send_to(const net::endpoint& to, const char* data, size_t size);

  int native_fd() const { return handler_.fd(); }
  const counters& stats() const { return stats_; }

  /// Called (on the multiplexer thread, outside the broker's handlers) for
  /// each datagram larger than the read limit, with its sender and size.
  using oversized_hook = std::function<void(const net::endpoint&, size_t)>;
  void on_oversized(oversized_hook f) { on_oversized_ = std::move(f); }

  // datagram_servant / manager interface
  bool new_endpoint(caf::io::network::receive_buffer& buf) override;
  void ack_writes(bool enable) override;
  std::vector<char>& wr_buf(caf::io::datagram_handle hdl) override;
  void enqueue_datagram(caf::io::datagram_handle hdl, std::vector<char> buf) override;
  caf::io::network::receive_buffer& rd_buf() override;
  void graceful_shutdown() override;
  void flush() override;
  std::string addr() const override;
  uint16_t port(caf::io::datagram_handle hdl) const override;
  uint16_t local_port() const override;
  std::vector<caf::io::datagram_handle> hdls() const override;
  void add_endpoint(const caf::io::network::ip_endpoint& ep,
                    caf::io::datagram_handle hdl) override;
  void remove_endpoint(caf::io::datagram_handle hdl) override;
  void launch() override;
  void add_to_loop() override;
  void remove_from_loop() override;
  void detach_handles() override;

private:
  friend class loop_handler<udp_servant>;

  struct job {
    net::endpoint to;
    std::vector<char> buf;
  };

  void on_event(operation op);
  void on_read();
  void drain();

  loop_handler<udp_servant> handler_;
  caf::io::network::receive_buffer rd_buf_;
  net::endpoint sender_;
  std::deque<job> queue_;
  counters stats_;
  size_t read_limit_;
  size_t max_queued_;
  size_t max_reads_;
  bool launched_ = false;
  bool ack_writes_ = false;
  oversized_hook on_oversized_;
};

using udp_servant_ptr = caf::intrusive_ptr<udp_servant>;

} // namespace p2pd::actors::mux
