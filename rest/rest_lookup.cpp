#include <memory>
#include <utility>

#include "p2pd/actors/common/clock.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/names/name_pick.hpp"
#include "p2pd/proto/names_codec.hpp"
#include "p2pd/rest/detail/rest_state.hpp"
#include "p2pd/rest/detail/rest_json.hpp"

// POST /open/<conn>/<name>: the name service's lookup without blocking the
// server (api/names.hpp's lookup_name blocks a runtime): a client pipe per
// name server, each a chain of requests on the server actor; once every
// server answered or timed out, the newest record whose signature checks
// (net::names::pick_newest) gives the peer address to connect to.

namespace p2pd::rest::detail {

namespace {

namespace wn = wire::names;

struct lookup_run {
  uint64_t gen = 0;  ///< the named_conn it holds while it looks up
  std::string conn_name;
  std::string name;
  uint64_t http_id = 0;
  size_t left = 0;
  size_t answered = 0;
  std::vector<net::names::name_record> found;
};

void finish_one(server_actor* self, const std::shared_ptr<lookup_run>& run) {
  if (--run->left > 0)
    return;
  auto& st = self->state;
  auto held = st.names.find(run->conn_name);
  if (held == st.names.end() || held->second.gen != run->gen)
    return answer(self, run->http_id,
                  error_response(410, "connection '" + run->conn_name
                                        + "' was closed while its name was looked up"));
  auto pick = net::names::pick_newest(run->name, run->found, system_clock_ms() / 1000);
  if (!pick.record) {
    st.names.erase(held);
    json j = {{"error", "no valid record of '" + run->name + "'"},
              {"servers_answered", run->answered},
              {"forged", pick.forged}};
    return answer(self, run->http_id, json_response(run->answered == 0 ? 502 : 404, dump(j)));
  }
  auto& v = pick.record->value;
  std::string address(v.begin(), v.end());
  if (address.rfind(node::peer_address_prefix, 0) != 0) {
    st.names.erase(held);
    return answer(self, run->http_id,
                  error_response(502, "the record of '" + run->name + "' is not a peer address"));
  }
  connect_to(self, run->http_id, run->conn_name, std::move(address));
}

void ask_one(server_actor* self, const std::shared_ptr<lookup_run>& run,
             const name_server_addr& server, const bytes& req, caf::timespan timeout) {
  auto spec = client_spec(server.proto, server.ep.ip.to_string(), server.ep.port);
  spec.length_prefixed = server.proto == net::protocol::tcp;
  spec.conf.con_timeout = timeout;
  auto pipe = spawn_pipe(self->home_system(), std::move(spec));
  auto done = [self, run, pipe] {
    self->send(pipe, caf::close_atom::value);
    finish_one(self, run);
  };
  // Bounded by the pipe's own timeouts (connect, recv): no request timeout
  // that would hold the server alive.
  self->request(pipe, timeouts::until_answered, caf::open_atom::value)
    .then(
      [=](pipe_info&) {
        self->send(pipe, send_atom::value, req);
        self->request(pipe, timeouts::until_answered, recv_atom::value, msg_filter::any(), timeout)
          .then(
            [=](pipe_msg& m) {
              ++run->answered;
              auto r = wn::decode_response(reinterpret_cast<const uint8_t*>(m.data.data()),
                                           m.data.size());
              if (r && r->code == net::names::status::ok && r->record)
                run->found.push_back(std::move(*r->record));
              done();
            },
            [=](caf::error&) { done(); });
      },
      [=](caf::error&) { done(); });
}

} // namespace

void lookup_then_connect(server_actor* self, uint64_t id, const std::string& conn_name,
                         const std::string& name) {
  auto& st = self->state;
  wn::request req;
  req.op = wn::op::lookup;
  req.name = name;
  req.request_id = st.next_id++;
  auto data = wn::encode_request(req);
  if (!data)
    return answer(self, id, error_response(400, "cannot ask for '" + name + "': " + data.error().what));
  // The name is held while it is looked up: a second open of it is 409, a
  // close ends the open (its lookup's answer then finds another or none).
  named_conn held;
  held.gen = st.next_id++;
  held.address = name;
  held.opened_ms = st.now_ms();
  st.names[conn_name] = held;
  auto run = std::make_shared<lookup_run>();
  run->gen = held.gen;
  run->conn_name = conn_name;
  run->name = name;
  run->http_id = id;
  run->left = st.spec.name_servers.size();
  bytes b(data->begin(), data->end());
  for (const auto& s : st.spec.name_servers)
    ask_one(self, run, s, b, st.spec.limits.lookup_timeout);
}

} // namespace p2pd::rest::detail
