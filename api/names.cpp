#include "p2pd/api/names.hpp"

#include <utility>

#include "caf/scoped_actor.hpp"

#include "p2pd/messages/errors.hpp"

namespace p2pd {

namespace wn = wire::names;

caf::expected<name_server_handle> start_name_server(runtime& rt, name_server_spec spec,
                                                    const std::vector<listen_addr>& addrs,
                                                    daemon_spec base) {
  auto srv = spawn_name_server(rt.system(), std::move(spec));
  if (!srv)
    return srv.error();
  auto d = rt.start_daemon(name_daemon_spec(*srv, std::move(base)));
  if (!d) {
    caf::anon_send_exit(*srv, caf::exit_reason::user_shutdown);
    return d.error();
  }
  auto ls = d->listen_specific(addrs);
  if (!ls) {
    d->close();
    caf::anon_send_exit(*srv, caf::exit_reason::user_shutdown);
    return ls.error();
  }
  return name_server_handle{*srv, std::make_shared<daemon_handle>(std::move(*d)), std::move(*ls)};
}

namespace {

// One request of a client actor spawned for this call, waited for on this
// thread. The client answers once every server answered or its pipes timed
// out; the bound here only catches a client that died.
template <class Result, class... Ts>
caf::expected<Result> ask_client(runtime& rt, const std::vector<name_server_addr>& servers,
                                 caf::timespan timeout, Ts&&... xs) {
  name_client_spec spec;
  spec.servers = servers;
  spec.timeout = timeout;
  auto client = spawn_name_client(rt.system(), std::move(spec));
  caf::scoped_actor self{rt.system()};
  caf::expected<Result> out = make_error(errc::io_failed, "the name client did not answer");
  self->request(client, timeout * 3 + std::chrono::seconds(5), std::forward<Ts>(xs)...)
    .receive([&](Result& r) { out = std::move(r); }, [&](caf::error& err) { out = std::move(err); });
  self->send_exit(client, caf::exit_reason::user_shutdown);
  return out;
}

} // namespace

std::vector<name_reply> ask_name_servers(runtime& rt, const std::vector<name_server_addr>& servers,
                                         const wn::request& req, caf::timespan timeout) {
  auto got = ask_client<std::vector<name_reply>>(rt, servers, timeout, name_ask_atom::value, req);
  if (got)
    return std::move(*got);
  std::vector<name_reply> out;
  for (const auto& s : servers)
    out.emplace_back(s, got.error());
  return out;
}

name_publish publish_name(runtime& rt, const std::vector<name_server_addr>& servers,
                          const net::names::name_record& r, caf::timespan timeout) {
  auto got = ask_client<name_publish>(rt, servers, timeout, name_put_atom::value, r);
  if (got)
    return std::move(*got);
  name_publish out;
  for (const auto& s : servers)
    out.replies.emplace_back(s, got.error());
  return out;
}

caf::expected<name_lookup> lookup_name(runtime& rt, const std::vector<name_server_addr>& servers,
                                       const std::string& name, caf::timespan timeout,
                                       std::optional<int64_t> now_s,
                                       std::optional<net::names::owner_key> owner) {
  name_query q{name, owner, now_s};
  return ask_client<name_lookup>(rt, servers, timeout, name_lookup_atom::value, std::move(q));
}

} // namespace p2pd
