// The name server over loopback (issue 16's tests), on SQLite and on a real
// PostgreSQL: register, look up, update, delete, expire; forgeries, other
// keys and replays refused; bad and oversized requests answered; a flood
// limited; racing registrations with one winner.
#include "actors/names/name_server_fixture.hpp"

#include <condition_variable>
#include <mutex>

#include "p2pd/actors/common/clock.hpp"
#include "p2pd/proto/names.pb.h"

using namespace p2pd;
using namespace p2pd::test;
using net::names::status;
namespace wn = p2pd::wire::names;

namespace {

// The response in what a pipe received (an empty one, with a failure, when
// nothing came or it does not decode).
template <class Received>
wn::response decoded(const Received& got) {
  EXPECT_OK(got);
  wn::response r;
  if (got) {
    auto resp = wn::decode_response(reinterpret_cast<const uint8_t*>(got->data.data()),
                                    got->data.size());
    EXPECT_OK(resp);
    if (resp)
      r = *resp;
  }
  return r;
}

} // namespace

TEST_P(NameServerTest, RegistersLooksUpUpdatesAndDeletes) {
  auto v1 = rec(alice, "alice.p2p", 1);
  EXPECT_EQ(put(v1), status::ok);
  auto got = lookup("alice.p2p");
  EXPECT_EQ(got.code, status::ok);
  ASSERT_TRUE(got.record);
  EXPECT_EQ(*got.record, v1);
  EXPECT_EQ(put(rec(alice, "alice.p2p", 2)), status::ok);
  got = lookup("alice.p2p");
  ASSERT_TRUE(got.record);
  EXPECT_EQ(got.record->version, 2u);
  EXPECT_EQ(put(rec(alice, "alice.p2p", 3, true)), status::ok);
  EXPECT_EQ(lookup("alice.p2p").code, status::not_found);
  EXPECT_EQ(put(rec(bob, "alice.p2p", 1)), status::ok); // the deletion freed it
  auto s = stats(server);
  EXPECT_EQ(s.puts, 4u);
  EXPECT_EQ(s.lookups, 2u);
  EXPECT_EQ(s.tombstones, 1u);
  EXPECT_EQ(s.refused, 0u);
}

TEST_P(NameServerTest, ALookupOfADeletedNameAnswersNotFoundWithTheSignedTombstone) {
  EXPECT_EQ(put(rec(alice, "alice.p2p", 1)), status::ok);
  auto tomb = rec(alice, "alice.p2p", 2, true);
  EXPECT_EQ(put(tomb), status::ok);
  auto got = lookup("alice.p2p");
  EXPECT_EQ(got.code, status::not_found);
  ASSERT_TRUE(got.record);
  EXPECT_EQ(*got.record, tomb);
  EXPECT_TRUE(net::names::verify_record(*got.record));
  // Past max_skew_s it is still served: it must outlive the record it deleted.
  clock->fetch_add((rules.max_skew_s + 1) * 1000);
  got = lookup("alice.p2p");
  EXPECT_EQ(got.code, status::not_found);
  ASSERT_TRUE(got.record);
  EXPECT_TRUE(got.record->deleted);
  // After its own expiry, nothing.
  clock->store((tomb.expires_at() + 1) * 1000);
  got = lookup("alice.p2p");
  EXPECT_EQ(got.code, status::not_found);
  EXPECT_FALSE(got.record);
  EXPECT_EQ(stats(server).tombstones, 2u);
}

TEST_P(NameServerTest, TheOwnerRegistersAgainAfterDeletingAndAForgedTombstoneIsRefused) {
  EXPECT_EQ(put(rec(alice, "alice.p2p", 1)), status::ok);
  // Bob's signature over a deletion claiming Alice's key.
  auto forged = rec(bob, "alice.p2p", 2, true);
  forged.owner = alice.pub().sign;
  EXPECT_EQ(put(forged), status::forged);
  EXPECT_EQ(lookup("alice.p2p").code, status::ok);
  EXPECT_EQ(put(rec(alice, "alice.p2p", 2, true)), status::ok);
  EXPECT_EQ(put(rec(alice, "alice.p2p", 2)), status::stale_version);
  auto again = rec(alice, "alice.p2p", 3);
  EXPECT_EQ(put(again), status::ok);
  auto got = lookup("alice.p2p");
  EXPECT_EQ(got.code, status::ok);
  ASSERT_TRUE(got.record);
  EXPECT_EQ(*got.record, again);
}

TEST_P(NameServerTest, ServesTheSameOverTcp) {
  auto t = tcp();
  EXPECT_EQ(put(rec(alice, "tcp.p2p", 1), &t), status::ok);
  auto got = lookup("tcp.p2p", &t);
  ASSERT_TRUE(got.record);
  EXPECT_TRUE(net::names::verify_record(*got.record));
}

TEST_P(NameServerTest, AnExpiredNameIsFreed) {
  auto r = rec(alice, "short.p2p", 1);
  EXPECT_EQ(put(r), status::ok);
  clock->store(r.expires_at() * 1000); // the server's clock, not a wait
  EXPECT_EQ(lookup("short.p2p").code, status::not_found);
  EXPECT_EQ(put(rec(bob, "short.p2p", 1)), status::ok);
}

TEST_P(NameServerTest, AForgedRecordIsRefused) {
  auto r = rec(alice, "alice.p2p", 1);
  r.value = {'e', 'v', 'i', 'l'};
  EXPECT_EQ(put(r), status::forged);
  auto claims_alice = rec(bob, "alice.p2p", 1);
  claims_alice.owner = alice.pub().sign; // Bob's signature, Alice's key
  EXPECT_EQ(put(claims_alice), status::forged);
  EXPECT_EQ(lookup("alice.p2p").code, status::not_found);
  EXPECT_EQ(stats(server).refused, 2u);
}

TEST_P(NameServerTest, ARecordSignedByAnotherKeyNeitherUpdatesNorDeletes) {
  EXPECT_EQ(put(rec(alice, "alice.p2p", 1)), status::ok);
  EXPECT_EQ(put(rec(bob, "alice.p2p", 2)), status::taken);
  EXPECT_EQ(put(rec(bob, "alice.p2p", 2, true)), status::taken);
  auto got = lookup("alice.p2p");
  ASSERT_TRUE(got.record);
  EXPECT_EQ(got.record->owner, alice.pub().sign);
}

TEST_P(NameServerTest, AnOldVersionReplayedIsRefused) {
  auto v1 = rec(alice, "alice.p2p", 1);
  EXPECT_EQ(put(v1), status::ok);
  EXPECT_EQ(put(rec(alice, "alice.p2p", 2)), status::ok);
  EXPECT_EQ(put(v1), status::stale_version);
  // A record too old for the server's clock is refused before any version.
  clock->fetch_add((rules.max_skew_s + 1) * 1000);
  EXPECT_EQ(put(rec(alice, "alice.p2p", 9)), status::ok);
  EXPECT_EQ(put(v1), status::stale_time);
  EXPECT_EQ(lookup("alice.p2p").record->version, 9u);
}

TEST_P(NameServerTest, OversizedAndMalformedRequestsGetAClearAnswer) {
  caf::scoped_actor self{rt.system()};
  auto p = rt.connect(net::protocol::udp, udp().ep);
  ASSERT_OK(p);
  auto answer_to = [&](const std::string& data) {
    EXPECT_OK(p->send(data));
    auto got = p->recv(std::chrono::seconds{5});
    return decoded(got);
  };
  auto garbage = answer_to("\xff\xff\xff\x01");
  EXPECT_EQ(garbage.code, status::malformed);
  auto big = answer_to(std::string(wn::max_message_bytes + 1, 'x'));
  EXPECT_EQ(big.code, status::malformed);
  EXPECT_NE(big.detail.find("above the largest"), std::string::npos) << big.detail;
  // A request for a newer protocol says so, to the right request id.
  p2pd::names_wire::name_request m;
  m.set_version(wn::current_version + 1);
  m.set_min_version(wn::current_version + 1);
  m.set_request_id(4242);
  m.mutable_lookup()->set_name("alice.p2p");
  auto newer = answer_to(m.SerializeAsString());
  EXPECT_EQ(newer.code, status::unsupported_version);
  EXPECT_EQ(newer.request_id, 4242u);
  // A name outside the rules, an oversized value: invalid.
  EXPECT_EQ(lookup("Not A Name").code, status::invalid);
  auto fat = net::names::make_record(alice, "fat.p2p",
                                     std::vector<uint8_t>(net::names::max_value + 1, 1), 1,
                                     names_t0, 3600);
  EXPECT_EQ(put(fat), status::invalid);
  EXPECT_EQ(stats(server).malformed, 3u);
}

TEST_P(NameServerTest, AnOversizedTcpFrameResetsItsClientAlone) {
  auto spec = client_spec(net::protocol::tcp, "127.0.0.1", tcp().ep.port);
  spec.length_prefixed = true;
  auto p = rt.open(spec);
  ASSERT_OK(p);
  EXPECT_OK(p->send(std::string(4 * wn::max_message_bytes + 1, 'x')));
  EXPECT_FALSE(p->recv(std::chrono::seconds{2})); // no answer: the connection is reset
  auto t = tcp();
  EXPECT_EQ(put(rec(alice, "still.p2p", 1), &t), status::ok); // the server serves on
}

TEST_P(NameServerTest, AFloodFromOneAddressIsRateLimited) {
  limits.ip_burst = 20;
  limits.ip_per_s = 5;
  auto tight = start_server(url);
  ASSERT_OK(tight);
  auto p = rt.connect(net::protocol::udp, addr_of(*tight, net::protocol::udp).ep);
  ASSERT_OK(p);
  wn::request req;
  req.op = wn::op::lookup;
  req.name = "flood.p2p";
  auto data = wn::encode_request(req);
  ASSERT_OK(data);
  constexpr int sent = 60;
  for (int i = 0; i < sent; ++i)
    ASSERT_OK(p->send(std::string_view{reinterpret_cast<const char*>(data->data()), data->size()}));
  int served = 0;
  int limited = 0;
  for (int i = 0; i < sent; ++i) {
    auto got = p->recv(std::chrono::seconds{5});
    if (!got)
      break; // loopback UDP may drop under a burst: counted below
    auto resp = wn::decode_response(reinterpret_cast<const uint8_t*>(got->data.data()),
                                    got->data.size());
    ASSERT_OK(resp);
    served += resp->code == status::not_found;
    limited += resp->code == status::rate_limited;
  }
  // The clock stands still: the burst and not one request more.
  EXPECT_EQ(served, 20);
  auto s = stats(*tight);
  EXPECT_EQ(s.rate_limited, static_cast<uint64_t>(s.requests - 20));
  EXPECT_EQ(limited, static_cast<int>(s.rate_limited));
  // Another second refills 5 tokens.
  clock->fetch_add(1000);
  auto again = ask_name_servers(rt, {addr_of(*tight, net::protocol::udp)}, req,
                                std::chrono::seconds{5});
  ASSERT_OK(again.front().answer);
  EXPECT_EQ(again.front().answer->code, status::not_found);
}

TEST_P(NameServerTest, TwoClientsRegisteringOneNameAtOnceHaveExactlyOneWinner) {
  // Two servers on one database, a client on each, both requests in flight
  // together.
  auto second = start_server(url);
  ASSERT_OK(second);
  std::vector<name_server_addr> servers{udp(), addr_of(*second, net::protocol::udp)};
  for (int n = 0; n < 10; ++n) {
    auto name = "race" + std::to_string(n) + ".p2p";
    std::vector<pipe_handle> clients;
    for (size_t i = 0; i < 2; ++i) {
      auto p = rt.connect(net::protocol::udp, servers[i].ep);
      ASSERT_OK(p);
      wn::request req;
      req.op = wn::op::put;
      req.request_id = n * 2 + i + 1;
      req.record = rec(i == 0 ? alice : bob, name, 1);
      auto data = wn::encode_request(req);
      ASSERT_OK(data);
      ASSERT_OK(p->send(std::string_view{reinterpret_cast<const char*>(data->data()),
                                         data->size()}));
      clients.push_back(std::move(*p));
    }
    int won = 0;
    int taken = 0;
    for (auto& c : clients) {
      auto got = c.recv(std::chrono::seconds{5});
      ASSERT_OK(got);
      auto resp = wn::decode_response(reinterpret_cast<const uint8_t*>(got->data.data()),
                                      got->data.size());
      ASSERT_OK(resp);
      won += resp->code == status::ok;
      taken += resp->code == status::taken;
    }
    EXPECT_EQ(won, 1) << name;
    EXPECT_EQ(taken, 1) << name;
    auto held = lookup(name);
    ASSERT_TRUE(held.record);
    EXPECT_TRUE(net::names::verify_record(*held.record));
  }
}

TEST_P(NameServerTest, AServerRestartedOnItsDatabaseKeepsEverything) {
  EXPECT_EQ(put(rec(alice, "kept.p2p", 1)), status::ok);
  EXPECT_OK(server.daemon->close());
  caf::anon_send_exit(server.server, caf::exit_reason::user_shutdown);
  auto again = start_server(url);
  ASSERT_OK(again);
  server = std::move(*again);
  auto got = lookup("kept.p2p");
  ASSERT_TRUE(got.record);
  EXPECT_TRUE(net::names::verify_record(*got.record));
  EXPECT_EQ(put(rec(alice, "kept.p2p", 1)), status::stale_version); // and its versions
}

INSTANTIATE_TEST_SUITE_P(Backends, NameServerTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

namespace {

// A store whose lookups wait until released: database calls that take
// their time, to fill the server's queue.
class held_store : public net::names::name_store {
public:
  net::result<net::names::verdict> put(const net::names::name_record&, int64_t,
                                       const net::names::rules_config&) override {
    return net::names::verdict{};
  }
  net::result<std::optional<net::names::name_record>> lookup(const std::string&,
                                                             int64_t) override {
    std::unique_lock<std::mutex> guard{mtx};
    ++waiting;
    cv.notify_all();
    cv.wait(guard, [this] { return released; });
    return std::optional<net::names::name_record>{};
  }
  net::result<size_t> purge(int64_t) override { return size_t{0}; }

  void wait_for(int n) {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait_for(guard, std::chrono::seconds{10}, [&] { return waiting >= n; });
  }
  void release() {
    std::lock_guard<std::mutex> guard{mtx};
    released = true;
    cv.notify_all();
  }

  std::mutex mtx;
  std::condition_variable cv;
  int waiting = 0;
  bool released = false;
};

} // namespace

TEST(NameServerQueue, ARequestBeyondThePendingDatabaseCallsIsAnsweredBusy) {
  temp_dir dir;
  runtime rt;
  auto store = std::make_shared<held_store>();
  name_server_spec spec;
  spec.store = store;
  spec.limits.max_pending = 2;
  daemon_spec base;
  base.data_dir = dir.path();
  auto lo = *net::ip_address::parse("127.0.0.1");
  auto srv = start_name_server(rt, spec, {{net::protocol::udp, endpoint{lo, 0}}}, base);
  ASSERT_OK(srv);
  auto p = rt.connect(net::protocol::udp, srv->listeners.front().local);
  ASSERT_OK(p);
  auto send_lookup = [&](uint64_t id) {
    wn::request req;
    req.op = wn::op::lookup;
    req.request_id = id;
    req.name = "slow.p2p";
    auto data = wn::encode_request(req);
    ASSERT_OK(data);
    ASSERT_OK(p->send(std::string_view{reinterpret_cast<const char*>(data->data()),
                                       data->size()}));
  };
  auto next_answer = [&] {
    auto got = p->recv(std::chrono::seconds{5});
    return decoded(got);
  };
  send_lookup(1);
  send_lookup(2);
  store->wait_for(2); // both calls are in the store
  send_lookup(3);
  auto busy = next_answer();
  EXPECT_EQ(busy.request_id, 3u);
  EXPECT_EQ(busy.code, status::busy);
  store->release();
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(next_answer().code, status::not_found);
  caf::scoped_actor self{rt.system()};
  self->request(srv->server, std::chrono::seconds{5}, stats_atom::value)
    .receive([](name_server_stats& s) { EXPECT_EQ(s.dropped_busy, 1u); },
             [](caf::error& err) { ADD_FAILURE() << render(err); });
}

namespace {

// A store whose database is gone.
class failing_store : public net::names::name_store {
public:
  net::result<net::names::verdict> put(const net::names::name_record&, int64_t,
                                       const net::names::rules_config&) override {
    return net::error{errc::io_failed, "postgresql: connection to db.internal:5432 lost"};
  }
  net::result<std::optional<net::names::name_record>> lookup(const std::string&,
                                                             int64_t) override {
    return net::error{errc::io_failed, "postgresql: connection to db.internal:5432 lost"};
  }
  net::result<size_t> purge(int64_t) override { return size_t{0}; }
};

} // namespace

TEST(NameServerQueue, ADatabaseFailureIsAnsweredInternalWithoutItsMessage) {
  temp_dir dir;
  runtime rt;
  name_server_spec spec;
  spec.store = std::make_shared<failing_store>();
  daemon_spec base;
  base.data_dir = dir.path();
  auto lo = *net::ip_address::parse("127.0.0.1");
  auto srv = start_name_server(rt, spec, {{net::protocol::udp, endpoint{lo, 0}}}, base);
  ASSERT_OK(srv);
  name_server_addr at{net::protocol::udp, srv->listeners.front().local};
  wn::request req;
  req.op = wn::op::lookup;
  req.name = "alice.p2p";
  auto replies = ask_name_servers(rt, {at}, req, std::chrono::seconds{5});
  ASSERT_OK(replies.front().answer);
  EXPECT_EQ(replies.front().answer->code, status::internal);
  EXPECT_EQ(replies.front().answer->detail.find("db.internal"), std::string::npos);
  auto me = std::move(*net::identity::generate());
  req.op = wn::op::put;
  req.record = net::names::make_record(me, "alice.p2p", {}, 1, system_clock_ms() / 1000, 3600);
  replies = ask_name_servers(rt, {at}, req, std::chrono::seconds{5});
  ASSERT_OK(replies.front().answer);
  EXPECT_EQ(replies.front().answer->code, status::internal);
  caf::scoped_actor self{rt.system()};
  self->request(srv->server, std::chrono::seconds{5}, stats_atom::value)
    .receive([](name_server_stats& s) { EXPECT_EQ(s.db_errors, 2u); },
             [](caf::error& err) { ADD_FAILURE() << render(err); });
}
