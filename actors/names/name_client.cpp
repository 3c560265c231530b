#include "p2pd/actors/names/name_client.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>

#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/inspect_net.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/names/name_rules.hpp"

namespace p2pd {

namespace {

namespace wn = wire::names;

struct client_state {
  static inline const char* name = "p2pd.name_client";
  name_client_spec spec;
  uint64_t next_id = 1;
  /// Server-file names: none to resolve, resolving, resolved.
  enum class names_step : uint8_t { none, resolving, resolved } step = names_step::none;
  /// Requests that came while the names resolved.
  std::vector<std::function<void()>> waiting;
};

using client_ptr = name_client_actor::stateful_pointer<client_state>;
using replies_fn = std::function<void(std::vector<name_reply>)>;

// One request on its way to every server.
struct ask_run {
  std::vector<name_reply> replies;
  std::vector<bool> finished;
  size_t left = 0;
  uint64_t request_id = 0;
  replies_fn then;
};

void finish(const std::shared_ptr<ask_run>& run, size_t i, caf::expected<wn::response> answer) {
  if (run->finished[i])
    return;
  run->finished[i] = true;
  run->replies[i].answer = std::move(answer);
  if (--run->left == 0)
    run->then(std::move(run->replies));
}

// One server: a pipe of the stack, opened (bounded by con_timeout), the
// request sent, one answer read within what is left of the timeout. No
// request carries a CAF timeout: the pipe's own bound every wait.
void ask_one(client_ptr self, const std::shared_ptr<ask_run>& run, size_t i, const bytes& req) {
  auto& st = self->state;
  const auto& server = run->replies[i].server;
  auto spec = client_spec(server.proto, server.ep.ip.to_string(), server.ep.port);
  spec.length_prefixed = server.proto == net::protocol::tcp;
  spec.conf.con_timeout = st.spec.timeout;
  spec.conf.ssl_handshake = st.spec.timeout;
  auto pipe = stack_or_os(st.spec.stack).spawn_pipe(self->home_system(), std::move(spec));
  auto deadline = self->clock().now() + st.spec.timeout;
  auto done = [run, i, pipe](caf::expected<wn::response> answer) {
    caf::anon_send(pipe, caf::close_atom::value);
    finish(run, i, std::move(answer));
  };
  self->request(pipe, timeouts::until_answered, caf::open_atom::value)
    .then(
      [=](pipe_info&) {
        caf::anon_send(pipe, send_atom::value, req);
        auto left = std::max<caf::timespan>(std::chrono::milliseconds(1),
                                            deadline - self->clock().now());
        self->request(pipe, timeouts::until_answered, recv_atom::value, msg_filter::any(), left)
          .then(
            [=](pipe_msg& m) {
              auto resp = wn::decode_response(reinterpret_cast<const uint8_t*>(m.data.data()),
                                              m.data.size());
              if (!resp)
                return done(make_error(resp.error().code, "an answer that does not decode: "
                                                            + resp.error().what));
              // Id 0 is a server's answer to a request it could not decode:
              // an error, never a record or a stored put of ours.
              bool unread = resp->request_id == 0 && resp->code != net::names::status::ok;
              if (resp->request_id != run->request_id && !unread)
                return done(make_error(errc::not_for_us, "an answer to request "
                                                           + std::to_string(resp->request_id)));
              done(std::move(*resp));
            },
            [=](caf::error& err) { done(std::move(err)); });
      },
      [=](caf::error& err) { done(std::move(err)); });
}

void ask_all(client_ptr self, wn::request req, replies_fn then) {
  auto& st = self->state;
  if (req.request_id == 0)
    req.request_id = st.next_id++;
  auto run = std::make_shared<ask_run>();
  run->request_id = req.request_id;
  run->then = std::move(then);
  for (const auto& s : st.spec.servers)
    run->replies.emplace_back(s, make_error(errc::io_failed, "not asked"));
  run->finished.assign(run->replies.size(), false);
  run->left = run->replies.size();
  if (run->left == 0)
    return run->then({});
  auto data = wn::encode_request(req);
  if (!data) {
    for (size_t i = 0; i < run->replies.size(); ++i)
      finish(run, i, make_error(data.error().code, data.error().what));
    return;
  }
  bytes b(data->begin(), data->end());
  for (size_t i = 0; i < run->replies.size(); ++i)
    ask_one(self, run, i, b);
}

// Runs `fn` once the server file's names are resolved (at once when there
// are none, or they were resolved before).
void with_servers(client_ptr self, std::function<void()> fn) {
  auto& st = self->state;
  if (st.step == client_state::names_step::resolved) {
    return fn();
  }
  st.waiting.push_back(std::move(fn));
  if (st.step == client_state::names_step::resolving)
    return;
  st.step = client_state::names_step::resolving;
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.dns_timeout);
  auto resolved = [self](std::vector<endpoint> eps) {
    auto& st = self->state;
    for (auto& ep : eps)
      st.spec.servers.push_back({net::protocol::tcp, ep});
    // None resolved (no network yet at boot, a resolver down): the next
    // request tries again rather than the client asking nobody for good.
    st.step = eps.empty() ? client_state::names_step::none : client_state::names_step::resolved;
    auto waiting = std::move(st.waiting);
    st.waiting.clear();
    for (auto& w : waiting)
      w();
  };
  // getaddrinfo blocks: a job, answered within about dns_timeout. Names
  // that do not resolve are servers not asked.
  actors::run_blocking(self, timeouts::until_answered,
                       [entries = st.spec.entries, timeout] {
                         auto rs = net::resolve_servers(entries, timeout, {net::server_kind::name});
                         return rs.of(net::server_kind::name);
                       })
    .then([=](std::vector<endpoint>& eps) { resolved(std::move(eps)); },
          [=](caf::error&) { resolved({}); });
}

} // namespace

std::vector<net::server_entry> name_entries_of(const std::vector<net::server_entry>& list) {
  std::vector<net::server_entry> out;
  for (const auto& e : list)
    if (e.kind == net::server_kind::name)
      out.push_back(e);
  return out;
}

name_lookup decide_lookup(const name_query& q, std::vector<name_reply> replies, int64_t now_s) {
  name_lookup out;
  std::vector<net::names::name_record> found;
  for (const auto& r : replies) {
    if (!r.answer)
      continue;
    ++out.answered;
    const auto& a = *r.answer;
    bool tombstone = a.code == net::names::status::not_found && a.record && a.record->deleted;
    if ((a.code == net::names::status::ok && a.record) || tombstone)
      found.push_back(*a.record);
  }
  auto pick = net::names::pick_newest(q.name, found, now_s, q.owner);
  out.record = std::move(pick.record);
  out.deleted = std::move(pick.deleted);
  out.forged = pick.forged;
  out.overridden = pick.overridden;
  for (const auto& r : found) {
    if ((out.record && r == *out.record) || (out.deleted && r == *out.deleted))
      ++out.agreed;
    else if (r.name == q.name && net::names::is_live(r, now_s) && (!q.owner || r.owner == *q.owner)
             && net::names::verify_record(r))
      ++out.disagreed;
  }
  out.replies = std::move(replies);
  return out;
}

name_client_actor spawn_name_client(caf::actor_system& sys, name_client_spec spec) {
  return sys.spawn(
    [](client_ptr self, name_client_spec spec) -> name_client_actor::behavior_type {
      auto& st = self->state;
      st.spec = std::move(spec);
      st.next_id = stack_or_os(st.spec.stack).rng_seed() | 1;
      if (st.spec.entries.empty())
        st.step = client_state::names_step::resolved;
      return {
        [=](name_ask_atom, wn::request& req) -> caf::result<std::vector<name_reply>> {
          auto rp = self->make_response_promise<std::vector<name_reply>>();
          with_servers(self, [=]() mutable {
            ask_all(self, req, [rp](std::vector<name_reply> out) mutable { rp.deliver(out); });
          });
          return rp;
        },
        [=](name_put_atom, net::names::name_record& r) -> caf::result<name_publish> {
          auto rp = self->make_response_promise<name_publish>();
          wn::request req;
          req.op = r.deleted ? wn::op::del : wn::op::put;
          req.record = std::move(r);
          with_servers(self, [=]() mutable {
            ask_all(self, req, [rp](std::vector<name_reply> replies) mutable {
              name_publish out;
              for (const auto& reply : replies)
                out.stored += reply.answer && reply.answer->code == net::names::status::ok;
              out.replies = std::move(replies);
              rp.deliver(out);
            });
          });
          return rp;
        },
        [=](name_lookup_atom, name_query& q) -> caf::result<name_lookup> {
          if (auto err = net::names::check_name(q.name))
            return make_error(err.code, err.what);
          auto rp = self->make_response_promise<name_lookup>();
          wn::request req;
          req.op = wn::op::lookup;
          req.name = q.name;
          with_servers(self, [=]() mutable {
            ask_all(self, req, [self, rp, q](std::vector<name_reply> replies) mutable {
              auto now = q.now_s.value_or(stack_or_os(self->state.spec.stack).unix_ms() / 1000);
              rp.deliver(decide_lookup(q, std::move(replies), now));
            });
          });
          return rp;
        },
      };
    },
    std::move(spec));
}

} // namespace p2pd
