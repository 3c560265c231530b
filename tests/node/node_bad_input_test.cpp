// What a node refuses: impostors, hellos it did not ask for, floods of
// requests; each refused, counted, and nothing from it reaches a handler.
#include "node/node_fixture.hpp"

#include "p2pd/actors/signal/node/signal_node.hpp"
#include "p2pd/api/blocking.hpp"
#include "p2pd/node/link/hello.hpp"
#include "p2pd/proto/envelope_codec.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NodeBadInput : public node_fixture {
protected:
  // A client with node TLS as `who`, to `b`'s first listener, expecting b.
  caf::expected<pipe_handle> raw_client(const net::identity& who, node_handle& b) {
    auto to = b.info().listeners.front().local;
    auto spec = client_spec(tcp, to.ip.to_string(), to.port);
    auto ctx = net::tls_context::make_node(who, false);
    if (!ctx)
      return make_error(ctx.error());
    spec.tls_context = *ctx;
    spec.expect_node = *net::node_id::parse(b.id());
    spec.length_prefixed = true;
    return rt.open(spec);
  }

  static net::identity fresh() { return make_identity(); }

  // Sends `to` a reverse request from signal node `from`, carrying `address`.
  void send_connect_request(const signal_node_actor& from, const net::public_keys& to,
                            const std::string& address, uint64_t id) {
    wire::connect_request req;
    req.set_request_id(id);
    req.set_protocol(wire::TRANSPORT_TCP);
    req.add_strategies(wire::STRATEGY_REVERSE);
    req.set_peer_address(address);
    auto payload = wire::encode_payload(req);
    caf::scoped_actor self{rt.system()};
    self->request(from, std::chrono::seconds(5), send_atom::value, to,
                  static_cast<uint32_t>(wire::PAYLOAD_TYPE_CONNECT_REQUEST),
                  bytes(payload.begin(), payload.end()))
      .receive([](net::message_id) {}, [](caf::error& err) { FAIL() << render(err); });
  }
};

} // namespace

TEST_F(NodeBadInput, ANodePresentingAnotherIdIsRefused) {
  auto b = start();
  auto b_address = b.address();
  auto b_port = b.info().port;
  ASSERT_FALSE(b.close());
  // C takes B's port: whoever dials B's address reaches C.
  auto cspec = spec_for();
  cspec.port = b_port;
  auto c = start(cspec);
  auto a = start();
  node::connect_options direct_only;
  direct_only.strategies = {node::strategy::direct};
  auto conn = a.connect(b_address, direct_only);
  ASSERT_FALSE(conn);
  auto why = render(conn.error());
  EXPECT_NE(why.find("the peer is node " + c.id()), std::string::npos) << why;
  EXPECT_EQ(c.stats()->connections, 0u);
}

TEST_F(NodeBadInput, AReverseHelloNobodyAskedForIsRefused) {
  caf::scoped_actor sub{rt.system()};
  auto spec = spec_for();
  spec.subscribers.push_back(caf::actor_cast<caf::actor>(sub.ptr()));
  auto b = start(spec);
  auto d = fresh();
  auto client = raw_client(d, b);
  ASSERT_OK(client);
  node::hello h;
  h.purpose = node::link_purpose::reverse;
  h.request_id = 12345;
  ASSERT_FALSE(client->send(node::encode_hello(h)));
  ASSERT_FALSE(client->send("smuggled"));
  auto refused = next_refused(sub, "reverse");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->peer, d.id().to_string());
  EXPECT_ERRC(refused->reason, errc::invalid_argument);
  EXPECT_EQ(b.stats()->refused_reverse, 1u);
  EXPECT_FALSE(next_of<node_msg>(sub, std::chrono::milliseconds(300)));
  EXPECT_EQ(b.stats()->connections, 0u);
}

TEST_F(NodeBadInput, AConnectionWithoutAHelloIsClosedInTime) {
  caf::scoped_actor sub{rt.system()};
  auto spec = spec_for();
  spec.hello_timeout = std::chrono::milliseconds(200);
  auto b = start_watched(sub, spec);
  auto d = fresh();
  auto client = raw_client(d, b);
  ASSERT_OK(client);
  auto refused = next_refused(sub, "hello");
  ASSERT_TRUE(refused);
  EXPECT_ERRC(refused->reason, errc::recv_timeout);
  EXPECT_EQ(b.stats()->refused_hello, 1u);
  // B hung up: the client's next read fails.
  EXPECT_FALSE(client->recv(std::chrono::seconds(2)));
}

TEST_F(NodeBadInput, AMalformedHelloIsRefused) {
  caf::scoped_actor sub{rt.system()};
  auto b = start_watched(sub);
  auto d = fresh();
  auto client = raw_client(d, b);
  ASSERT_OK(client);
  ASSERT_FALSE(client->send("GET / HTTP/1.1"));
  auto refused = next_refused(sub, "hello");
  ASSERT_TRUE(refused);
  // Its first byte, 'G', is read as the hello's version.
  EXPECT_ERRC(refused->reason, errc::unsupported_version);
  EXPECT_EQ(b.stats()->refused_hello, 1u);
  EXPECT_EQ(b.stats()->connections, 0u);
}

TEST_F(NodeBadInput, AFloodOfReverseRequestsIsBoundedAndCounted) {
  // Requesters whose addresses lead to a TCP server that never finishes a
  // TLS handshake: each served request holds a slot for the whole budget.
  auto stall = rt.listen(tcp, endpoint{net::ip_address::loopback(net::family::v4), 0});
  ASSERT_TRUE(stall);
  caf::scoped_actor sub{rt.system()};
  auto spec = spec_for();
  spec.max_pending_requests = 2;
  auto b = start_watched(sub, spec);
  auto b_keys = node::parse_peer_address(b.address())->keys;
  const int senders = 8;
  std::vector<signal_node_actor> nodes;
  for (int i = 0; i < senders; ++i) {
    auto id = std::make_shared<const net::identity>(fresh());
    node::peer_address addr;
    addr.keys = id->pub();
    node::peer_route r;
    r.nic = net::ip_address::loopback(net::family::v4);
    r.port = stall->local().port;
    addr.routes.push_back(r);
    addr.channels.push_back({node::channel_kind::hub, "hub"});
    auto text = node::encode_peer_address(addr, *id);
    ASSERT_TRUE(text);
    signal_node_spec s;
    s.identity = id;
    s.hub = hub;
    auto n = start_signal_node(rt.system(), s);
    ASSERT_TRUE(n);
    nodes.push_back(*n);
    send_connect_request(*n, b_keys, *text, static_cast<uint64_t>(i) + 1);
  }
  size_t over_limit = 0;
  auto last = next_where<node_refused>(sub, [&](const node_refused& r) {
    over_limit += r.what == "request" && code_of(r.reason) == errc::queue_full;
    return over_limit == senders - 2;
  });
  EXPECT_TRUE(last) << over_limit << " refused";
  EXPECT_EQ(b.stats()->refused_requests, static_cast<uint64_t>(senders - 2));
  for (auto& n : nodes)
    caf::anon_send_exit(n, caf::exit_reason::user_shutdown);
}

TEST_F(NodeBadInput, ARequestCarryingAnotherNodesAddressIsRefused) {
  caf::scoped_actor sub{rt.system()};
  auto b = start_watched(sub);
  auto c = start();
  auto b_keys = node::parse_peer_address(b.address())->keys;
  signal_node_spec s;
  s.identity = std::make_shared<const net::identity>(fresh());
  s.hub = hub;
  auto n = start_signal_node(rt.system(), s);
  ASSERT_TRUE(n);
  send_connect_request(*n, b_keys, c.address(), 7); // not the sender's address
  auto refused = next_refused(sub, "address");
  ASSERT_TRUE(refused);
  EXPECT_ERRC(refused->reason, errc::forged);
  EXPECT_EQ(refused->peer, s.identity->id().to_string());
  EXPECT_EQ(b.stats()->refused_addresses, 1u);
  EXPECT_EQ(c.stats()->inbound, 0u); // B never connected to C
  caf::anon_send_exit(*n, caf::exit_reason::user_shutdown);
}

namespace {

// A bad peer address: how it is made from a good one, and what it is refused as.
struct bad_address {
  const char* name;
  std::string (*make)(std::string good);
  errc code;
};

void PrintTo(const bad_address& x, std::ostream* os) {
  *os << x.name;
}

class NodeBadAddress : public node_fixture,
                       public ::testing::WithParamInterface<bad_address> {};

const bad_address bad_addresses[] = {
  // B's address sending its connects elsewhere, signed by someone else.
  {"redirected", [](std::string s) {
     auto a = node::parse_peer_address(s);
     a->routes.front().port ^= 1;
     return node::sign_peer_address_body(node::peer_address_body(*a), make_identity());
   }, errc::crypto_failed},
  {"truncated", [](std::string s) { return s.substr(0, s.size() - 7); }, errc::malformed},
  {"cut_in_half", [](std::string s) { return s.substr(0, s.size() / 2); }, errc::malformed},
  {"oversized", [](std::string s) { return s + std::string(5000, 'a'); },
   errc::message_too_large},
  {"garbage", [](std::string) { return std::string{"p2pd1_garbage!"}; }, errc::malformed},
  {"empty", [](std::string) { return std::string{}; }, errc::malformed},
  {"unknown_version", [](std::string s) { return "p2pd9" + s.substr(5); },
   errc::unsupported_version},
};

} // namespace

TEST_P(NodeBadAddress, IsRefusedWithItsReasonAndCounted) {
  auto a = start();
  auto b = start();
  auto bad = GetParam().make(b.address());
  auto conn = a.connect(bad);
  ASSERT_FALSE(conn);
  EXPECT_ERRC(conn.error(), GetParam().code);
  EXPECT_NE(render(conn.error()).find("peer address"), std::string::npos) << render(conn.error());
  EXPECT_EQ(a.stats()->refused_addresses, 1u);
  EXPECT_EQ(a.stats()->connections, 0u);
  // Nothing was tried: b saw no connection.
  EXPECT_EQ(b.stats()->inbound, 0u);
}

INSTANTIATE_TEST_SUITE_P(NodeBadInput, NodeBadAddress, ::testing::ValuesIn(bad_addresses),
                         [](const auto& info) { return std::string{info.param.name}; });
