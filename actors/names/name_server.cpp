#include "p2pd/actors/names/name_server.hpp"

#include <string>
#include <utility>

#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/stateful_actor.hpp"

#include "p2pd/actors/names/name_client.hpp" // wire::names::response as a message
#include "p2pd/actors/common/clock.hpp"
#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/messages/atoms.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/names/rate_limiter.hpp"
#include "p2pd/proto/names_codec.hpp"

namespace p2pd {

namespace {

namespace nn = net::names;
namespace wn = wire::names;

using actors::run_blocking;
using purge_atom = caf::atom_constant<caf::atom("p2nmpurge")>;

struct server_state {
  name_server_spec spec;
  nn::rate_limiter by_ip{1, 1};
  nn::rate_limiter by_key{1, 1};
  size_t pending = 0;
  name_server_stats stats;
  caf::actor ticker;

  ~server_state() {
    if (ticker)
      caf::anon_send_exit(ticker, caf::exit_reason::user_shutdown);
  }

  int64_t now_ms() const { return spec.clock_ms(); }
};

using server_actor = caf::stateful_actor<server_state>;

bytes to_bytes(const std::vector<uint8_t>& b) {
  return bytes(b.begin(), b.end());
}

// The answer to one request as wire bytes; an answer that does not encode
// (it always should: the codec bounds every field) is sent as "internal".
bytes encode(wn::response r) {
  auto out = wn::encode_response(r);
  if (!out) {
    wn::response fallback;
    fallback.request_id = r.request_id;
    fallback.code = nn::status::internal;
    fallback.detail = "the answer did not encode";
    out = wn::encode_response(fallback);
  }
  return out ? to_bytes(*out) : bytes{};
}

wn::response answer(uint64_t id, nn::status code, std::string detail = {}) {
  wn::response r;
  r.request_id = id;
  r.code = code;
  r.detail = std::move(detail);
  return r;
}

void reply(const pipe_msg& m, bytes data) {
  if (!data.empty())
    caf::anon_send(m.pipe, send_atom::value, std::move(data), m.from);
}

// What a client hears of a database failure: the database's own message
// may name hosts, users or schema, which are not the client's business.
const char* const db_failed = "the server's database failed; try again or another server";

void count(server_state& st, nn::status code) {
  switch (code) {
    case nn::status::ok: case nn::status::not_found: break;
    case nn::status::internal: ++st.stats.db_errors; break;
    default: ++st.stats.refused; break;
  }
}

// Runs `job` (a database call that returns the answer) off the actor, at
// most limits.max_pending at once; beyond that the client hears "busy".
// `served` is the counter of the calls the database answered "ok".
template <class Job>
void run_db(server_actor* self, pipe_msg m, uint64_t id, uint64_t name_server_stats::*served,
            Job job) {
  auto& st = self->state;
  if (st.pending >= st.spec.limits.max_pending) {
    ++st.stats.dropped_busy;
    reply(m, encode(answer(id, nn::status::busy, "too many requests in progress")));
    return;
  }
  ++st.pending;
  // No timeout: in CAF 0.17 a request's timeout holds the server alive until
  // it fires. The database bounds the call (SQLite's busy timeout, the
  // connection's), and max_pending bounds how many wait.
  run_blocking(self, timeouts::until_answered, std::move(job))
    .then(
      [self, m, served](wn::response& r) {
        --self->state.pending;
        if (r.code == nn::status::ok)
          ++(self->state.stats.*served);
        else if (r.code == nn::status::not_found && r.record)
          ++self->state.stats.tombstones;
        count(self->state, r.code);
        reply(m, encode(std::move(r)));
      },
      [self, m, id](caf::error&) {
        --self->state.pending;
        ++self->state.stats.db_errors;
        reply(m, encode(answer(id, nn::status::internal, db_failed)));
      });
}

void on_put(server_actor* self, pipe_msg m, wn::request req) {
  auto& st = self->state;
  auto now = st.now_ms() / 1000;
  auto id = req.request_id;
  auto v = nn::check_record(req.record, now, st.spec.rules);
  if (!v.ok()) {
    count(st, v.code);
    return reply(m, encode(answer(id, v.code, std::move(v.why))));
  }
  // After the signature: only the key's owner can spend its budget.
  auto key = nn::to_hex(req.record.owner.data(), req.record.owner.size());
  if (!st.by_key.allow(key, st.now_ms())) {
    ++st.stats.rate_limited;
    return reply(m, encode(answer(id, nn::status::rate_limited, "too many changes by this key")));
  }
  auto store = st.spec.store;
  auto rules = st.spec.rules;
  run_db(self, m, id, &name_server_stats::puts, [store, rules, now, id, rec = std::move(req.record)] {
    auto got = store->put(rec, now, rules);
    if (!got)
      return answer(id, nn::status::internal, db_failed);
    return answer(id, got->code, std::move(got->why));
  });
}

void on_lookup(server_actor* self, pipe_msg m, wn::request req) {
  auto& st = self->state;
  auto id = req.request_id;
  if (auto err = nn::check_name(req.name)) {
    ++st.stats.refused;
    return reply(m, encode(answer(id, nn::status::invalid, err.what)));
  }
  auto now = st.now_ms() / 1000;
  auto store = st.spec.store;
  run_db(self, m, id, &name_server_stats::lookups, [store, now, id, name = std::move(req.name)] {
    auto got = store->lookup(name, now);
    if (!got)
      return answer(id, nn::status::internal, db_failed);
    if (!*got)
      return answer(id, nn::status::not_found, "no record of '" + name + "'");
    if ((*got)->deleted) {
      // Not found, with the owner's signed deletion as proof: it outranks
      // the older record a server that missed the deletion may still serve.
      // Clients before tombstones were served read the status alone.
      auto r = answer(id, nn::status::not_found, "'" + name + "' was deleted by its owner");
      r.record = std::move(**got);
      return r;
    }
    auto r = answer(id, nn::status::ok);
    r.record = std::move(**got);
    return r;
  });
}

void on_request(server_actor* self, pipe_msg& m) {
  auto& st = self->state;
  ++st.stats.requests;
  if (!st.by_ip.allow(m.from.ip.to_string(), st.now_ms())) {
    // Not even an answer past the limit's first refusals would help a
    // flooder less: answering costs no database call, and a client that
    // is merely busy learns why it is refused.
    ++st.stats.rate_limited;
    return reply(m, encode(answer(0, nn::status::rate_limited, "too many requests from here")));
  }
  auto data = reinterpret_cast<const uint8_t*>(m.data.data());
  auto req = wn::decode_request(data, m.data.size());
  if (!req) {
    ++st.stats.malformed;
    auto id = wn::peek_request_id(data, m.data.size()).value_or(0);
    auto code = req.error().code == errc::unsupported_version ? nn::status::unsupported_version
                                                              : nn::status::malformed;
    return reply(m, encode(answer(id, code, req.error().what)));
  }
  if (req->op == wn::op::lookup)
    on_lookup(self, m, std::move(*req));
  else
    on_put(self, m, std::move(*req));
}

caf::behavior name_server(server_actor* self, name_server_spec spec) {
  auto& st = self->state;
  auto& lim = spec.limits;
  st.by_ip = nn::rate_limiter{lim.ip_per_s, lim.ip_burst, lim.max_tracked};
  st.by_key = nn::rate_limiter{lim.key_per_s, lim.key_burst, lim.max_tracked};
  if (!spec.clock_ms)
    spec.clock_ms = system_clock_ms;
  st.spec = std::move(spec);
  st.ticker = actors::start_weak_ticker(self->home_system(), self->ctrl(),
                                        st.spec.purge_interval,
                                        caf::make_message(purge_atom::value));
  return {
    [self](pipe_msg& m) { on_request(self, m); },
    // The listeners' other events (clients coming and going) need nothing.
    [](pipe_up&) {},
    [](pipe_end&) {},
    [](pipe_error&) {},
    [self](purge_atom) {
      auto store = self->state.spec.store;
      auto now = self->state.now_ms() / 1000;
      run_blocking(self, timeouts::until_answered, [store, now] {
        auto n = store->purge(now);
        return n ? static_cast<uint64_t>(*n) : uint64_t{0};
      }).then([self](uint64_t n) { self->state.stats.purged += n; },
              [self](caf::error&) { ++self->state.stats.db_errors; });
    },
    [self](stats_atom) { return self->state.stats; },
  };
}

} // namespace

caf::expected<caf::actor> spawn_name_server(caf::actor_system& sys, name_server_spec spec) {
  if (!spec.store)
    return make_error(errc::invalid_argument, "a name server needs a store");
  return sys.spawn(name_server, std::move(spec));
}

daemon_spec name_daemon_spec(const caf::actor& server, daemon_spec base) {
  base.subscribers.push_back(subscriber{server, events::msgs});
  base.length_prefixed = true;
  // Requests are at most max_message_bytes. Up to 4 times that is read and
  // answered "too large", so that a client learns why; beyond, a TCP frame
  // resets its client before it is buffered and a datagram is dropped
  // (counted by the pipe).
  base.conf.reader_limit = 4 * wire::names::max_message_bytes;
  return base;
}

} // namespace p2pd
