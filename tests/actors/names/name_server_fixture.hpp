#pragma once

// A name server of the test's own over loopback: the real server actor on a
// daemon's UDP and TCP listeners, its store on SQLite or a real PostgreSQL
// (the suite's parameter), its clock in the test's hands.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "p2pd/api/names.hpp"
#include "p2pd/net/names/name_store.hpp"

#include "net/names/store_backends.hpp"
#include "support/expect.hpp"

namespace p2pd::test {

inline constexpr int64_t names_t0 = 1'700'000'000;

// A server that answers every lookup with `lie` (status ok), over UDP.
inline caf::expected<pipe_handle> start_liar(runtime& rt, net::names::name_record lie) {
  auto lo = *net::ip_address::parse("127.0.0.1");
  return rt.listen(net::protocol::udp, endpoint{lo, 0},
                   [lie](pipe_io& io, std::string_view data, const endpoint&) {
                     auto req = wire::names::decode_request(reinterpret_cast<const uint8_t*>(data.data()),
                                                   data.size());
                     if (!req)
                       return;
                     wire::names::response r;
                     r.request_id = req->request_id;
                     r.code = net::names::status::ok;
                     r.record = lie;
                     auto out = wire::names::encode_response(r);
                     if (out)
                       io.reply(std::string_view{reinterpret_cast<const char*>(out->data()),
                                                 out->size()});
                   });
}

/// A server that is down without saying so: a UDP port that reads every
/// request and answers none (a request to it waits out its timeout).
inline caf::expected<pipe_handle> start_silent(runtime& rt) {
  auto lo = *net::ip_address::parse("127.0.0.1");
  return rt.listen(net::protocol::udp, endpoint{lo, 0},
                   [](pipe_io&, std::string_view, const endpoint&) {});
}

class NameServerTest : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    P2PD_FRESH_STORE_URL(url, GetParam(), dir);
    auto s = start_server(url);
    ASSERT_OK(s);
    server = std::move(*s);
  }

  /// A server on a store at `db` (opened anew: a second server on one
  /// database is another connection), on UDP and TCP of 127.0.0.1.
  caf::expected<name_server_handle> start_server(const std::string& db) {
    auto store = net::names::open_store(db);
    if (!store)
      return make_error(store.error());
    name_server_spec spec;
    spec.store = std::move(*store);
    spec.limits = limits;
    spec.rules = rules;
    spec.clock_ms = [c = clock] { return c->load(); };
    daemon_spec base;
    base.data_dir = dir.path();
    auto lo = *net::ip_address::parse("127.0.0.1");
    return start_name_server(rt, std::move(spec),
                             {{net::protocol::udp, endpoint{lo, 0}},
                              {net::protocol::tcp, endpoint{lo, 0}}},
                             base);
  }

  static name_server_addr addr_of(const name_server_handle& h, net::protocol proto) {
    for (const auto& l : h.listeners)
      if (l.proto == proto)
        return {proto, l.local};
    return {};
  }

  name_server_addr udp() const { return addr_of(server, net::protocol::udp); }
  name_server_addr tcp() const { return addr_of(server, net::protocol::tcp); }

  /// One request to one server; the answer, or a failed test's placeholder.
  wire::names::response ask(const name_server_addr& to, const wire::names::request& req) {
    auto replies = ask_name_servers(rt, {to}, req, std::chrono::seconds{5});
    EXPECT_OK(replies.front().answer);
    if (!replies.front().answer) {
      wire::names::response none;
      none.code = net::names::status::internal;
      none.detail = render(replies.front().answer.error());
      return none;
    }
    return *replies.front().answer;
  }

  net::names::status put(const net::names::name_record& r,
                         const name_server_addr* to = nullptr) {
    wire::names::request req;
    req.op = r.deleted ? wire::names::op::del : wire::names::op::put;
    req.record = r;
    return ask(to ? *to : udp(), req).code;
  }

  wire::names::response lookup(const std::string& name, const name_server_addr* to = nullptr) {
    wire::names::request req;
    req.op = wire::names::op::lookup;
    req.name = name;
    return ask(to ? *to : udp(), req);
  }

  net::names::name_record rec(const net::identity& who, const std::string& name,
                              uint64_t version, bool deleted = false) {
    return net::names::make_record(who, name, {uint8_t('v'), uint8_t(version)}, version,
                                   clock->load() / 1000, 3600, deleted);
  }

  name_server_stats stats(const name_server_handle& h) {
    caf::scoped_actor self{rt.system()};
    name_server_stats out;
    self->request(h.server, std::chrono::seconds{5}, stats_atom::value)
      .receive([&](name_server_stats& s) { out = s; },
               [&](caf::error& err) { ADD_FAILURE() << render(err); });
    return out;
  }

  temp_dir dir;
  std::string url;
  std::shared_ptr<std::atomic<int64_t>> clock =
    std::make_shared<std::atomic<int64_t>>(names_t0 * 1000);
  name_server_limits limits = [] {
    name_server_limits l;
    l.ip_burst = 1000; // the flood test sets its own
    l.ip_per_s = 1000;
    l.key_burst = 1000;
    l.key_per_s = 1000;
    return l;
  }();
  net::names::rules_config rules;
  runtime rt;
  name_server_handle server;
  net::identity alice = std::move(*net::identity::generate());
  net::identity bob = std::move(*net::identity::generate());
};

} // namespace p2pd::test
