#include "p2pd/actors/pipe/detail/pipe_open.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/mux/detail/default_mpx.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/util/length_prefix.hpp"

namespace p2pd::actors {

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

caf::error connect_error(int err, const endpoint& dest, const std::optional<endpoint>& local,
                         const net_conf& conf) {
  auto what = "connect to " + dest.to_string();
  switch (err) {
    case EADDRNOTAVAIL:
      if (local && local->port != 0) // bind-before-connect, as hole punching does
        return make_error(net::sys_error(errc::connect_failed,
                                         what + " from " + local->to_string()
                                           + " failed: a connection between these two"
                                             " endpoints exists already",
                                         err));
      return make_error(net::sys_error(errc::connect_failed, what + " failed", err));
    case ECONNREFUSED:
      return make_error(net::sys_error(errc::connect_refused,
                                       what + " refused: nothing listens there", err));
    case ETIMEDOUT: {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(conf.con_timeout);
      return make_error(errc::connect_timeout, what + " timed out after "
                                                 + std::to_string(ms.count()) + " ms");
    }
    default:
      return make_error(net::sys_error(errc::connect_failed, what + " failed", err));
  }
}

void watch_oversized(pipe_broker_ptr self) {
  auto me = caf::actor_cast<caf::weak_actor_ptr>(self);
  self->state.udp->on_oversized([me](const endpoint& from, size_t size) {
    if (auto hdl = caf::actor_cast<caf::actor>(me.lock()))
      caf::anon_send(hdl, oversized_atom::value, from, static_cast<uint64_t>(size));
  });
}

caf::error add_udp(pipe_broker_ptr self, net::unique_fd fd) {
  auto& st = self->state;
  auto* dm = mux::default_mpx(self);
  auto local = net::local_endpoint(fd.get());
  if (!local)
    return make_error(local.error());
  st.udp = caf::make_counted<mux::udp_servant>(*dm, fd.release(), st.spec.conf.reader_limit,
                                               st.spec.conf.max_qsize);
  self->add_datagram_servant(st.udp);
  watch_oversized(self);
  st.info.local = *local;
  return caf::none;
}

void add_client_stream(pipe_broker_ptr self, net::unique_fd fd) {
  auto& st = self->state;
  auto stream = caf::make_counted<mux::tcp_stream>(*mux::default_mpx(self), fd.release(),
                                                   st.spec.conf.reader_limit);
  self->add_scribe(stream);
  st.client_conn = stream->hdl();
  st.info.local = stream->local();
  st.info.remote = stream->peer();
  st.add_conn(stream); // opens the pipe now, or after the TLS handshake
}

void open_server(pipe_broker_ptr self) {
  auto& st = self->state;
  auto& spec = st.spec;
  auto local = spec.local ? *spec.local
                          : endpoint{net::ip_address::loopback(spec.fam.value_or(net::family::v4)),
                                     0};
  if (spec.proto == net::protocol::udp) {
    auto fd = net::open_bound_socket(net::protocol::udp, local, sock_opts(spec.conf));
    if (!fd)
      return st.open_failed(make_error(fd.error()));
    if (auto err = add_udp(self, std::move(*fd)))
      return st.open_failed(err);
    return st.opened();
  }
  auto fd = net::open_listener(local, sock_opts(spec.conf));
  if (!fd)
    return st.open_failed(make_error(fd.error()));
  st.acceptor = caf::make_counted<mux::tcp_acceptor>(*mux::default_mpx(self), fd->release(),
                                                     spec.conf.reader_limit);
  self->add_doorman(st.acceptor);
  st.info.local = st.acceptor->local();
  st.opened();
}

void open_udp_client(pipe_broker_ptr self, const endpoint& dest) {
  auto& st = self->state;
  auto local = st.spec.local ? *st.spec.local
                             : endpoint{net::ip_address::any(dest.fam()), 0};
  auto fd = net::open_bound_socket(net::protocol::udp, local, sock_opts(st.spec.conf));
  if (!fd)
    return st.open_failed(make_error(fd.error()));
  if (auto err = add_udp(self, std::move(*fd)))
    return st.open_failed(err);
  st.info.remote = dest;
  st.opened();
}

// Tries the resolved addresses in turn until one connects.
void connect_next(pipe_broker_ptr self) {
  auto& st = self->state;
  if (st.next_candidate >= st.candidates.size())
    return st.open_failed(st.last_connect_error);
  endpoint dest{st.candidates[st.next_candidate++], st.spec.port};
  if (!st.connector)
    st.connector = std::make_unique<mux::tcp_connector>(self);
  auto id = st.connector->connect(dest, st.spec.local, sock_opts(st.spec.conf));
  if (!id)
    return st.open_failed(make_error(id.error()));
  st.connect_id = *id;
  self->delayed_send(self, st.spec.conf.con_timeout, conn_tmo_atom::value, *id);
}

void on_resolved(pipe_broker_ptr self, std::vector<net::ip_address> ips) {
  auto& st = self->state;
  if (st.life.phase() != pipe_state::phase::opening)
    return;
  if (st.spec.local) {
    auto f = st.spec.local->fam();
    ips.erase(std::remove_if(ips.begin(), ips.end(),
                             [f](const net::ip_address& ip) { return ip.fam() != f; }),
              ips.end());
    if (ips.empty())
      return st.open_failed(make_error(
        errc::family_unsupported, "'" + st.spec.host + "' has no "
                                    + net::to_string(f) + " address to reach from "
                                    + st.spec.local->to_string()));
  }
  if (st.spec.proto == net::protocol::udp)
    return open_udp_client(self, endpoint{ips.front(), st.spec.port});
  if (ips.size() > timeouts::connect_attempts)
    ips.resize(timeouts::connect_attempts); // what open_timeout() allows for
  st.candidates = std::move(ips);
  st.last_connect_error = make_error(errc::connect_failed, "no address to connect to");
  connect_next(self);
}

void resolve(pipe_broker_ptr self) {
  auto& st = self->state;
  auto fn = st.spec.resolver ? st.spec.resolver : resolver_fn{net::resolve_host};
  auto host = st.spec.host;
  auto fam = st.spec.fam;
  if (!st.spec.resolver && net::resolves_locally(host)) {
    // Literals and special-use names need no query, and no thread.
    auto r = fn(host, fam);
    if (!r)
      return st.open_failed(make_error(r.error()));
    return on_resolved(self, std::move(*r));
  }
  // getaddrinfo blocks: it runs as a blocking job, off the I/O thread, and
  // the pipe waits at most dns_timeout for its answer.
  auto dns_timeout = st.spec.conf.dns_timeout;
  run_blocking(self, dns_timeout,
               [fn, host, fam]() -> caf::expected<std::vector<net::ip_address>> {
                 auto r = fn(host, fam);
                 if (!r)
                   return make_error(r.error());
                 return std::move(*r);
               })
    .then([self](std::vector<net::ip_address>& ips) { on_resolved(self, std::move(ips)); },
          [self, host, dns_timeout](caf::error& err) {
            if (self->state.life.phase() != pipe_state::phase::opening)
              return;
            if (err == caf::sec::request_timeout) {
              auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(dns_timeout);
              err = make_error(errc::resolve_timeout, "resolving '" + host + "' took over "
                                                        + std::to_string(ms.count())
                                                        + " ms");
            }
            self->state.open_failed(err);
          });
}

void adopt(pipe_broker_ptr self) {
  auto& st = self->state;
  auto& spec = st.spec;
  int fd = spec.adopt_fd;
  auto fail = [&](caf::error err) {
    if (spec.conf.do_close)
      ::close(fd);
    st.open_failed(err);
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
  if (*proto == net::protocol::udp) {
    if (spec.is_client()) {
      auto ip = net::ip_address::parse(spec.host);
      if (!ip)
        return fail(make_error(errc::invalid_argument,
                               "an adopted UDP socket needs an IP literal destination"));
      st.info.remote = endpoint{*ip, spec.port};
    }
    if (auto err = add_udp(self, net::unique_fd{fd}))
      return st.open_failed(err);
    return st.opened();
  }
  int listening = 0;
  socklen_t len = sizeof(listening);
  ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
  if (listening != 0) {
    st.acceptor = caf::make_counted<mux::tcp_acceptor>(*mux::default_mpx(self), fd,
                                                       spec.conf.reader_limit);
    self->add_doorman(st.acceptor);
    st.info.local = st.acceptor->local();
    st.info.server = true;
    return st.opened();
  }
  auto peer = net::peer_endpoint(fd);
  if (!peer)
    return fail(make_error(errc::invalid_argument,
                           "fd " + std::to_string(fd)
                             + " is a TCP socket that neither listens nor is connected"));
  if (spec.host.empty())
    spec.host = peer->ip.to_string(); // an adopted connection is a client pipe
  spec.port = peer->port;
  st.info.server = false;
  if (spec.use_tls())
    if (auto err = st.make_tls_context())
      return st.open_failed(err);
  add_client_stream(self, net::unique_fd{fd});
}

} // namespace

void start_open(pipe_broker_ptr self) {
  auto& st = self->state;
  auto& spec = st.spec;
  st.life.enter(pipe_state::phase::opening);
  st.hdl = caf::actor_cast<pipe_actor>(self);
  st.info.pipe = st.hdl;
  st.info.proto = spec.proto;
  st.info.server = !spec.is_client();
  if (mux::default_mpx(self) == nullptr)
    return st.open_failed(make_error(errc::invalid_argument,
                                     "pipes need the middleman's default multiplexer"));
  if (spec.length_prefixed) {
    if (spec.proto != net::protocol::tcp)
      return st.open_failed(make_error(errc::invalid_argument,
                                       "length_prefixed is for TCP pipes (a datagram is a message)"));
    if (spec.conf.reader_limit <= net::length_prefix_size)
      return st.open_failed(make_error(errc::invalid_argument,
                                       "length_prefixed needs a reader_limit above 4 bytes"));
    auto max = spec.conf.reader_limit - net::length_prefix_size;
    spec.framer = [max](std::string_view buffered) {
      return net::length_prefixed_size(buffered, max);
    };
  }
  if (spec.route || spec.bind) {
    auto ep = spec.route
                ? net::resolve_bind(spec.bind.value_or(net::bind_spec{
                                      net::bind_spec::nic, spec.route->fam, {}, 0}),
                                    *spec.route)
                : net::resolve_bind(*spec.bind);
    if (!ep)
      return st.open_failed(make_error(ep.error()));
    spec.local = *ep;
  }
  if (spec.use_tls() && spec.adopt_fd < 0)
    if (auto err = st.make_tls_context())
      return st.open_failed(err);
  if (spec.adopt_fd >= 0)
    return adopt(self);
  if (!spec.is_client())
    return open_server(self);
  if (spec.port == 0)
    return st.open_failed(make_error(errc::invalid_argument,
                                     "the destination " + spec.host + " needs a port"));
  resolve(self);
}

void on_connect_result(pipe_broker_ptr self, mux::connect_result& r) {
  auto& st = self->state;
  if (r.id != st.connect_id || st.life.phase() != pipe_state::phase::opening)
    return; // a late result; its socket closes with the message
  if (!r.ok()) {
    st.last_connect_error = connect_error(r.error, r.remote, st.spec.local, st.spec.conf);
    return connect_next(self);
  }
  add_client_stream(self, std::move(*r.fd));
}

} // namespace p2pd::actors
