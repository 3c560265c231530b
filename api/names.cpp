#include "p2pd/api/names.hpp"

#include <atomic>

#include "p2pd/actors/common/clock.hpp"

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

// Request ids: unique in this process, so that a late answer to an earlier
// request on a reused port is not taken for this one's.
uint64_t next_request_id() {
  static std::atomic<uint64_t> next{static_cast<uint64_t>(system_clock_ns())};
  return ++next;
}

caf::expected<pipe_handle> open_client(runtime& rt, const name_server_addr& s) {
  auto spec = client_spec(s.proto, s.ep.ip.to_string(), s.ep.port);
  spec.length_prefixed = s.proto == net::protocol::tcp;
  return rt.open(std::move(spec));
}

} // namespace

std::vector<name_reply> ask_name_servers(runtime& rt, const std::vector<name_server_addr>& servers,
                                         const wn::request& req, caf::timespan timeout) {
  std::vector<name_reply> out;
  auto r = req;
  if (r.request_id == 0)
    r.request_id = next_request_id();
  auto data = wn::encode_request(r);
  std::vector<std::optional<pipe_handle>> pipes;
  for (const auto& s : servers) {
    out.emplace_back(s, make_error(errc::io_failed, "not asked"));
    pipes.emplace_back();
    if (!data) {
      out.back().answer = make_error(data.error().code, data.error().what);
      continue;
    }
    auto p = open_client(rt, s);
    if (!p) {
      out.back().answer = p.error();
      continue;
    }
    auto sent = p->send(std::string_view{reinterpret_cast<const char*>(data->data()), data->size()});
    if (sent) {
      out.back().answer = sent;
      p->close();
      continue;
    }
    pipes.back() = std::move(*p);
  }
  // Every request is out: the waits below overlap.
  for (size_t i = 0; i < servers.size(); ++i) {
    if (!pipes[i])
      continue;
    auto& p = *pipes[i];
    auto got = p.recv(timeout);
    p.close();
    if (!got) {
      out[i].answer = got.error();
      continue;
    }
    auto resp = wn::decode_response(reinterpret_cast<const uint8_t*>(got->data.data()),
                                    got->data.size());
    if (!resp) {
      out[i].answer = make_error(resp.error().code, resp.error().what);
      continue;
    }
    if (resp->request_id != r.request_id && resp->request_id != 0) {
      out[i].answer = make_error(errc::not_for_us, "an answer to request "
                                                     + std::to_string(resp->request_id));
      continue;
    }
    out[i].answer = std::move(*resp);
  }
  return out;
}

name_publish publish_name(runtime& rt, const std::vector<name_server_addr>& servers,
                          const net::names::name_record& r, caf::timespan timeout) {
  wn::request req;
  req.op = r.deleted ? wn::op::del : wn::op::put;
  req.record = r;
  name_publish out;
  out.replies = ask_name_servers(rt, servers, req, timeout);
  for (const auto& reply : out.replies)
    out.stored += reply.answer && reply.answer->code == net::names::status::ok;
  return out;
}

caf::expected<name_lookup> lookup_name(runtime& rt, const std::vector<name_server_addr>& servers,
                                       const std::string& name, caf::timespan timeout,
                                       std::optional<int64_t> now_s,
                                       std::optional<net::names::owner_key> owner) {
  if (auto err = net::names::check_name(name))
    return make_error(err.code, err.what);
  wn::request req;
  req.op = wn::op::lookup;
  req.name = name;
  name_lookup out;
  out.replies = ask_name_servers(rt, servers, req, timeout);
  std::vector<net::names::name_record> found;
  for (const auto& r : out.replies) {
    if (!r.answer)
      continue;
    ++out.answered;
    if (r.answer->code == net::names::status::ok && r.answer->record)
      found.push_back(*r.answer->record);
  }
  auto pick = net::names::pick_newest(name, found, now_s.value_or(system_clock_ms() / 1000), owner);
  out.record = std::move(pick.record);
  out.forged = pick.forged;
  return out;
}

} // namespace p2pd
