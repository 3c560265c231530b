// The STUN client: transactions over pipes against the project's server.
#include <atomic>

#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/stun_server.hpp"
#include "support/values.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/actors/stun/stun_client.hpp"
#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/stun/stun_message.hpp"
#include "p2pd/net/stun/stun_responder.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

// The tests below count the sends of this preset.
static_assert(loopback_stun_timing().max_sends == 3);

class StunClient : public ::testing::Test {
protected:
  void SetUp() override {
    auto srv = start_loopback_stun_server(rt, true);
    ASSERT_OK(srv);
    server = *srv;
    client = spawn_stun_client(rt.system(), loopback_stun_timing());
  }

  endpoint primary() const { return server.addrs.address_of({false, false}); }

  caf::expected<stun_binding> query(stun_query q, net::protocol proto = udp) {
    caf::scoped_actor self{rt.system()};
    caf::expected<stun_binding> out{make_error(errc::io_failed, "no answer")};
    self->request(client, stun_deadline(loopback_stun_timing(), proto), stun_atom::value,
                  std::move(q))
      .receive([&](stun_binding& b) { out = std::move(b); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  runtime rt;
  stun_server server;
  stun_client_actor client;
};

} // namespace

TEST_F(StunClient, LearnsTheMappingOfItsPipe) {
  auto p = rt.connect(udp, primary());
  ASSERT_OK(p);
  auto b = query({p->handle(), primary(), {}, false});
  ASSERT_OK(b);
  EXPECT_EQ(b->mapped.port, p->local().port);
  EXPECT_EQ(b->mapped.ip.to_string(), "127.0.0.1");
  EXPECT_EQ(b->responder, primary());
  EXPECT_EQ(b->response_origin, primary());
  EXPECT_EQ(b->other_address, server.addrs.address_of({true, true}));
  EXPECT_EQ(b->sends, 1u);
}

TEST_F(StunClient, ChangeRequestIsAnsweredFromTheOtherAddress) {
  auto p = rt.connect(udp, primary());
  ASSERT_OK(p);
  auto b = query({p->handle(), primary(), {true, true}, false});
  ASSERT_OK(b);
  EXPECT_EQ(b->responder, server.addrs.address_of({true, true}));
}

TEST_F(StunClient, WorksOverAServerPipeToo) {
  // A mapping stays with the socket: a server pipe can ask and keep serving.
  auto p = rt.listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(p);
  auto b = query({p->handle(), primary(), {}, false});
  ASSERT_OK(b);
  EXPECT_EQ(b->mapped, p->local());
}

TEST_F(StunClient, ClassicRfc3489Request) {
  auto p = rt.connect(udp, primary());
  ASSERT_OK(p);
  auto b = query({p->handle(), primary(), {}, true});
  ASSERT_OK(b);
  EXPECT_EQ(b->mapped.port, p->local().port);
  EXPECT_EQ(b->other_address, server.addrs.address_of({true, true}));
}

TEST_F(StunClient, OverTcp) {
  auto p = rt.connect(tcp, primary());
  ASSERT_OK(p);
  auto b = query({p->handle(), primary(), {}, false}, tcp);
  ASSERT_OK(b);
  EXPECT_EQ(b->mapped, p->local());
}

TEST_F(StunClient, ResendsUntilAnswered) {
  // A server that loses the first two requests.
  auto lost = std::make_shared<std::atomic<int>>(0);
  net::stun_server_addrs addrs;
  addrs.primary_ip = *net::ip_address::parse("127.0.0.1");
  auto lossy = rt.listen(udp, any_port("127.0.0.1"),
                         [lost, addrs](pipe_io& io, std::string_view data, const endpoint& from) {
                           if (++*lost <= 2)
                             return;
                           auto r = net::stun_respond(
                             reinterpret_cast<const uint8_t*>(data.data()), data.size(), from,
                             {}, addrs, "lossy");
                           if (r && *r)
                             io.reply({reinterpret_cast<const char*>((*r)->bytes.data()),
                                       (*r)->bytes.size()});
                         });
  ASSERT_OK(lossy);
  auto p = rt.connect(udp, lossy->local());
  ASSERT_OK(p);
  auto b = query({p->handle(), lossy->local(), {}, false});
  ASSERT_OK(b);
  EXPECT_EQ(b->sends, 3u);
}

TEST_F(StunClient, SilentServerTimesOutAfterTheLastSend) {
  auto mute = rt.listen(udp, any_port("127.0.0.1"), [](pipe_io&, std::string_view,
                                                       const endpoint&) {});
  ASSERT_OK(mute);
  auto p = rt.connect(udp, mute->local());
  ASSERT_OK(p);
  auto b = query({p->handle(), mute->local(), {}, false});
  ASSERT_FALSE(b);
  EXPECT_ERRC(b, errc::recv_timeout);
  EXPECT_NE(what_of(b.error()).find("after 3 sends"), std::string::npos) << render(b.error());
  auto stats = mute->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->rx_msgs, 3u);
}

TEST_F(StunClient, ErrorResponseIsAnError) {
  stun_server_spec spec;
  spec.addrs.primary_ip = *net::ip_address::parse("::1");
  spec.addrs.primary_port = 0;
  spec.tcp = false;
  auto v6 = start_stun_server(rt, spec);
  ASSERT_OK(v6);
  auto at = v6->addrs.address_of({false, false});
  auto p = rt.connect(udp, at);
  ASSERT_OK(p);
  auto ok = query({p->handle(), at, {}, false}); // IPv6 binding works ...
  ASSERT_OK(ok);
  EXPECT_EQ(ok->mapped, endpoint(*net::ip_address::parse("::1"), p->local().port));
  auto refused = query({p->handle(), at, {true, false}, false}); // ... no alternate IP
  ASSERT_FALSE(refused);
  EXPECT_ERRC(refused, errc::invalid_argument);
  EXPECT_NE(what_of(refused.error()).find("420"), std::string::npos) << render(refused.error());
}

namespace {

// A server that answers a binding request with `answer(request, from)`, sent
// from `out` (a raw socket) instead of the socket the request came to.
template <class F>
caf::expected<p2pd::pipe_handle> odd_server(runtime& rt, std::shared_ptr<net::unique_fd> out, F answer) {
  return rt.listen(udp, any_port("127.0.0.1"),
                   [out, answer](pipe_io& io, std::string_view data, const endpoint& from) {
                     auto req = net::decode_stun(reinterpret_cast<const uint8_t*>(data.data()),
                                                 data.size());
                     if (!req)
                       return;
                     auto bytes = answer(*req, from);
                     std::string wire{reinterpret_cast<const char*>(bytes.data()), bytes.size()};
                     if (out)
                       raw_send_to(out->get(), from, wire);
                     else
                       io.reply(wire);
                   });
}

std::vector<uint8_t> binding_answer(const net::stun_txid& id, const endpoint& mapped) {
  net::stun_builder b{net::stun_class::success, net::stun_method::binding, id};
  b.add_xor_address(net::stun_attr::xor_mapped_address, mapped);
  auto bytes = b.finish();
  return bytes ? std::vector<uint8_t>(bytes->begin(), bytes->end()) : std::vector<uint8_t>{};
}

} // namespace

TEST_F(StunClient, AnswerFromAnUnexpectedAddressIsIgnored) {
  // The right transaction id, but from another port than the one asked: a
  // spoofed or stray answer, not the server's.
  auto other = std::make_shared<net::unique_fd>(raw_udp(any_port("127.0.0.1")));
  auto srv = odd_server(rt, other, [](const net::stun_message& req, const endpoint& from) {
    return binding_answer(req.txid(), from);
  });
  ASSERT_OK(srv);
  auto p = rt.connect(udp, srv->local());
  ASSERT_OK(p);
  auto b = query({p->handle(), srv->local(), {}, false});
  ASSERT_FALSE(b);
  EXPECT_ERRC(b, errc::recv_timeout);
  EXPECT_NE(what_of(b.error()).find("unexpected addresses ignored"), std::string::npos)
    << render(b.error());
}

TEST_F(StunClient, AnswerWithAnotherTransactionIdIsIgnored) {
  auto srv = odd_server(rt, nullptr, [](const net::stun_message&, const endpoint& from) {
    return binding_answer(net::stun_txid::random(), from);
  });
  ASSERT_OK(srv);
  auto p = rt.connect(udp, srv->local());
  ASSERT_OK(p);
  auto b = query({p->handle(), srv->local(), {}, false});
  ASSERT_FALSE(b);
  EXPECT_ERRC(b, errc::recv_timeout);
}

TEST_F(StunClient, ChangeRequestAnsweredFromTheSameAddressIsIgnored) {
  // A server that ignores CHANGE-REQUEST and answers from where it was asked:
  // taken at face value it would make every NAT look like a full cone.
  auto srv = odd_server(rt, nullptr, [](const net::stun_message& req, const endpoint& from) {
    return binding_answer(req.txid(), from);
  });
  ASSERT_OK(srv);
  auto p = rt.connect(udp, srv->local());
  ASSERT_OK(p);
  auto b = query({p->handle(), srv->local(), {true, true}, false});
  ASSERT_FALSE(b);
  EXPECT_ERRC(b, errc::recv_timeout);
}
