// The STUN server: binding, RFC 5780 and RFC 3489 change requests, TCP, bad
// requests, and clients no one here wrote (coturn's and the stun package's).
#include <cstdio>

#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/stun/stun_message.hpp"

using namespace p2pd;
using namespace p2pd::test;
using namespace p2pd::net;

namespace {

class StunServer : public ::testing::Test {
protected:
  void SetUp() override {
    stun_server_spec spec;
    spec.addrs.primary_ip = *ip_address::parse("127.0.0.1");
    spec.addrs.primary_port = 0;
    spec.addrs.alt_ip = *ip_address::parse("127.0.0.2");
    spec.addrs.alt_port = 0;
    auto srv = start_stun_server(rt, spec);
    ASSERT_OK(srv);
    server = *srv;
  }

  endpoint primary() const { return server.addrs.address_of({false, false}); }

  // A binding request (with a change request if asked), sent from a new
  // client pipe; returns the decoded answer and who sent it.
  std::pair<stun_message, endpoint> ask(stun_builder req, const stun_txid& id,
                                        endpoint to = {}) {
    auto client = rt.connect(udp, to == endpoint{} ? primary() : to);
    EXPECT_TRUE(client);
    client_port = client->local().port;
    auto bytes = req.finish();
    EXPECT_TRUE(bytes);
    EXPECT_OK(client->send(std::string_view{reinterpret_cast<const char*>(bytes->data()),
                                                bytes->size()}));
    auto got = client->recv(5s);
    EXPECT_OK(got);
    if (!got)
      return {};
    stun_decode_options opts;
    opts.allow_rfc3489 = id.rfc3489();
    opts.expect_txid = id;
    auto msg = decode_stun(reinterpret_cast<const uint8_t*>(got->data.data()), got->data.size(),
                           opts);
    EXPECT_TRUE(msg) << msg.error().what;
    return {msg ? *msg : stun_message{}, got->from};
  }

  runtime rt;
  stun_server server;
  uint16_t client_port = 0;
};

std::string run(const std::string& cmd) {
  std::string out;
  if (auto* f = ::popen((cmd + " 2>&1").c_str(), "r")) {
    char buf[512];
    while (::fgets(buf, sizeof(buf), f) != nullptr)
      out += buf;
    ::pclose(f);
  }
  return out;
}

bool have(const char* tool) {
  return run(std::string{"command -v "} + tool).find(tool) != std::string::npos;
}

} // namespace

TEST_F(StunServer, BindingRequestGetsTheSendersAddress) {
  auto id = stun_txid::random();
  auto [msg, from] = ask(stun_builder{stun_class::request, stun_method::binding, id}, id);
  EXPECT_EQ(msg.cls(), stun_class::success);
  EXPECT_EQ(from, primary());
  auto mapped = msg.xor_mapped_address();
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->port, client_port);
  EXPECT_EQ(mapped->ip.to_string(), "127.0.0.1");
  EXPECT_EQ(msg.response_origin(), primary());
  EXPECT_EQ(msg.other_address(), server.addrs.address_of({true, true}));
  EXPECT_TRUE(msg.has_fingerprint());
}

TEST_F(StunServer, ChangeIpAndPortAnswersFromTheOtherAddress) {
  auto id = stun_txid::random();
  stun_builder req{stun_class::request, stun_method::binding, id};
  req.add_change_request({true, true});
  auto [msg, from] = ask(req, id);
  auto other = server.addrs.address_of({true, true});
  EXPECT_EQ(from, other);
  EXPECT_EQ(msg.response_origin(), other);
}

TEST_F(StunServer, ChangePortAnswersFromTheOtherPort) {
  auto id = stun_txid::random();
  stun_builder req{stun_class::request, stun_method::binding, id};
  req.add_change_request({false, true});
  auto [msg, from] = ask(req, id);
  EXPECT_EQ(from, server.addrs.address_of({false, true}));
}

TEST_F(StunServer, Rfc3489RequestGetsMappedSourceAndChangedAddress) {
  auto id = stun_txid::random(true);
  auto [msg, from] = ask(stun_builder{stun_class::request, stun_method::binding, id}, id);
  ASSERT_TRUE(msg.mapped_address());
  EXPECT_EQ(msg.mapped_address()->port, client_port);
  EXPECT_EQ(msg.source_address(), primary());
  EXPECT_EQ(msg.changed_address(), server.addrs.address_of({true, true}));
  EXPECT_FALSE(msg.xor_mapped_address());
}

TEST_F(StunServer, UnknownRequiredAttributeIsRefusedWith420) {
  auto id = stun_txid::random();
  stun_builder req{stun_class::request, stun_method::binding, id};
  req.add_raw(0x7f01, "mystery!");
  auto [msg, from] = ask(req, id);
  EXPECT_EQ(msg.cls(), stun_class::error);
  ASSERT_TRUE(msg.error_code());
  EXPECT_EQ(msg.error_code()->code, 420);
  EXPECT_EQ(msg.unknown_attributes(), std::vector<uint16_t>{0x7f01});
}

TEST_F(StunServer, GarbageGetsNoAnswerAndTheServerGoesOn) {
  auto client = rt.connect(udp, primary());
  ASSERT_OK(client);
  EXPECT_OK(client->send("this is not STUN at all, not even close"));
  EXPECT_ERRC(client->recv(100ms), errc::recv_timeout);
  auto id = stun_txid::random();
  auto [msg, from] = ask(stun_builder{stun_class::request, stun_method::binding, id}, id);
  EXPECT_EQ(msg.cls(), stun_class::success);
}

TEST_F(StunServer, BindingOverTcpInTwoPieces) {
  auto client = rt.connect(tcp, primary());
  ASSERT_OK(client);
  auto id = stun_txid::random();
  auto bytes = stun_builder{stun_class::request, stun_method::binding, id}.finish();
  ASSERT_TRUE(bytes);
  std::string wire(bytes->begin(), bytes->end());
  EXPECT_OK(client->send(wire.substr(0, 7)));
  EXPECT_OK(client->send(wire.substr(7)));
  std::vector<uint8_t> got;
  for (int i = 0; i < 10 && !stun_message_size(got.data(), got.size()); ++i) {
    auto part = client->recv(5s);
    ASSERT_OK(part);
    got.insert(got.end(), part->data.begin(), part->data.end());
  }
  stun_decode_options opts;
  opts.expect_txid = id;
  auto msg = decode_stun(got, opts);
  ASSERT_TRUE(msg) << msg.error().what;
  EXPECT_EQ(msg->xor_mapped_address(), client->local());
}

TEST(StunServerAlone, WithoutAlternatesRefusesChangeRequestsWith420) {
  runtime rt;
  stun_server_spec spec;
  spec.addrs.primary_ip = *ip_address::parse("127.0.0.1");
  spec.addrs.primary_port = 0;
  auto srv = start_stun_server(rt, spec);
  ASSERT_OK(srv);
  auto client = rt.connect(udp, srv->addrs.address_of({false, false}));
  ASSERT_OK(client);
  auto id = stun_txid::random();
  stun_builder req{stun_class::request, stun_method::binding, id};
  req.add_change_request({true, false});
  auto bytes = req.finish();
  ASSERT_TRUE(bytes);
  EXPECT_OK(client->send({reinterpret_cast<const char*>(bytes->data()), bytes->size()}));
  auto got = client->recv(5s);
  ASSERT_OK(got);
  auto msg = decode_stun(reinterpret_cast<const uint8_t*>(got->data.data()), got->data.size());
  ASSERT_TRUE(msg);
  ASSERT_TRUE(msg->error_code());
  EXPECT_EQ(msg->error_code()->code, 420);
}

TEST_F(StunServer, CoturnsClientGetsCorrectAnswers) {
  if (!have("turnutils_stunclient"))
    GTEST_SKIP() << "turnutils_stunclient (Debian package coturn) is not installed";
  auto out = run("timeout 20 turnutils_stunclient -f -p " + std::to_string(primary().port)
                 + " 127.0.0.1");
  EXPECT_NE(out.find("UDP reflexive addr: 127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find(server.addrs.address_of({true, true}).to_string()), std::string::npos)
    << out; // the other address, from RFC 5780 processing
}

TEST_F(StunServer, ClassicStunClientClassifiesAnOpenHost) {
  if (!have("stun"))
    GTEST_SKIP() << "stun (Debian package stun-client) is not installed";
  auto out = run("timeout 30 stun 127.0.0.1:" + std::to_string(primary().port) + " -v");
  EXPECT_NE(out.find("Open"), std::string::npos) << out;
}

namespace {

// Sends `req` over a new TCP connection to `to` and reads one whole answer.
stun_message ask_tcp(runtime& rt, const endpoint& to, stun_builder req, const stun_txid& id) {
  auto client = rt.connect(tcp, to);
  EXPECT_TRUE(client) << (client ? "" : render(client.error()));
  if (!client)
    return {};
  auto bytes = req.finish();
  EXPECT_TRUE(bytes);
  EXPECT_OK(client->send({reinterpret_cast<const char*>(bytes->data()), bytes->size()}));
  std::vector<uint8_t> got;
  for (int i = 0; i < 10; ++i) {
    auto need = stun_message_size(got.data(), got.size());
    if (need && got.size() >= *need)
      break;
    auto part = client->recv(5s);
    EXPECT_TRUE(part) << (part ? "" : render(part.error()));
    if (!part)
      return {};
    got.insert(got.end(), part->data.begin(), part->data.end());
  }
  stun_decode_options opts;
  opts.expect_txid = id;
  auto msg = decode_stun(got, opts);
  EXPECT_TRUE(msg) << msg.error().what;
  return msg ? *msg : stun_message{};
}

} // namespace

TEST_F(StunServer, PaddingWithResponsePortIsRefusedWith400ToTheSender) {
  auto id = stun_txid::random();
  stun_builder req{stun_class::request, stun_method::binding, id};
  req.add_raw(stun_attr::padding, std::string(64, '\0'));
  const char port[4] = {0x30, 0x39, 0, 0}; // 12345: not the client's port
  req.add_raw(stun_attr::response_port, std::string_view{port, 4});
  auto [msg, from] = ask(req, id);
  EXPECT_EQ(msg.cls(), stun_class::error);
  ASSERT_TRUE(msg.error_code());
  EXPECT_EQ(msg.error_code()->code, 400);
  EXPECT_EQ(from, primary());
}

TEST_F(StunServer, ChangeRequestOverTcpIsRefusedWith400) {
  auto id = stun_txid::random();
  stun_builder req{stun_class::request, stun_method::binding, id};
  req.add_change_request({true, true});
  auto msg = ask_tcp(rt, primary(), req, id);
  EXPECT_EQ(msg.cls(), stun_class::error);
  ASSERT_TRUE(msg.error_code());
  EXPECT_EQ(msg.error_code()->code, 400);
}

TEST_F(StunServer, TcpIsServedWhereOtherAddressPoints) {
  EXPECT_EQ(server.pipes.size(), 8u); // UDP and TCP on two IPs x two ports
  auto id = stun_txid::random();
  auto first = ask_tcp(rt, primary(), stun_builder{stun_class::request, stun_method::binding, id},
                       id);
  auto other = first.other_address();
  ASSERT_TRUE(other);
  EXPECT_EQ(*other, server.addrs.address_of({true, true}));
  // Each of the other sockets answers over TCP, from where it was asked.
  for (auto s : {net::stun_socket_id{true, true}, net::stun_socket_id{false, true},
                 net::stun_socket_id{true, false}}) {
    auto to = server.addrs.address_of(s);
    auto id2 = stun_txid::random();
    auto msg = ask_tcp(rt, to, stun_builder{stun_class::request, stun_method::binding, id2}, id2);
    EXPECT_EQ(msg.cls(), stun_class::success) << to.to_string();
    EXPECT_EQ(msg.response_origin(), to);
  }
}

namespace {

// A STUN server on 127.0.0.1 alone (no change requests), with `conf` on its
// TCP pipes.
class StunServerTcpLimits : public ::testing::Test {
protected:
  void start(net_conf conf) {
    stun_server_spec spec;
    spec.addrs.primary_ip = *ip_address::parse("127.0.0.1");
    spec.addrs.primary_port = 0;
    spec.tcp_conf = conf;
    auto srv = start_stun_server(rt, spec);
    ASSERT_OK(srv);
    server = *srv;
  }

  endpoint primary() const { return server.addrs.address_of({false, false}); }

  stun_message binding() {
    auto id = stun_txid::random();
    return ask_tcp(rt, primary(), stun_builder{stun_class::request, stun_method::binding, id}, id);
  }

  runtime rt;
  stun_server server;
};

} // namespace

TEST_F(StunServerTcpLimits, AnIdleFloodAtTheLimitStillLetsALegitimateQueryThrough) {
  net_conf conf;
  conf.max_clients = 64;
  ASSERT_NO_FATAL_FAILURE(start(conf));
  std::vector<net::unique_fd> flood;
  for (int i = 0; i < 64; ++i) {
    flood.push_back(raw_connect(primary()));
    ASSERT_GE(flood.back().get(), 0);
  }
  // Half a message on some: they hold a slot as well as silent ones do.
  for (int i = 0; i < 64; i += 4)
    ASSERT_EQ(::send(flood[i].get(), "\x00\x01\x00\x00", 4, 0), 4);
  auto msg = binding();
  EXPECT_EQ(msg.cls(), stun_class::success);
  EXPECT_TRUE(msg.xor_mapped_address());
  // Exactly one of the flood made room (which one depends on when each was
  // accepted and sent): it was reset before the query was read.
  int ended = 0;
  for (auto& fd : flood) {
    char c;
    auto n = ::recv(fd.get(), &c, 1, MSG_DONTWAIT);
    ended += n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ? 1 : 0;
  }
  EXPECT_EQ(ended, 1);
}

TEST_F(StunServerTcpLimits, IdleClientsAreResetAfterIdleTimeout) {
  net_conf conf;
  conf.idle_timeout = 200ms;
  ASSERT_NO_FATAL_FAILURE(start(conf));
  auto fd = raw_connect(primary());
  ASSERT_GE(fd.get(), 0);
  EXPECT_TRUE(raw_wait_closed(fd.get(), 5000ms));
  EXPECT_EQ(binding().cls(), stun_class::success) << "the server still serves";
}

TEST_F(StunServerTcpLimits, HalfAMessageIsResetAfterMsgDeadline) {
  net_conf conf;
  conf.msg_deadline = 200ms;
  ASSERT_NO_FATAL_FAILURE(start(conf));
  auto fd = raw_connect(primary());
  ASSERT_GE(fd.get(), 0);
  auto bytes = stun_builder{stun_class::request, stun_method::binding, stun_txid::random()}.finish();
  ASSERT_TRUE(bytes);
  ASSERT_EQ(::send(fd.get(), bytes->data(), 10, 0), 10);
  EXPECT_TRUE(raw_wait_closed(fd.get(), 5000ms));
}

TEST_F(StunServerTcpLimits, GarbageOverTcpResetsTheClient) {
  ASSERT_NO_FATAL_FAILURE(start({}));
  auto fd = raw_connect(primary());
  ASSERT_GE(fd.get(), 0);
  std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd.get(), http.data(), http.size(), 0), static_cast<ssize_t>(http.size()));
  EXPECT_TRUE(raw_wait_closed(fd.get(), 5000ms));
  EXPECT_EQ(binding().cls(), stun_class::success);
}

TEST_F(StunServerTcpLimits, TwoRequestsInOneWriteAreBothAnswered) {
  ASSERT_NO_FATAL_FAILURE(start({}));
  auto fd = raw_connect(primary());
  ASSERT_GE(fd.get(), 0);
  auto a = stun_builder{stun_class::request, stun_method::binding, stun_txid::random()}.finish();
  auto b = stun_builder{stun_class::request, stun_method::binding, stun_txid::random()}.finish();
  ASSERT_TRUE(a && b);
  std::vector<uint8_t> both(a->begin(), a->end());
  both.insert(both.end(), b->begin(), b->end());
  ASSERT_EQ(::send(fd.get(), both.data(), both.size(), 0), static_cast<ssize_t>(both.size()));
  std::vector<uint8_t> got;
  int answers = 0;
  for (int i = 0; i < 50 && answers < 2; ++i) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    uint8_t buf[1024];
    auto n = ::recv(fd.get(), buf, sizeof(buf), 0);
    ASSERT_GT(n, 0);
    got.insert(got.end(), buf, buf + n);
    while (auto need = stun_message_size(got.data(), got.size())) {
      if (got.size() < *need)
        break;
      auto msg = decode_stun(got.data(), *need);
      ASSERT_TRUE(msg) << msg.error().what;
      EXPECT_EQ(msg->cls(), stun_class::success);
      got.erase(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(*need));
      ++answers;
    }
  }
  EXPECT_EQ(answers, 2);
}
