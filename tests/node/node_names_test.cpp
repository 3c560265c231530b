// The node's side of the name service (issue 16): it registers the names it
// holds at start, keeps them current, deletes them, and connects by name,
// against a real name server on loopback (SQLite).
#include "p2pd/api/names.hpp"
#include "p2pd/net/names/name_store.hpp"
#include "p2pd/node/address/peer_address.hpp"

#include "node/node_fixture.hpp"
#include "support/sockets.hpp"
#include "support/temp_dir.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NodeNames : public node_fixture {
protected:
  // Two servers on databases of their own, one asked over UDP, one over TCP.
  void SetUp() override {
    for (auto proto : {net::protocol::udp, net::protocol::tcp}) {
      auto store = net::names::open_store("sqlite:" + dir.path() + "/names-"
                                          + std::to_string(handles.size()) + ".db");
      ASSERT_TRUE(store.has_value()) << net::to_string(store.error());
      name_server_spec spec;
      spec.store = std::move(*store);
      daemon_spec base;
      base.data_dir = dir.path();
      auto lo = *net::ip_address::parse("127.0.0.1");
      auto s = start_name_server(rt, std::move(spec), {{proto, endpoint{lo, 0}}}, base);
      ASSERT_OK(s);
      servers.push_back({proto, s->listeners.front().local});
      handles.push_back(std::move(*s));
    }
  }

  /// A node that asks the test's name server and holds `names`.
  node_spec named(std::vector<std::string> names = {}) {
    auto spec = spec_for();
    spec.name_servers = servers;
    spec.names = std::move(names);
    spec.name_timeout = std::chrono::seconds(2);
    return spec;
  }

  /// The record of `name` as a node that asks the server finds it.
  std::optional<net::names::name_record> record_of(node_handle& n, const std::string& name) {
    auto l = n.lookup_name(name);
    EXPECT_OK(l);
    if (!l)
      return std::nullopt;
    EXPECT_EQ(l->answered, servers.size());
    return l->record;
  }

  static std::string value_of(const net::names::name_record& r) {
    return std::string(r.value.begin(), r.value.end());
  }

  temp_dir dir;
  std::vector<name_server_handle> handles;
  std::vector<name_server_addr> servers;
};

const attempt_report* attempt_named(const connect_report& r, const std::string& prefix) {
  for (const auto& a : r.attempts)
    if (a.attempt.rfind(prefix, 0) == 0)
      return &a;
  return nullptr;
}

} // namespace

TEST_F(NodeNames, ANodeRegistersItsNameAtStartAndAnotherConnectsToItByName) {
  caf::scoped_actor sub{rt.system()};
  auto alice = start_watched(sub, named({"alice.p2p"}));
  ASSERT_TRUE(progress_seen(sub, "name alice.p2p registered on 2 of 2 name servers"));
  auto bob = start(named());
  auto conn = bob.connect_by_name("alice.p2p");
  ASSERT_OK(conn);
  EXPECT_EQ(conn->peer, alice.id());
  const auto& r = conn->report;
  ASSERT_FALSE(r.attempts.empty());
  // The report starts with the lookup, then the address request over
  // signalling, then the attempts.
  EXPECT_EQ(r.attempts.front().attempt, "name lookup alice.p2p");
  EXPECT_NE(r.attempts.front().outcome.find("from 2 of 2 name servers"), std::string::npos)
    << r.attempts.front().outcome;
  auto* refresh = attempt_named(r, "address request");
  ASSERT_NE(refresh, nullptr);
  EXPECT_EQ(refresh->outcome.rfind("answered", 0), 0u) << refresh->outcome;
  EXPECT_EQ(r.attempts.back().outcome, "won");
  EXPECT_EQ(r.how, node::strategy::direct);
  // The record holds alice's address, signed by alice's key.
  auto rec = record_of(bob, "alice.p2p");
  ASSERT_TRUE(rec);
  auto addr = node::parse_peer_address(value_of(*rec));
  ASSERT_TRUE(addr.has_value());
  EXPECT_EQ(addr->id().to_string(), alice.id());
  EXPECT_EQ(rec->owner, addr->keys.sign);
}

TEST_F(NodeNames, AStaleAddressInTheRecordIsRefreshedOverSignallingBeforeConnecting) {
  auto spec = spec_for();
  auto key = spec.identity;
  auto alice = start(std::move(spec));
  // The record holds an older address of alice's: every route on a port
  // where nothing listens. Only the address request finds her.
  auto now = node::parse_peer_address(alice.address());
  ASSERT_TRUE(now.has_value());
  auto old = *now;
  old.issued_ms -= 60'000;
  auto closed = free_port(net::protocol::tcp);
  for (auto& r : old.routes)
    r.port = closed;
  auto old_text = node::encode_peer_address(old, *key);
  ASSERT_TRUE(old_text.has_value());
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto rec = net::names::make_record(
    *key, "alice.p2p", std::vector<uint8_t>(old_text->begin(), old_text->end()), 1, now_s, 3600);
  ASSERT_EQ(publish_name(rt, servers, rec, std::chrono::seconds(5)).stored, 2u);
  auto bob = start(named());
  auto conn = bob.connect_by_name("alice.p2p");
  ASSERT_OK(conn);
  EXPECT_EQ(conn->peer, alice.id());
  auto* refresh = attempt_named(conn->report, "address request");
  ASSERT_NE(refresh, nullptr);
  EXPECT_EQ(refresh->outcome, "answered: a newer address");
  // No attempt went to the record's stale port.
  for (const auto& a : conn->report.attempts)
    EXPECT_EQ(a.attempt.find(":" + std::to_string(closed)), std::string::npos) << a.attempt;
  EXPECT_EQ(conn->report.remote.port, alice.info().port);
}

TEST_F(NodeNames, AnUnansweredAddressRequestFallsBackToTheRecordsAddress) {
  caf::scoped_actor sub{rt.system()};
  auto alice = start_watched(sub, named({"alice.p2p"}));
  ASSERT_TRUE(progress_seen(sub, "name alice.p2p registered on 2 of 2"));
  // Bob signals through a hub of his own: his address request reaches
  // nobody, and after its budget he connects to the address found.
  auto spec = named();
  spec.hub = spawn_signal_hub(rt.system());
  spec.reverse_budget = std::chrono::milliseconds(500);
  auto bob = start(std::move(spec));
  auto conn = bob.connect_by_name("alice.p2p");
  ASSERT_OK(conn);
  EXPECT_EQ(conn->peer, alice.id());
  auto* refresh = attempt_named(conn->report, "address request");
  ASSERT_NE(refresh, nullptr);
  EXPECT_EQ(refresh->outcome, "no answer within the budget: connecting to the address found");
  EXPECT_GE(refresh->ms, 400);
}

TEST_F(NodeNames, ALateAddressReplyIsRefusedAndCountedAfterTheFallback) {
  // A hub whose every delivery takes 400 ms: the address request and its
  // reply take 800 ms there and back, past bob's budget of 300 ms. No sleep:
  // the hub's latency is the delay.
  signal_hub_spec slow;
  slow.latency = std::chrono::milliseconds(400);
  auto slow_hub = spawn_signal_hub(rt.system(), slow);
  caf::scoped_actor alice_events{rt.system()};
  auto alice_spec = named({"alice.p2p"});
  alice_spec.hub = slow_hub;
  auto alice = start_watched(alice_events, std::move(alice_spec));
  ASSERT_TRUE(progress_seen(alice_events, "name alice.p2p registered on 2 of 2"));
  caf::scoped_actor bob_events{rt.system()};
  auto spec = named();
  spec.hub = slow_hub;
  spec.reverse_budget = std::chrono::milliseconds(300);
  auto bob = start_watched(bob_events, std::move(spec));
  auto before = bob.stats();
  ASSERT_OK(before);
  auto conn = bob.connect_by_name("alice.p2p");
  ASSERT_OK(conn);
  EXPECT_EQ(conn->peer, alice.id());
  auto* refresh = attempt_named(conn->report, "address request");
  ASSERT_NE(refresh, nullptr);
  EXPECT_EQ(refresh->outcome, "no answer within the budget: connecting to the address found");
  // The reply comes later and is refused: the connect went on without it
  // (and here is over, so no attempt is left for it to re-plan).
  auto refused = next_where<node_refused>(
    bob_events, [](const node_refused& r) { return r.what == "request"; },
    std::chrono::seconds(5));
  ASSERT_TRUE(refused) << "the late address reply was not refused";
  EXPECT_EQ(refused->peer, alice.id());
  EXPECT_NE(render(refused->reason).find("an address reply"), std::string::npos)
    << render(refused->reason);
  auto after = bob.stats();
  ASSERT_OK(after);
  EXPECT_EQ(after->refused_requests, before->refused_requests + 1);
  EXPECT_EQ(after->connections, 1u);
}

TEST_F(NodeNames, ARecordWhoseOwnerIsNotTheNodeOfItsAddressIsRefused) {
  auto alice = start();
  // Mallory registers a name that points at alice's address with his key.
  auto mallory = make_identity();
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto forged = net::names::make_record(
    mallory, "alice.p2p", std::vector<uint8_t>(alice.address().begin(), alice.address().end()), 1,
    now_s, 3600);
  ASSERT_EQ(publish_name(rt, servers, forged, std::chrono::seconds(5)).stored, 2u);
  auto bob = start(named());
  auto conn = bob.connect_by_name("alice.p2p");
  ASSERT_FALSE(conn);
  EXPECT_ERRC(conn.error(), errc::forged);
  EXPECT_NE(render(conn.error()).find("not by node " + alice.id()), std::string::npos)
    << render(conn.error());
  EXPECT_EQ(bob.stats()->refused_addresses, 1u);
  EXPECT_EQ(bob.stats()->connections, 0u);
  EXPECT_EQ(alice.stats()->inbound, 0u);
}

TEST_F(NodeNames, AHeldNameIsPublishedAgainAtItsRefreshInterval) {
  caf::scoped_actor sub{rt.system()};
  auto spec = named({"alice.p2p"});
  spec.name_refresh = std::chrono::milliseconds(300);
  auto alice = start_watched(sub, std::move(spec));
  ASSERT_TRUE(progress_seen(sub, "name alice.p2p registered on 2 of 2"));
  auto first = record_of(alice, "alice.p2p");
  ASSERT_TRUE(first);
  // Polled, not counted in progress lines: a refresh may come between the
  // first registration and the first lookup.
  std::optional<net::names::name_record> second;
  EXPECT_TRUE(eventually([&] {
    second = record_of(alice, "alice.p2p");
    return second && second->version > first->version;
  }));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->owner, first->owner);
}

TEST_F(NodeNames, AnAddressChangePublishesTheNameAgainWithTheNewAddress) {
  caf::scoped_actor sub{rt.system()};
  auto alice = start_watched(sub, named({"alice.p2p"}));
  ASSERT_TRUE(progress_seen(sub, "name alice.p2p registered on 2 of 2"));
  auto before = record_of(alice, "alice.p2p");
  ASSERT_TRUE(before);
  // The interface learns its NAT (as a refresh would find it): the route in
  // the address changes, and the node publishes its name again.
  auto kids = alice.children();
  ASSERT_OK(kids);
  caf::actor lo;
  for (auto& c : *kids)
    if (c.name == "interface lo")
      lo = c.actor;
  ASSERT_TRUE(lo);
  nat_summary nat;
  nat.fam = net::family::v4;
  nat.nat = net::nat_type::full_cone;
  caf::scoped_actor self{rt.system()};
  self->request(lo, std::chrono::seconds(5), nat_atom::value, nat)
    .receive([](caf::ok_atom) {}, [](caf::error& err) { FAIL() << render(err); });
  ASSERT_TRUE(progress_seen(sub, "names: the address changed"));
  ASSERT_TRUE(progress_seen(sub, "name alice.p2p registered on 2 of 2"));
  auto after = record_of(alice, "alice.p2p");
  ASSERT_TRUE(after);
  EXPECT_GT(after->version, before->version);
  auto addr = node::parse_peer_address(value_of(*after));
  ASSERT_TRUE(addr.has_value());
  bool full_cone = false;
  for (const auto& r : addr->routes)
    full_cone |= r.fam == net::family::v4 && r.nat == net::nat_type::full_cone;
  EXPECT_TRUE(full_cone) << node::describe(*addr);
}

TEST_F(NodeNames, ADeletedNameIsGoneAndNoLongerKeptCurrent) {
  caf::scoped_actor sub{rt.system()};
  auto spec = named({"alice.p2p"});
  spec.name_refresh = std::chrono::milliseconds(300);
  auto alice = start_watched(sub, std::move(spec));
  ASSERT_TRUE(progress_seen(sub, "name alice.p2p registered on 2 of 2"));
  auto gone = alice.delete_name("alice.p2p");
  ASSERT_OK(gone);
  EXPECT_EQ(gone->stored, 2u);
  // A refresh's line sent before the delete was answered is in the mailbox
  // by now (a send enqueues at once): drop those, bounded.
  for (int i = 0; i < 10 && progress_seen(sub, "name alice.p2p registered",
                                          std::chrono::milliseconds(20));
       ++i) {
  }
  auto bob = start(named());
  EXPECT_FALSE(record_of(bob, "alice.p2p"));
  auto found = bob.lookup_name("alice.p2p");
  ASSERT_OK(found);
  ASSERT_TRUE(found->deleted); // both servers serve the tombstone
  EXPECT_EQ(found->agreed, 2u);
  auto conn = bob.connect_by_name("alice.p2p");
  ASSERT_FALSE(conn);
  EXPECT_ERRC(conn.error(), errc::resolve_failed);
  EXPECT_NE(render(conn.error()).find("deleted by the holder of key"), std::string::npos)
    << render(conn.error());
  // Three refresh intervals pass without a registration.
  EXPECT_FALSE(progress_seen(sub, "name alice.p2p registered", std::chrono::milliseconds(900)));
  EXPECT_FALSE(record_of(bob, "alice.p2p"));
}

TEST_F(NodeNames, ANameDeletedAndRegisteredAgainAtOnceIsStored) {
  // Within one millisecond the clock gives the same version to the
  // tombstone and the new record; the node's own counter keeps them apart.
  auto alice = start(named());
  for (int i = 0; i < 3; ++i) {
    auto put = alice.register_name("alice-3.p2p");
    ASSERT_OK(put);
    EXPECT_EQ(put->stored, 2u) << "round " << i;
    auto gone = alice.delete_name("alice-3.p2p");
    ASSERT_OK(gone);
    EXPECT_EQ(gone->stored, 2u) << "round " << i;
  }
  auto again = alice.register_name("alice-3.p2p");
  ASSERT_OK(again);
  EXPECT_EQ(again->stored, 2u);
}

TEST_F(NodeNames, ANameRegisteredByRequestIsHeldAndFoundByOthers) {
  auto alice = start(named());
  auto put = alice.register_name("alice-2.p2p");
  ASSERT_OK(put);
  EXPECT_EQ(put->stored, 2u);
  auto bob = start(named());
  auto rec = record_of(bob, "alice-2.p2p");
  ASSERT_TRUE(rec);
  EXPECT_EQ(value_of(*rec).rfind(std::string{node::peer_address_prefix}, 0), 0u);
  auto conn = bob.connect_by_name("alice-2.p2p");
  ASSERT_OK(conn);
  EXPECT_EQ(conn->peer, alice.id());
}

TEST_F(NodeNames, BadNamesAndANodeWithoutNameServersAreRefusedSayingWhy) {
  auto alice = start(named());
  EXPECT_ERRC(alice.register_name("Not A Name"), errc::invalid_argument);
  EXPECT_ERRC(alice.connect_by_name("p2pd1_abc"), errc::invalid_argument);
  auto lonely = start();
  auto reg = lonely.register_name("alice.p2p");
  EXPECT_ERRC(reg, errc::invalid_argument);
  auto conn = lonely.connect_by_name("alice.p2p");
  ASSERT_FALSE(conn);
  EXPECT_NE(render(conn.error()).find("no name servers"), std::string::npos)
    << render(conn.error());
}
