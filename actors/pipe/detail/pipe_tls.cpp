// TLS on a pipe's TCP connections: a net::tls_session per connection, fed
// with what the socket reads; the pipe delivers and sends plaintext.
#include "p2pd/actors/pipe/detail/pipe_state.hpp"

#include "p2pd/actors/pipe/detail/pipe_atoms.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

caf::error pipe_state::make_tls_context() {
  if (spec.proto != net::protocol::tcp)
    return make_error(errc::invalid_argument, "TLS (use_ssl) needs a TCP pipe");
  bool server = spec.tls_server(); // an adopted connection counts as a client
  auto end = [](bool s) { return s ? "server" : "client"; };
  if (spec.tls_context) {
    if (spec.tls_context->config().server != server) {
      auto why = spec.tls_as == tls_role::by_direction
                   ? std::string{"the pipe is a TLS "} + end(server)
                   : std::string{"the pipe's connections are TLS "} + end(server)
                       + "s (tls_as)";
      return make_error(errc::invalid_argument,
                        why + " but its TLS context is for a " + end(!server));
    }
    tls_ctx = spec.tls_context;
    return caf::none;
  }
  auto config = spec.tls.value_or(net::tls_config{});
  config.server = server;
  auto ctx = net::tls_context::make(config);
  if (!ctx)
    return make_error(ctx.error());
  tls_ctx = std::move(*ctx);
  return caf::none;
}

caf::error pipe_state::start_tls(conn& c) {
  // A TLS client checks the name it connected to, unless told another one;
  // a server pipe's connection that is a TLS client has only the context's.
  std::string host;
  if (!tls_ctx->config().server && spec.is_client())
    host = spec.tls && !spec.tls->host_name.empty() ? spec.tls->host_name : spec.host;
  auto session = net::tls_session::make(tls_ctx, host, c.peer.to_string());
  if (!session)
    return make_error(session.error());
  if (spec.expect_node)
    session->expect_peer(*spec.expect_node);
  c.tls.emplace(std::move(*session));
  flush_tls(c); // a TLS client's ClientHello; a TLS server waits for it
  later(spec.conf.ssl_handshake, tls_tmo_atom::value, c.stream->id());
  return caf::none;
}

void pipe_state::flush_tls(conn& c) {
  if (!c.tls || c.tls->output_size() == 0)
    return;
  c.tls->take_output(c.stream->wr_buf());
  c.stream->flush();
}

void pipe_state::tls_failed(stream_id h, caf::error err) {
  auto i = conns.find(h);
  if (i == conns.end())
    return;
  flush_tls(i->second); // the alert tells the peer why
  if (spec.is_client()) {
    if (life.phase() == phase::opening)
      return open_failed(err);
    conns.erase(i);
    by_peer.clear();
    return finish_close(err, false);
  }
  auto peer = i->second.peer;
  i->second.stream->close();
  by_peer.erase(peer);
  conns.erase(i);
  notify(events::end, caf::make_message(pipe_end{hdl, peer, false, err}));
  end_if_unlistened();
}

void pipe_state::tls_timeout(stream_id h) {
  auto i = conns.find(h);
  if (i == conns.end() || i->second.secure)
    return;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(spec.conf.ssl_handshake);
  tls_failed(h, make_error(errc::tls_failed, "TLS handshake with " + i->second.peer.to_string()
                                               + " did not finish within "
                                               + std::to_string(ms.count()) + " ms"));
}

void pipe_state::close_tls() {
  for (auto& kvp : conns)
    if (kvp.second.tls && kvp.second.secure) {
      kvp.second.tls->close_notify();
      flush_tls(kvp.second);
    }
}

} // namespace p2pd::actors
