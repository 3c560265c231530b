#include "p2pd/actors/pipe/detail/pipe_open.hpp"

#include <algorithm>
#include <cerrno>

#include "caf/actor_cast.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/util/length_prefix.hpp"

namespace p2pd::actors {

namespace {

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

void open_server(pipe_state& st) {
  auto& spec = st.spec;
  auto local = spec.local ? *spec.local
                          : endpoint{net::ip_address::loopback(spec.fam.value_or(net::family::v4)),
                                     0};
  if (spec.proto == net::protocol::udp) {
    auto bound = st.transport->bind_udp(local, spec.conf);
    if (!bound)
      return st.open_failed(std::move(bound.error()));
    st.udp = true;
    st.info.local = *bound;
    return st.opened();
  }
  auto bound = st.transport->listen(local, spec.conf);
  if (!bound)
    return st.open_failed(std::move(bound.error()));
  st.listening = true;
  st.info.local = *bound;
  st.opened();
}

void open_udp_client(pipe_state& st, const endpoint& dest) {
  auto local = st.spec.local ? *st.spec.local
                             : endpoint{net::ip_address::any(dest.fam()), 0};
  auto bound = st.transport->bind_udp(local, st.spec.conf);
  if (!bound)
    return st.open_failed(std::move(bound.error()));
  st.udp = true;
  st.info.local = *bound;
  st.info.remote = dest;
  st.opened();
}

// Tries the resolved addresses in turn until one connects.
void connect_next(pipe_state& st) {
  if (st.next_candidate >= st.candidates.size())
    return st.open_failed(st.last_connect_error);
  endpoint dest{st.candidates[st.next_candidate++], st.spec.port};
  auto id = st.transport->connect(dest, st.spec.local, st.spec.conf);
  if (!id)
    return st.open_failed(std::move(id.error()));
  st.connect_id = *id;
  st.later(st.spec.conf.con_timeout, conn_tmo_atom::value, *id);
}

} // namespace

void pipe_state::on_resolved(std::vector<net::ip_address> ips) {
  auto& st = *this;
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
    return open_udp_client(st, endpoint{ips.front(), st.spec.port});
  if (ips.size() > timeouts::connect_attempts)
    ips.resize(timeouts::connect_attempts); // what open_timeout() allows for
  st.candidates = std::move(ips);
  st.last_connect_error = make_error(errc::connect_failed, "no address to connect to");
  connect_next(st);
}

void pipe_state::on_resolve_failed(caf::error err) {
  if (life.phase() == phase::opening)
    open_failed(err);
}

void pipe_state::on_connected(uint64_t attempt, pipe_stream_ptr conn) {
  if (attempt != connect_id || life.phase() != phase::opening) {
    conn->close(); // a late result
    return;
  }
  add_client_stream(std::move(conn));
}

void pipe_state::on_connect_failed(uint64_t attempt, int err, const endpoint& remote) {
  if (attempt != connect_id || life.phase() != phase::opening)
    return; // a late result
  last_connect_error = connect_error(err, remote, spec.local, spec.conf);
  connect_next(*this);
}

namespace {

void resolve(pipe_state& st) {
  auto fn = st.spec.resolver ? st.spec.resolver : resolver_fn{net::resolve_host};
  auto host = st.spec.host;
  auto fam = st.spec.fam;
  if (!st.spec.resolver && net::resolves_locally(host)) {
    // Literals and special-use names need no query, and no thread.
    auto r = fn(host, fam);
    if (!r)
      return st.open_failed(make_error(r.error()));
    return st.on_resolved(std::move(*r));
  }
  // getaddrinfo blocks: the transport runs it off the pipe's thread, and
  // the pipe waits at most dns_timeout for its answer.
  st.transport->resolve(std::move(fn), std::move(host), fam, st.spec.conf.dns_timeout);
}

void adopt(pipe_state& st) {
  auto& spec = st.spec;
  auto got = st.transport->adopt(spec);
  if (!got)
    return st.open_failed(std::move(got.error()));
  switch (got->kind) {
    case adopted_socket::udp:
      st.udp = true;
      st.info.local = got->local;
      if (spec.is_client())
        st.info.remote = got->remote;
      return st.opened();
    case adopted_socket::listener:
      // TLS asked of an adopted listener: its connections are TLS servers
      // (without a context they would be served in the clear).
      if (spec.use_tls())
        if (auto err = st.make_tls_context())
          return st.open_failed(err);
      st.listening = true;
      st.info.local = got->local;
      st.info.server = true;
      return st.opened();
    case adopted_socket::stream:
      break;
  }
  st.info.server = false; // an adopted connection is a client pipe
  if (spec.use_tls())
    if (auto err = st.make_tls_context()) {
      got->conn->close();
      return st.open_failed(err);
    }
  st.add_client_stream(std::move(got->conn));
}

} // namespace

void start_open(pipe_state& st) {
  auto& spec = st.spec;
  st.life.enter(pipe_state::phase::opening);
  st.hdl = caf::actor_cast<pipe_actor>(st.self);
  st.info.pipe = st.hdl;
  st.info.proto = spec.proto;
  st.info.server = !spec.is_client();
  if (auto err = st.transport->usable())
    return st.open_failed(err);
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
    return adopt(st);
  if (!spec.is_client())
    return open_server(st);
  if (spec.port == 0)
    return st.open_failed(make_error(errc::invalid_argument,
                                     "the destination " + spec.host + " needs a port"));
  resolve(st);
}

} // namespace p2pd::actors
