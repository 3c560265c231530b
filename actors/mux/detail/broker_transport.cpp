#include "p2pd/actors/mux/detail/broker_transport.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "caf/actor_cast.hpp"
#include "caf/io/receive_policy.hpp"
#include "caf/io/system_messages.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/mux/detail/close_mailbox.hpp"
#include "p2pd/actors/mux/detail/default_mpx.hpp"
#include "p2pd/actors/pipe/detail/pipe_atoms.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors::mux {

namespace {

net::socket_options sock_opts(const net_conf& conf) {
  net::socket_options o;
  o.reuse_addr = conf.reuse_addr;
  o.broadcast = conf.broadcast;
  if (conf.linger >= 0)
    o.linger = conf.linger;
  if (conf.ttl != 0)
    o.ttl = conf.ttl;
  return o;
}

/// A tcp_stream seen by the pipe core; closes go through the broker, which
/// owns the stream as its scribe.
class broker_stream final : public pipe_stream {
public:
  broker_stream(caf::io::abstract_broker* self, tcp_stream_ptr s)
    : self_(self), s_(std::move(s)) {}

  stream_id id() const override { return static_cast<stream_id>(s_->hdl().id()); }
  const endpoint& peer() const override { return s_->peer(); }
  const endpoint& local() const override { return s_->local(); }
  std::vector<char>& wr_buf() override { return s_->wr_buf(); }
  void flush() override { s_->flush(); }
  size_t pending() const override { return s_->pending(); }
  size_t in_flight() const override { return net::unacked_bytes(s_->native_fd()); }
  int last_error() const override { return s_->last_error(); }

  void configure(const net_conf& conf) override {
    if (conf.linger >= 0 || conf.keep_alive.count() > 0) {
      net::socket_options opts;
      if (conf.linger >= 0)
        opts.linger = conf.linger;
      if (conf.keep_alive.count() > 0)
        opts.keep_alive = static_cast<int>(
          std::chrono::duration_cast<std::chrono::seconds>(conf.keep_alive).count());
      net::apply_late_options(s_->native_fd(), net::protocol::tcp, opts);
    }
    s_->set_watermarks(conf.max_write_buffer / 2, conf.max_write_buffer / 4);
    s_->configure_read(caf::io::receive_policy::at_most(conf.reader_limit));
  }

  void notify_drained(bool on) override { s_->ack_writes(on); }

  // Shuts the socket down now, closes it a loop round later.
  void close() override { self_->close(s_->hdl()); }

  void reset() override {
    net::socket_options opts;
    opts.linger = 0; // closes with RST
    net::apply_late_options(s_->native_fd(), net::protocol::tcp, opts);
    self_->close(s_->hdl());
  }

private:
  caf::io::abstract_broker* self_;
  tcp_stream_ptr s_;
};

} // namespace

broker_transport::broker_transport(caf::io::broker* self, pipe_events& events)
  : self_(self), events_(events) {}

broker_transport::~broker_transport() = default;

caf::message_handler broker_transport::handlers() {
  return {
    [this](const caf::io::new_connection_msg&) {
      auto stream = acceptor_ ? acceptor_->last_accepted() : nullptr;
      if (stream)
        events_.on_accepted(wrap(stream));
    },
    [this](const caf::io::new_data_msg& msg) {
      events_.on_data(static_cast<stream_id>(msg.handle.id()), msg.buf.data(), msg.buf.size());
    },
    [this](const caf::io::new_datagram_msg& msg) {
      events_.on_datagram(msg.buf.data(), msg.buf.size(), udp_->sender());
    },
    [this](const caf::io::connection_closed_msg& msg) {
      events_.on_stream_closed(static_cast<stream_id>(msg.handle.id()));
    },
    [this](const caf::io::data_transferred_msg&) { events_.on_drained(); },
    [this](const caf::io::acceptor_closed_msg&) { events_.on_listener_failed(); },
    [this](const caf::io::datagram_servant_closed_msg&) { events_.on_udp_failed(); },
    [](const caf::io::datagram_sent_msg&) {},
    [this](connect_result& r) {
      if (!r.ok())
        return events_.on_connect_failed(r.id, r.error, r.remote);
      events_.on_connected(r.id, add_stream(r.fd->release()));
    },
    [this](oversized_atom, const endpoint& from, uint64_t size) {
      events_.on_oversized(from, size);
    },
  };
}

caf::error broker_transport::usable() const {
  if (default_mpx(self_) == nullptr)
    return make_error(errc::invalid_argument, "pipes need the middleman's default multiplexer");
  return caf::none;
}

caf::expected<endpoint> broker_transport::add_udp(net::unique_fd fd, const net_conf& conf) {
  auto local = net::local_endpoint(fd.get());
  if (!local)
    return make_error(local.error());
  udp_ = caf::make_counted<udp_servant>(*default_mpx(self_), fd.release(), conf.reader_limit,
                                        conf.max_qsize);
  self_->add_datagram_servant(udp_);
  // The servant reports oversized datagrams outside the broker's handlers.
  auto me = caf::actor_cast<caf::weak_actor_ptr>(self_);
  udp_->on_oversized([me](const endpoint& from, size_t size) {
    if (auto hdl = caf::actor_cast<caf::actor>(me.lock()))
      caf::anon_send(hdl, oversized_atom::value, from, static_cast<uint64_t>(size));
  });
  return *local;
}

caf::expected<endpoint> broker_transport::bind_udp(const endpoint& local, const net_conf& conf) {
  auto fd = net::open_bound_socket(net::protocol::udp, local, sock_opts(conf));
  if (!fd)
    return make_error(fd.error());
  return add_udp(std::move(*fd), conf);
}

int broker_transport::send_datagram(const endpoint& to, const char* data, size_t size) {
  return udp_ ? udp_->send_to(to, data, size) : EBADF;
}

void broker_transport::add_acceptor(int fd, const net_conf& conf) {
  acceptor_ = caf::make_counted<tcp_acceptor>(*default_mpx(self_), fd, conf.reader_limit);
  self_->add_doorman(acceptor_);
}

caf::expected<endpoint> broker_transport::listen(const endpoint& local, const net_conf& conf) {
  auto fd = net::open_listener(local, sock_opts(conf));
  if (!fd)
    return make_error(fd.error());
  add_acceptor(fd->release(), conf);
  return acceptor_->local();
}

void broker_transport::stop_listening() {
  if (!acceptor_)
    return;
  self_->close(acceptor_->hdl()); // shuts the socket down now, closes it a loop round later
  acceptor_.reset();
}

void broker_transport::pause_listening() {
  if (acceptor_)
    acceptor_->remove_from_loop();
}

pipe_stream_ptr broker_transport::wrap(const tcp_stream_ptr& stream) {
  return std::make_unique<broker_stream>(self_, stream);
}

pipe_stream_ptr broker_transport::add_stream(int fd) {
  auto stream = caf::make_counted<tcp_stream>(*default_mpx(self_), fd, read_limit_);
  self_->add_scribe(stream);
  return wrap(stream);
}

caf::expected<uint64_t> broker_transport::connect(const endpoint& remote,
                                                  const std::optional<endpoint>& local,
                                                  const net_conf& conf) {
  read_limit_ = conf.reader_limit;
  if (!connector_)
    connector_ = std::make_unique<tcp_connector>(self_);
  auto id = connector_->connect(remote, local, sock_opts(conf));
  if (!id)
    return make_error(id.error());
  return *id;
}

void broker_transport::connect_timeout(uint64_t id) {
  if (connector_)
    connector_->timeout(id);
}

void broker_transport::resolve(resolver_fn fn, std::string host, std::optional<net::family> fam,
                               caf::timespan timeout) {
  // A blocking job, off the I/O thread; the pipe waits at most `timeout`.
  run_blocking(self_, timeout,
               [fn, host, fam]() -> caf::expected<std::vector<net::ip_address>> {
                 auto r = fn(host, fam);
                 if (!r)
                   return make_error(r.error());
                 return std::move(*r);
               })
    .then([this](std::vector<net::ip_address>& ips) { events_.on_resolved(std::move(ips)); },
          [this, host, timeout](caf::error& err) {
            if (err == caf::sec::request_timeout) {
              auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
              err = make_error(errc::resolve_timeout, "resolving '" + host + "' took over "
                                                        + std::to_string(ms.count()) + " ms");
            }
            events_.on_resolve_failed(std::move(err));
          });
}

caf::expected<adopted_socket> broker_transport::adopt(pipe_spec& spec) {
  int fd = spec.adopt_fd;
  auto fail = [&](caf::error err) -> caf::expected<adopted_socket> {
    if (spec.conf.do_close)
      ::close(fd);
    return err;
  };
  auto proto = net::socket_protocol(fd);
  if (!proto)
    return fail(make_error(proto.error()));
  if (*proto != spec.proto)
    return fail(make_error(errc::invalid_argument,
                           "fd " + std::to_string(fd) + " is a "
                             + net::to_string(*proto) + " socket, not "
                             + net::to_string(spec.proto)));
  if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
    return fail(make_error(net::sys_error(errc::socket_failed, "making fd non-blocking failed",
                                          errno)));
  adopted_socket out;
  if (*proto == net::protocol::udp) {
    out.kind = adopted_socket::udp;
    if (spec.is_client()) {
      auto ip = net::ip_address::parse(spec.host);
      if (!ip)
        return fail(make_error(errc::invalid_argument,
                               "an adopted UDP socket needs an IP literal destination"));
      out.remote = endpoint{*ip, spec.port};
    }
    auto local = add_udp(net::unique_fd{fd}, spec.conf);
    if (!local)
      return std::move(local.error());
    out.local = *local;
    return out;
  }
  int listening = 0;
  socklen_t len = sizeof(listening);
  ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
  if (listening != 0) {
    add_acceptor(fd, spec.conf);
    out.kind = adopted_socket::listener;
    out.local = acceptor_->local();
    return out;
  }
  auto peer = net::peer_endpoint(fd);
  if (!peer)
    return fail(make_error(errc::invalid_argument,
                           "fd " + std::to_string(fd)
                             + " is a TCP socket that neither listens nor is connected"));
  if (spec.host.empty())
    spec.host = peer->ip.to_string(); // an adopted connection is a client pipe
  spec.port = peer->port;
  read_limit_ = spec.conf.reader_limit;
  out.kind = adopted_socket::stream;
  out.conn = add_stream(fd);
  out.local = out.conn->local();
  return out;
}

transport_counters broker_transport::counters() const {
  transport_counters out;
  if (udp_) {
    out.udp_rx_errors = udp_->stats().rx_errors;
    out.udp_tx_dropped = udp_->stats().tx_dropped;
  }
  if (acceptor_) {
    out.shed = acceptor_->stats().shed;
    out.accept_errors = acceptor_->stats().errors;
  }
  return out;
}

void broker_transport::close_all() {
  self_->close_all();
  udp_.reset();
  acceptor_.reset();
  connector_.reset();
}

void broker_transport::before_quit(const caf::error& reason) {
  close_mailbox(self_, reason);
}

} // namespace p2pd::actors::mux
