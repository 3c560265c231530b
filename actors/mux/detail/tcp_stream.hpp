#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "caf/io/network/default_multiplexer.hpp"
#include "caf/io/scribe.hpp"

#include "p2pd/actors/mux/detail/loop_handler.hpp"
#include "p2pd/net/addr/address.hpp"

namespace p2pd::actors::mux {

/// A connected TCP socket served by CAF's epoll multiplexer. Unlike CAF 0.17's
/// scribe it writes at once on flush() (EPOLLOUT only when the kernel buffer
/// is full), reads until EAGAIN, and keeps the errno that ended it, so a
/// broker can tell a reset from an orderly close.
///
/// All members: multiplexer thread only, i.e. from the owning broker.
class tcp_stream : public caf::io::scribe {
public:
  using operation = caf::io::network::operation;

  /// Takes ownership of the connected, non-blocking socket `fd`.
  tcp_stream(caf::io::network::default_multiplexer& dm, int fd, size_t read_limit);
  ~tcp_stream() override;

  /// Bytes accepted by flush() that the kernel has not taken yet.
  size_t pending() const { return out_.size() - out_pos_ + wr_buf_.size(); }

  /// Backpressure: reading stops while more than `high` bytes wait to be
  /// written and resumes once they drain to `low`, so a peer that sends but
  /// does not read is slowed by TCP's own flow control instead of filling
  /// our buffer. `high` 0 turns it off.
  void set_watermarks(size_t high, size_t low) {
    high_ = high;
    low_ = std::min(low, high);
  }

  /// Whether reading is stopped until the write buffer drains.
  bool read_paused() const { return paused_; }

  /// The errno that ended the stream: 0 for an orderly close by the peer.
  int last_error() const { return last_error_; }

  const net::endpoint& peer() const { return peer_; }
  const net::endpoint& local() const { return local_; }
  int native_fd() const { return handler_.fd(); }

  // scribe / manager interface
  void configure_read(caf::io::receive_policy::config config) override;
  void ack_writes(bool enable) override;
  std::vector<char>& wr_buf() override;
  std::vector<char>& rd_buf() override;
  void flush() override;
  void graceful_shutdown() override;
  std::string addr() const override;
  uint16_t port() const override;
  void add_to_loop() override;
  void remove_from_loop() override;

private:
  friend class loop_handler<tcp_stream>;

  void on_event(operation op);
  void on_read();
  void on_write(bool from_loop);
  void fail(int err);
  void want(operation op, bool on) { handler_.want(op, on); }
  /// Pauses reading when past the high watermark; true if it did.
  bool check_high();

  loop_handler<tcp_stream> handler_;
  std::vector<char> rd_buf_;
  std::vector<char> wr_buf_; // filled by the broker, moved to out_ on flush()
  std::vector<char> out_;    // accepted, not yet written
  size_t out_pos_ = 0;
  static constexpr size_t min_read_size = 2048;

  size_t read_limit_;
  size_t read_size_ = min_read_size; ///< adapts to the traffic, up to read_limit_
  size_t max_reads_;
  net::endpoint peer_;
  net::endpoint local_;
  int last_error_ = 0;
  bool ack_writes_ = false;
  bool closing_ = false;
  bool paused_ = false; ///< reading stopped by backpressure
  size_t high_ = 0;
  size_t low_ = 0;
};

using tcp_stream_ptr = caf::intrusive_ptr<tcp_stream>;

} // namespace p2pd::actors::mux
