// Our TURN server actor on loopback with the project's TURN client
// (turn_pipe) and a raw client: relaying both ways through channels and
// indications, credentials, nonces, quotas, bad input, lifetimes.
#include "actors/turn_server/turn_server_fixture.hpp"

#include <random>

#include "support/opener.hpp"

#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/turn/channel_data.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

using TurnServer = turn_server_fixture;

std::vector<uint8_t> signed_permission(const raw_turn_client& c, const endpoint& peer) {
  auto r = net::build_turn_permission(net::stun_txid::random(), {peer}, &*c.auth);
  return r ? *r : std::vector<uint8_t>{};
}

// A ChannelBind of any number (the builder refuses numbers RFC 8656 does not
// allow), signed with the client's credentials.
std::vector<uint8_t> channel_bind_any_number(const raw_turn_client& c, uint16_t number,
                                             const endpoint& peer) {
  net::stun_builder b{net::stun_class::request, net::stun_method::channel_bind,
                      net::stun_txid::random()};
  uint8_t num[4] = {static_cast<uint8_t>(number >> 8), static_cast<uint8_t>(number), 0, 0};
  b.add_raw(net::stun_attr::channel_number, num, sizeof(num));
  b.add_xor_address(net::stun_attr::xor_peer_address, peer);
  b.add_text(net::stun_attr::username, c.auth->username);
  b.add_text(net::stun_attr::realm, c.auth->realm);
  b.add_text(net::stun_attr::nonce, c.auth->nonce);
  b.add_integrity(c.auth->key);
  b.add_fingerprint();
  auto out = b.finish();
  return out ? *out : std::vector<uint8_t>{};
}

TEST_F(TurnServer, TurnPipeRelaysToAPeerAndBackThroughAChannel) {
  start();
  auto peer = raw_udp(any_port("127.0.0.1"));
  auto peer_addr = raw_local(peer.get());
  turn_pipe_actor p;
  auto info = open_client(client_spec(), &p);
  ASSERT_OK(info);
  EXPECT_EQ(info->local.ip, ip("127.0.0.1"));
  EXPECT_NE(info->local.port, 0);
  caf::anon_send(p, send_atom::value, to_bytes("hello peer"), peer_addr);
  auto got = raw_recv_from(peer.get(), std::chrono::milliseconds{3000});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, "hello peer");
  EXPECT_EQ(got->from, info->local); // it left from the relayed address
  ASSERT_TRUE(raw_send_to(peer.get(), info->local, "hello client"));
  auto m = next_msg();
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->data), "hello client");
  EXPECT_EQ(m->from, peer_addr);
  auto s = stats();
  EXPECT_EQ(s.allocations, 1u);
  EXPECT_EQ(s.channels, 1u);
  EXPECT_EQ(s.to_peers, 1u);
  EXPECT_EQ(s.to_clients, 1u);
  EXPECT_EQ(s.unauthenticated, 1u); // the first Allocate, as RFC 8489 has it
}

TEST_F(TurnServer, APermittedPeerReachesTheTurnPipeByDataIndication) {
  start();
  auto peer = raw_udp(any_port("127.0.0.1"));
  auto peer_addr = raw_local(peer.get());
  turn_pipe_actor p;
  auto info = open_client(client_spec(), &p);
  ASSERT_OK(info);
  bool ok = false;
  self->request(p, 5s, permit_atom::value, peer_addr)
    .receive([&](caf::ok_atom) { ok = true; }, [&](caf::error& e) { FAIL() << render(e); });
  ASSERT_TRUE(ok);
  // The permission is installed once the server counts it (the request
  // above answers when asked, not when granted).
  auto s = stats_when([](const turn_server_stats& x) { return x.permissions == 1; });
  ASSERT_EQ(s.permissions, 1u);
  ASSERT_TRUE(raw_send_to(peer.get(), info->local, "no channel yet"));
  auto m = next_msg();
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->data), "no channel yet");
  EXPECT_EQ(m->from, peer_addr);
  EXPECT_EQ(stats().channels, 0u);
}

TEST_F(TurnServer, SendIndicationsReachAPermittedPeerOnly) {
  start();
  raw_turn_client c{addr};
  auto a = allocate_ok(c);
  ASSERT_TRUE(a);
  auto relayed = net::turn_relayed(*a, net::family::v4);
  ASSERT_TRUE(relayed);
  EXPECT_EQ(a->xor_mapped_address(), c.local());
  EXPECT_TRUE(net::turn_lifetime(*a));
  auto peer = raw_udp(any_port("127.0.0.1"));
  auto peer_addr = raw_local(peer.get());
  std::string text = "by indication";
  auto send = [&] {
    auto ind = net::build_turn_send(net::stun_txid::random(), peer_addr,
                                    reinterpret_cast<const uint8_t*>(text.data()), text.size());
    return c.send_raw(*ind);
  };
  // Without a permission: dropped and counted.
  ASSERT_TRUE(send());
  auto s = stats_when([](const turn_server_stats& x) { return x.dropped_no_permission == 1; });
  EXPECT_EQ(s.dropped_no_permission, 1u);
  EXPECT_FALSE(raw_recv_from(peer.get(), std::chrono::milliseconds{50}));
  auto r = c.ask(signed_permission(c, peer_addr));
  ASSERT_TRUE(r && r->cls() == net::stun_class::success) << error_of(r);
  EXPECT_TRUE(r->integrity_ok(c.auth->key));
  ASSERT_TRUE(send());
  auto got = raw_recv_from(peer.get(), std::chrono::milliseconds{3000});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, text);
  EXPECT_EQ(got->from, *relayed);
  // And back, as a Data indication with the peer's address.
  ASSERT_TRUE(raw_send_to(peer.get(), *relayed, "back"));
  auto back = c.next();
  ASSERT_TRUE(back);
  auto d = net::decode_stun(reinterpret_cast<const uint8_t*>(back->data()), back->size());
  ASSERT_OK(d);
  EXPECT_EQ(d->cls(), net::stun_class::indication);
  EXPECT_EQ(d->method(), net::stun_method::data);
  EXPECT_EQ(d->address(net::stun_attr::xor_peer_address), peer_addr);
  auto data = d->find(net::stun_attr::data);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(std::string(data->value.begin(), data->value.end()), "back");
}

// The server is no open proxy into its own host and network: loopback
// peers unless allowed (here: not), multicast, unspecified, link-local and
// broadcast ones never, nor the server's own listen endpoint; each 403 and
// counted, for CreatePermission and ChannelBind alike.
TEST_F(TurnServer, PeersTheServerMustNotReachAreRefusedWith403) {
  auto spec = base_spec();
  spec.allow_loopback_peers = false;
  start(spec);
  raw_turn_client c{addr};
  ASSERT_TRUE(allocate_ok(c));
  auto at = [](const char* text) { return *endpoint::parse(text); };
  std::vector<endpoint> refused{at("127.0.0.1:4000"), at("127.1.2.3:4000"), at("224.0.0.1:4000"),
                                at("0.0.0.0:4000"),   at("169.254.1.1:4000"),
                                at("255.255.255.255:4000"), addr};
  for (auto& peer : refused) {
    EXPECT_EQ(error_of(c.ask(signed_permission(c, peer))), 403) << peer.to_string();
    EXPECT_EQ(error_of(c.ask(channel_bind_any_number(c, 0x4000, peer))), 403)
      << peer.to_string();
  }
  // A public address is relayed to.
  EXPECT_EQ(error_of(c.ask(signed_permission(c, at("192.0.2.7:4000")))), 0);
  auto s = stats();
  EXPECT_EQ(s.refused_peer, 2 * refused.size());
  EXPECT_EQ(s.permissions, 1u);
  EXPECT_EQ(s.channels, 0u);
}

// A peer's datagram that no Data indication can carry (a STUN length of
// 65535 at most: an IPv6 peer's largest, with its 24-byte XOR-PEER-ADDRESS)
// is dropped and counted as such, not as bandwidth.
TEST_F(TurnServer, APeersDatagramTooLargeToFrameIsDroppedAndCounted) {
  auto spec = base_spec();
  spec.relay_ip = ip("::1");
  start(spec);
  raw_turn_client c{addr};
  ASSERT_EQ(error_of(c.allocate(user, password)), 440); // an IPv4 one; the credentials
  net::turn_allocate_params p;
  p.relay_family = net::family::v6;
  auto a = c.ask(*net::build_turn_allocate(net::stun_txid::random(), p, &*c.auth, "test"));
  ASSERT_TRUE(a && a->cls() == net::stun_class::success) << error_of(a);
  auto relayed = net::turn_relayed(*a, net::family::v6);
  ASSERT_TRUE(relayed);
  auto peer = raw_udp(any_port("::1"));
  auto peer_addr = raw_local(peer.get());
  ASSERT_EQ(error_of(c.ask(signed_permission(c, peer_addr))), 0);
  ASSERT_TRUE(raw_send_to(peer.get(), *relayed, std::string(65527, 'x')));
  ASSERT_TRUE(raw_send_to(peer.get(), *relayed, "small"));
  auto s = stats_when([](const turn_server_stats& x) { return x.to_clients == 1; });
  EXPECT_EQ(s.to_clients, 1u);
  EXPECT_EQ(s.dropped_too_large, 1u);
  EXPECT_EQ(s.dropped_bandwidth, 0u);
}

// A permission is per IP: one CreatePermission naming an IP twice (two
// ports) takes one of max_permissions.
TEST_F(TurnServer, APeerIpNamedTwiceInOneCreatePermissionTakesOnePermission) {
  auto spec = base_spec();
  spec.max_permissions = 1;
  start(spec);
  raw_turn_client c{addr};
  ASSERT_TRUE(allocate_ok(c));
  auto req = net::build_turn_permission(net::stun_txid::random(),
                                        {*endpoint::parse("192.0.2.7:4000"),
                                         *endpoint::parse("192.0.2.7:4001")},
                                        &*c.auth);
  ASSERT_TRUE(req);
  EXPECT_EQ(error_of(c.ask(*req)), 0);
  auto s = stats();
  EXPECT_EQ(s.permissions, 1u);
  EXPECT_EQ(s.refused_capacity, 0u);
}

TEST_F(TurnServer, ChannelDataFromTheRawClientGoesToTheBoundPeer) {
  start();
  raw_turn_client c{addr};
  auto a = allocate_ok(c);
  ASSERT_TRUE(a);
  auto relayed = *net::turn_relayed(*a, net::family::v4);
  auto peer = raw_udp(any_port("127.0.0.1"));
  auto peer_addr = raw_local(peer.get());
  auto bind = net::build_turn_channel_bind(net::stun_txid::random(), 0x4001, peer_addr, &*c.auth);
  auto r = c.ask(*bind);
  ASSERT_TRUE(r && r->cls() == net::stun_class::success) << error_of(r);
  std::string text = "on channel";
  auto cd = net::encode_channel_data(0x4001, reinterpret_cast<const uint8_t*>(text.data()),
                                     text.size(), false);
  ASSERT_TRUE(c.send_raw(*cd));
  auto got = raw_recv_from(peer.get(), std::chrono::milliseconds{3000});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, text);
  ASSERT_TRUE(raw_send_to(peer.get(), relayed, "reply"));
  auto back = c.next();
  ASSERT_TRUE(back);
  auto v = net::decode_channel_data(reinterpret_cast<const uint8_t*>(back->data()), back->size());
  ASSERT_OK(v);
  EXPECT_EQ(v->channel, 0x4001);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v->data), v->size), "reply");
  // The same number for another peer is refused (RFC 8656 §12.2).
  auto other = net::build_turn_channel_bind(net::stun_txid::random(), 0x4001,
                                            at("127.0.0.1", 9), &*c.auth);
  EXPECT_EQ(error_of(c.ask(*other)), 400);
  // And a channel never bound carries nothing.
  auto stray = net::encode_channel_data(0x4002, reinterpret_cast<const uint8_t*>(text.data()),
                                        text.size(), false);
  ASSERT_TRUE(c.send_raw(*stray));
  auto s = stats_when([](const turn_server_stats& x) { return x.dropped_unknown_channel == 1; });
  EXPECT_EQ(s.dropped_unknown_channel, 1u);
}

TEST_F(TurnServer, Rfc5766ChannelNumbersAreServed) {
  start();
  raw_turn_client c{addr};
  ASSERT_TRUE(c.allocate(user, password));
  auto peer = raw_udp(any_port("127.0.0.1"));
  auto peer_addr = raw_local(peer.get());
  // coturn's clients pick numbers up to 0x7FFF, as RFC 5766 allowed.
  auto r = c.ask(channel_bind_any_number(c, 0x61ab, peer_addr));
  ASSERT_TRUE(r && r->cls() == net::stun_class::success) << error_of(r);
  std::string text = "high channel";
  auto cd = net::encode_channel_data(0x61ab, reinterpret_cast<const uint8_t*>(text.data()),
                                     text.size(), false, net::turn_channel_max_rfc5766);
  ASSERT_TRUE(c.send_raw(*cd));
  auto got = raw_recv_from(peer.get(), std::chrono::milliseconds{3000});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, text);
}

TEST_F(TurnServer, OnlyRfc8656ChannelNumbersWhenRfc5766IsOff) {
  auto spec = base_spec();
  spec.rfc5766_channels = false;
  start(spec);
  raw_turn_client c{addr};
  ASSERT_TRUE(c.allocate(user, password));
  EXPECT_EQ(error_of(c.ask(channel_bind_any_number(c, 0x61ab, at("127.0.0.1", 9)))), 400);
  EXPECT_EQ(error_of(c.ask(channel_bind_any_number(c, 0x3fff, at("127.0.0.1", 9)))), 400);
}

TEST_F(TurnServer, AnIpv6RelayServesAnIpv6AllocationOverIpv4) {
  auto spec = base_spec();
  spec.relay_ip = ip("::1");
  start(spec);
  auto peer = raw_udp(any_port("::1"));
  auto peer_addr = raw_local(peer.get());
  auto cs = client_spec();
  cs.relay_family = net::family::v6; // REQUESTED-ADDRESS-FAMILY (RFC 6156)
  turn_pipe_actor p;
  auto info = open_client(cs, &p);
  ASSERT_OK(info);
  EXPECT_EQ(info->local.ip, ip("::1"));
  caf::anon_send(p, send_atom::value, to_bytes("six"), peer_addr);
  auto got = raw_recv_from(peer.get(), std::chrono::milliseconds{3000});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, "six");
  ASSERT_TRUE(raw_send_to(peer.get(), info->local, "back"));
  auto m = next_msg();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->from, peer_addr);
  // An IPv4 allocation from this server: 440.
  auto v4 = open_client(client_spec("bob", "builder"));
  ASSERT_FALSE(v4);
  EXPECT_EQ(code_of(v4.error()), errc::family_unsupported) << render(v4.error());
}

TEST_F(TurnServer, AWrongPasswordGets401AndTheTurnPipeFailsWithAuthRefused) {
  start();
  auto info = open_client(client_spec(user, "not the password"));
  ASSERT_FALSE(info);
  EXPECT_EQ(code_of(info.error()), errc::auth_refused) << render(info.error());
  auto s = stats();
  EXPECT_EQ(s.unauthenticated, 1u);
  EXPECT_GE(s.auth_failed, 1u);
  EXPECT_EQ(s.allocations, 0u);
}

TEST_F(TurnServer, AnUnknownUserGets401) {
  start();
  raw_turn_client c{addr};
  auto r = c.allocate("mallory", password);
  EXPECT_EQ(error_of(r), 401);
  EXPECT_EQ(stats().auth_failed, 1u);
}

TEST_F(TurnServer, AStaleNonceGets438WithANewNonce) {
  auto spec = base_spec();
  spec.nonce_lifetime = std::chrono::nanoseconds{1}; // stale at once
  start(spec);
  raw_turn_client c{addr};
  auto r = c.allocate(user, password);
  ASSERT_EQ(error_of(r), 438);
  EXPECT_TRUE(r->realm());
  ASSERT_TRUE(r->nonce());
  EXPECT_NE(*r->nonce(), c.auth->nonce);
  EXPECT_EQ(stats().stale_nonce, 1u);
}

TEST_F(TurnServer, TheTurnPipeSignsAgainWithTheNewNonceAfterA438) {
  auto spec = base_spec();
  spec.nonce_lifetime = std::chrono::milliseconds{300};
  start(spec);
  auto peer = raw_udp(any_port("127.0.0.1"));
  turn_pipe_actor p;
  ASSERT_OK(open_client(client_spec(), &p));
  // Past the nonce's life (the server's clock decides; a bounded wait).
  self->receive(caf::after(std::chrono::milliseconds{400}) >> [] {});
  bool ok = false;
  self->request(p, 5s, permit_atom::value, raw_local(peer.get()))
    .receive([&](caf::ok_atom) { ok = true; }, [&](caf::error& e) { FAIL() << render(e); });
  ASSERT_TRUE(ok);
  auto s = stats_when([](const turn_server_stats& x) { return x.permissions == 1; });
  EXPECT_EQ(s.permissions, 1u);
  EXPECT_GE(s.stale_nonce, 1u); // the CreatePermission's first try
}

TEST_F(TurnServer, AForgedNonceGets438) {
  start();
  raw_turn_client c{addr};
  auto first = allocate_ok(c);
  ASSERT_TRUE(first);
  auto auth = *c.auth;
  auth.nonce[auth.nonce.size() - 1] ^= 1;
  auto req = net::build_turn_refresh(net::stun_txid::random(), 600, &auth);
  EXPECT_EQ(error_of(c.ask(*req)), 438);
}

TEST_F(TurnServer, ASecondAllocationOfAUserOverItsQuotaGets486) {
  auto spec = base_spec();
  spec.max_allocations_per_user = 1;
  start(spec);
  ASSERT_OK(open_client(client_spec()));
  auto second = open_client(client_spec());
  ASSERT_FALSE(second);
  EXPECT_EQ(code_of(second.error()), errc::quota_exceeded) << render(second.error());
  // Another user still has room.
  EXPECT_OK(open_client(client_spec("bob", "builder")));
  auto s = stats();
  EXPECT_EQ(s.refused_quota, 1u);
  EXPECT_EQ(s.allocations, 2u);
}

TEST_F(TurnServer, AllocationsOverTheServersCapacityGet508) {
  auto spec = base_spec();
  spec.max_allocations = 1;
  start(spec);
  ASSERT_OK(open_client(client_spec()));
  auto second = open_client(client_spec("bob", "builder"));
  ASSERT_FALSE(second);
  EXPECT_EQ(code_of(second.error()), errc::quota_exceeded) << render(second.error());
  EXPECT_EQ(stats().refused_capacity, 1u);
}

TEST_F(TurnServer, AnAllocateOnAnAllocatedFiveTupleGets437ButARetransmissionItsAnswer) {
  start();
  raw_turn_client c{addr};
  auto a = allocate_ok(c);
  ASSERT_TRUE(a);
  // The very same request again (a retransmission): the same answer.
  net::turn_allocate_params p;
  auto again = net::build_turn_allocate(a->txid(), p, &*c.auth, "test");
  auto r = c.ask(*again);
  ASSERT_TRUE(r && r->cls() == net::stun_class::success);
  EXPECT_EQ(net::turn_relayed(*r, net::family::v4), net::turn_relayed(*a, net::family::v4));
  auto fresh = net::build_turn_allocate(net::stun_txid::random(), p, &*c.auth, "test");
  EXPECT_EQ(error_of(c.ask(*fresh)), 437);
  EXPECT_EQ(stats().allocations, 1u);
}

TEST_F(TurnServer, MalformedPacketsAreDroppedAndCountedAndTheServerGoesOn) {
  start();
  raw_turn_client c{addr};
  // Neither STUN nor ChannelData; a STUN header cut short; a length field
  // past the end; ChannelData of a client without an allocation; a success
  // response nobody asked for; an empty datagram.
  ASSERT_TRUE(c.send_raw(std::string("\xff\xff garbage", 10)));
  auto req = *net::build_turn_refresh(net::stun_txid::random(), 600, nullptr);
  ASSERT_TRUE(c.send_raw(std::string(req.begin(), req.begin() + 12)));
  auto bad_len = req;
  bad_len[3] = static_cast<uint8_t>(bad_len[3] + 8);
  ASSERT_TRUE(c.send_raw(bad_len));
  ASSERT_TRUE(c.send_raw(std::string("\x40\x01\x00\x02hi", 6)));
  net::stun_builder resp{net::stun_class::success, net::stun_method::binding,
                         net::stun_txid::random()};
  ASSERT_TRUE(c.send_raw(*resp.finish()));
  ASSERT_TRUE(c.send_raw(std::string{}));
  // A binding request last: answered after the rest were handled.
  net::stun_builder binding{net::stun_class::request, net::stun_method::binding,
                            net::stun_txid::random()};
  auto r = c.ask(*binding.finish());
  ASSERT_TRUE(r && r->cls() == net::stun_class::success);
  EXPECT_EQ(r->xor_mapped_address(), c.local());
  auto s = stats();
  EXPECT_EQ(s.malformed, 5u);
  EXPECT_EQ(s.dropped_no_allocation, 1u);
  // An unsigned Refresh is answered 401, and so is a Connect (RFC 6062).
  EXPECT_EQ(error_of(c.ask(req)), 401);
  net::stun_builder connect{net::stun_class::request, net::stun_method::connect,
                            net::stun_txid::random()};
  EXPECT_EQ(error_of(c.ask(*connect.finish())), 401);
}

TEST_F(TurnServer, MutatedRequestsNeverStopTheServer) {
  start();
  raw_turn_client c{addr};
  auto a = allocate_ok(c);
  ASSERT_TRUE(a);
  // Signed requests of every kind, with bytes flipped at random (seeded),
  // cut short or grown; in batches, each followed by a Binding request that
  // must be answered (one socket, one mailbox, in order).
  std::vector<std::vector<uint8_t>> seeds{
    *net::build_turn_refresh(net::stun_txid::random(), 600, &*c.auth),
    *net::build_turn_permission(net::stun_txid::random(), {at("127.0.0.1", 9)}, &*c.auth),
    *net::build_turn_channel_bind(net::stun_txid::random(), 0x4002, at("127.0.0.1", 9),
                                  &*c.auth),
    *net::build_turn_allocate(net::stun_txid::random(), {}, &*c.auth, "x"),
    *net::encode_channel_data(0x4002, a->raw().data(), 16, false)};
  std::mt19937 rng{14};
  for (int batch = 0; batch < 20; ++batch) {
    for (int i = 0; i < 50; ++i) {
      auto m = seeds[rng() % seeds.size()];
      switch (rng() % 3) {
        case 0:
          for (int k = 0; k < 3; ++k)
            m[rng() % m.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
          break;
        case 1: m.resize(rng() % m.size()); break;
        default: m.resize(m.size() + 1 + rng() % 8, static_cast<uint8_t>(rng())); break;
      }
      ASSERT_TRUE(c.send_raw(m));
    }
    net::stun_builder binding{net::stun_class::request, net::stun_method::binding,
                              net::stun_txid::random()};
    auto r = c.ask(*binding.finish());
    ASSERT_TRUE(r && r->cls() == net::stun_class::success) << "batch " << batch;
  }
  auto s = stats();
  EXPECT_GT(s.malformed, 0u);
  EXPECT_EQ(s.allocations, 1u);
}

// A signed Allocate with EVEN-PORT (`flags`: 0x80, the R bit, reserves the
// port above) or a RESERVATION-TOKEN, which the request builder has no
// parameters for.
std::vector<uint8_t> allocate_with(const net::turn_auth& auth, std::optional<uint8_t> even,
                                   std::optional<std::vector<uint8_t>> token) {
  net::stun_builder b{net::stun_class::request, net::stun_method::allocate,
                      net::stun_txid::random()};
  uint8_t transport[4] = {17, 0, 0, 0};
  b.add_raw(net::stun_attr::requested_transport, transport, sizeof(transport));
  if (even) {
    uint8_t v[1] = {*even};
    b.add_raw(net::stun_attr::even_port, v, sizeof(v));
  }
  if (token)
    b.add_raw(net::stun_attr::reservation_token, token->data(), token->size());
  b.add_text(net::stun_attr::username, auth.username);
  b.add_text(net::stun_attr::realm, auth.realm);
  b.add_text(net::stun_attr::nonce, auth.nonce);
  b.add_integrity(auth.key);
  b.add_fingerprint();
  auto out = b.finish();
  return out ? *out : std::vector<uint8_t>{};
}

TEST_F(TurnServer, EvenPortWithItsRBitReservesThePortAboveForATokensAllocate) {
  auto spec = base_spec();
  auto lo = free_port(udp);
  spec.relay_port_min = static_cast<uint16_t>(lo & ~1u);
  spec.relay_port_max = static_cast<uint16_t>(spec.relay_port_min + 9);
  start(spec);
  raw_turn_client rtp{addr};
  ASSERT_EQ(error_of(rtp.allocate(user, password)), 0); // for the credentials
  raw_turn_client rtp2{addr};
  rtp2.auth = rtp.auth;
  auto a = rtp2.ask(allocate_with(*rtp.auth, uint8_t{0x80}, std::nullopt));
  ASSERT_TRUE(a && a->cls() == net::stun_class::success) << error_of(a);
  auto relayed = net::turn_relayed(*a, net::family::v4);
  ASSERT_TRUE(relayed);
  EXPECT_EQ(relayed->port % 2, 0);
  auto token = a->find(net::stun_attr::reservation_token);
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(stats().reservations, 1u);
  raw_turn_client rtcp{addr};
  auto b = rtcp.ask(allocate_with(*rtp.auth, std::nullopt, token->value));
  ASSERT_TRUE(b && b->cls() == net::stun_class::success) << error_of(b);
  EXPECT_EQ(net::turn_relayed(*b, net::family::v4)->port, relayed->port + 1);
  EXPECT_EQ(stats().reservations, 0u);
  // A token is good once; EVEN-PORT and a token together are refused.
  raw_turn_client again{addr};
  EXPECT_EQ(error_of(again.ask(allocate_with(*rtp.auth, std::nullopt, token->value))), 508);
  EXPECT_EQ(error_of(again.ask(allocate_with(*rtp.auth, uint8_t{0}, token->value))), 400);
}

TEST_F(TurnServer, AnUnclaimedReservationExpires) {
  auto spec = base_spec();
  auto lo = free_port(udp);
  spec.relay_port_min = static_cast<uint16_t>(lo & ~1u);
  spec.relay_port_max = static_cast<uint16_t>(spec.relay_port_min + 9);
  spec.reservation_lifetime = std::chrono::milliseconds{200};
  spec.sweep_interval = std::chrono::milliseconds{50};
  start(spec);
  raw_turn_client c{addr};
  ASSERT_EQ(error_of(c.allocate(user, password)), 0);
  raw_turn_client d{addr};
  auto a = d.ask(allocate_with(*c.auth, uint8_t{0x80}, std::nullopt));
  ASSERT_TRUE(a && a->cls() == net::stun_class::success) << error_of(a);
  auto token = a->find(net::stun_attr::reservation_token);
  ASSERT_NE(token, nullptr);
  auto s = stats_when([](const turn_server_stats& x) { return x.reservations == 0; });
  EXPECT_EQ(s.reservations, 0u);
  raw_turn_client late{addr};
  EXPECT_EQ(error_of(late.ask(allocate_with(*c.auth, std::nullopt, token->value))), 508);
}

// RFC 8656 §7.2: an EVEN-PORT the server cannot honour is answered 508,
// not ignored.
TEST_F(TurnServer, EvenPortWithFreeRelayPortsGets508) {
  start(); // relay ports {0, 0}: the stack picks them
  raw_turn_client c{addr};
  ASSERT_EQ(error_of(c.allocate(user, password)), 0);
  raw_turn_client d{addr};
  EXPECT_EQ(error_of(d.ask(allocate_with(*c.auth, uint8_t{0}, std::nullopt))), 508);
  EXPECT_EQ(error_of(d.ask(allocate_with(*c.auth, uint8_t{0x80}, std::nullopt))), 508);
  auto s = stats();
  EXPECT_EQ(s.refused_capacity, 2u);
  EXPECT_EQ(s.allocations, 1u);
}

TEST_F(TurnServer, EvenPortWithoutAnEvenPortInTheRangeGets508) {
  auto spec = base_spec();
  auto lo = static_cast<uint16_t>(free_port(udp) | 1u); // one odd port
  spec.relay_port_min = lo;
  spec.relay_port_max = lo;
  start(spec);
  raw_turn_client c{addr};
  ASSERT_EQ(error_of(c.allocate(user, password)), 0);
  ASSERT_EQ(error_of(c.ask(*net::build_turn_refresh(net::stun_txid::random(), 0, &*c.auth))), 0);
  raw_turn_client d{addr};
  EXPECT_EQ(error_of(d.ask(allocate_with(*c.auth, uint8_t{0}, std::nullopt))), 508);
  EXPECT_EQ(stats().allocations, 0u);
}

// Allocate with EVEN-PORT's R bit, then Refresh 0, `rounds` times from
// fresh 5-tuples with `auth`: each Allocate's error code (0: allocated).
std::vector<uint16_t> reserve_and_delete(const endpoint& server, const net::turn_auth& auth,
                                         int rounds) {
  std::vector<uint16_t> out;
  for (int i = 0; i < rounds; ++i) {
    raw_turn_client c{server};
    auto a = c.ask(allocate_with(auth, uint8_t{0x80}, std::nullopt));
    out.push_back(a ? error_of(a) : uint16_t{1});
    if (a && a->cls() == net::stun_class::success) {
      auto del = net::build_turn_refresh(net::stun_txid::random(), 0, &auth);
      auto r = c.ask(*del);
      EXPECT_TRUE(r && r->cls() == net::stun_class::success) << error_of(r);
    }
  }
  return out;
}

// Spec with a range of even ports for reservations.
turn_server_spec even_range(turn_server_spec spec) {
  auto lo = free_port(udp);
  spec.relay_port_min = static_cast<uint16_t>(lo & ~1u);
  spec.relay_port_max = static_cast<uint16_t>(spec.relay_port_min + 39);
  return spec;
}

TEST_F(TurnServer, ReservedPortsCountTowardTheUsersQuota) {
  auto spec = even_range(base_spec());
  spec.max_allocations_per_user = 3;
  start(spec);
  raw_turn_client c{addr};
  ASSERT_EQ(error_of(c.allocate(user, password)), 0); // for the credentials
  auto del = net::build_turn_refresh(net::stun_txid::random(), 0, &*c.auth);
  ASSERT_EQ(error_of(c.ask(*del)), 0);
  // Each round leaves its reservation: two fit (2 + 1 = 3), then no room
  // for an allocation and its reservation.
  auto codes = reserve_and_delete(addr, *c.auth, 5);
  EXPECT_EQ(codes, (std::vector<uint16_t>{0, 0, 486, 486, 486}));
  auto s = stats();
  EXPECT_EQ(s.reservations, 2u);
  EXPECT_EQ(s.refused_quota, 3u);
}

TEST_F(TurnServer, ReservedPortsCountTowardTheServersCapacity) {
  auto spec = even_range(base_spec());
  spec.max_allocations = 3;
  start(spec);
  raw_turn_client c{addr};
  ASSERT_EQ(error_of(c.allocate(user, password)), 0);
  auto del = net::build_turn_refresh(net::stun_txid::random(), 0, &*c.auth);
  ASSERT_EQ(error_of(c.ask(*del)), 0);
  auto codes = reserve_and_delete(addr, *c.auth, 4);
  EXPECT_EQ(codes, (std::vector<uint16_t>{0, 0, 508, 508}));
  auto s = stats();
  EXPECT_EQ(s.reservations, 2u);
  EXPECT_EQ(s.refused_capacity, 2u);
}

TEST_F(TurnServer, UnsupportedTransportFamilyAndPeerFamilyAreRefused) {
  start();
  raw_turn_client c{addr};
  ASSERT_TRUE(c.allocate(user, password)); // for the auth; allocated
  raw_turn_client d{addr};
  d.auth = c.auth;
  net::turn_allocate_params tcp;
  tcp.relay_transport = net::protocol::tcp;
  EXPECT_EQ(error_of(d.ask(*net::build_turn_allocate(net::stun_txid::random(), tcp, &*d.auth,
                                                     ""))),
            442);
  net::turn_allocate_params v6;
  v6.relay_family = net::family::v6;
  EXPECT_EQ(error_of(d.ask(*net::build_turn_allocate(net::stun_txid::random(), v6, &*d.auth,
                                                     ""))),
            440);
  EXPECT_EQ(error_of(c.ask(signed_permission(c, ep("[::1]:5000")))), 443);
  // A request on no allocation: 437.
  EXPECT_EQ(error_of(d.ask(*net::build_turn_refresh(net::stun_txid::random(), 600, &*d.auth))),
            437);
}

TEST_F(TurnServer, AnAllocationNotRefreshedExpiresAndItsRelayCloses) {
  auto spec = base_spec();
  spec.default_lifetime = std::chrono::milliseconds{300};
  spec.max_lifetime = std::chrono::milliseconds{300};
  spec.sweep_interval = std::chrono::milliseconds{50};
  start(spec);
  raw_turn_client c{addr};
  auto a = allocate_ok(c);
  ASSERT_TRUE(a);
  EXPECT_EQ(net::turn_lifetime(*a), 1u); // 300 ms, rounded up
  auto relayed = *net::turn_relayed(*a, net::family::v4);
  auto s = stats_when([](const turn_server_stats& x) { return x.expired == 1; });
  EXPECT_EQ(s.expired, 1u);
  EXPECT_EQ(s.allocations, 0u);
  // Gone: a Refresh finds nothing, and the relayed port is free again.
  EXPECT_EQ(error_of(c.ask(*net::build_turn_refresh(net::stun_txid::random(), 600, &*c.auth))),
            437);
  bool freed = false;
  for (int i = 0; i < 100 && !freed; ++i) {
    freed = bindable(udp, relayed);
    if (!freed)
      self->receive(caf::after(std::chrono::milliseconds{20}) >> [] {});
  }
  EXPECT_TRUE(freed);
}

TEST_F(TurnServer, PermissionsExpireAndThenThePeerIsDropped) {
  auto spec = base_spec();
  spec.permission_lifetime = std::chrono::milliseconds{200};
  spec.sweep_interval = std::chrono::milliseconds{50};
  start(spec);
  raw_turn_client c{addr};
  auto a = allocate_ok(c);
  ASSERT_TRUE(a);
  auto relayed = *net::turn_relayed(*a, net::family::v4);
  auto peer = raw_udp(any_port("127.0.0.1"));
  auto peer_addr = raw_local(peer.get());
  auto r = c.ask(signed_permission(c, peer_addr));
  ASSERT_TRUE(r && r->cls() == net::stun_class::success);
  auto s = stats_when([](const turn_server_stats& x) { return x.permissions == 0; });
  ASSERT_EQ(s.permissions, 0u);
  ASSERT_TRUE(raw_send_to(peer.get(), relayed, "too late"));
  s = stats_when([](const turn_server_stats& x) { return x.dropped_no_permission == 1; });
  EXPECT_EQ(s.dropped_no_permission, 1u);
  EXPECT_EQ(s.to_clients, 0u);
}

TEST_F(TurnServer, ClosingTheTurnPipeDeletesItsAllocation) {
  start();
  turn_pipe_actor p;
  ASSERT_OK(open_client(client_spec(), &p));
  self->request(p, 5s, caf::close_atom::value).receive([](caf::ok_atom) {},
                                                        [](caf::error&) {});
  auto s = stats_when([](const turn_server_stats& x) { return x.deleted == 1; });
  EXPECT_EQ(s.deleted, 1u);
  EXPECT_EQ(s.allocations, 0u);
}

TEST_F(TurnServer, RelayedPortsComeFromTheConfiguredRange) {
  auto spec = base_spec();
  auto lo = free_port(udp);
  spec.relay_port_min = lo;
  spec.relay_port_max = lo;
  start(spec);
  auto first = open_client(client_spec());
  ASSERT_OK(first);
  EXPECT_EQ(first->local.port, lo);
  // The range is used up: the next Allocate is refused (508).
  auto second = open_client(client_spec("bob", "builder"));
  ASSERT_FALSE(second);
  EXPECT_EQ(code_of(second.error()), errc::quota_exceeded);
  EXPECT_EQ(stats().refused_capacity, 1u);
}

TEST_F(TurnServer, RelayedBandwidthOverTheLimitIsDropped) {
  auto spec = base_spec();
  spec.max_bytes_per_s = 1000;
  start(spec);
  auto peer = raw_udp(any_port("127.0.0.1"));
  auto peer_addr = raw_local(peer.get());
  turn_pipe_actor p;
  // Before the allocation, whose bucket starts full: what the elapsed time
  // refills is bounded by it, however slow the machine.
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK(open_client(client_spec(), &p));
  std::string chunk(400, 'x');
  for (int i = 0; i < 10; ++i)
    caf::anon_send(p, send_atom::value, to_bytes(chunk), peer_addr);
  auto s = stats_when([](const turn_server_stats& x) {
    return x.to_peers + x.dropped_bandwidth == 10;
  });
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(s.to_peers + s.dropped_bandwidth, 10u);
  // One second's worth (1000 bytes: two datagrams of 400) at least, and at
  // most that plus what the elapsed time refilled (1000 bytes a second).
  EXPECT_GE(s.to_peers, 2u);
  auto most = static_cast<uint64_t>((1000.0 + 1000.0 * elapsed.count()) / 400.0);
  EXPECT_LE(s.to_peers, most) << "in " << elapsed.count() << " s";
}

TEST_F(TurnServer, TurnPipeOverTcpRelaysToAPeerAndBack) {
  start();
  auto peer = raw_udp(any_port("127.0.0.1"));
  auto peer_addr = raw_local(peer.get());
  auto spec = client_spec();
  spec.server.transport = net::protocol::tcp;
  spec.timing.tcp_timeout = std::chrono::seconds(2);
  turn_pipe_actor p;
  auto info = open_client(spec, &p);
  ASSERT_OK(info);
  caf::anon_send(p, send_atom::value, to_bytes("over tcp"), peer_addr);
  auto got = raw_recv_from(peer.get(), std::chrono::milliseconds{3000});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, "over tcp");
  EXPECT_EQ(got->from, info->local);
  ASSERT_TRUE(raw_send_to(peer.get(), info->local, "odd size")); // padded on the stream
  auto m = next_msg();
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->data), "odd size");
  EXPECT_EQ(stats().channels, 1u);
}

// One request on a TCP connection, one response: each whole in one read
// on loopback.
std::optional<net::stun_message> tcp_ask(int fd, const std::vector<uint8_t>& req) {
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return std::nullopt;
  uint8_t buf[2048];
  auto n = ::recv(fd, buf, sizeof(buf), 0);
  if (n <= 0)
    return std::nullopt;
  auto m = net::decode_stun(buf, static_cast<size_t>(n));
  if (!m)
    return std::nullopt;
  return std::move(*m);
}

TEST_F(TurnServer, ATcpClientsAllocationEndsWithItsConnection) {
  start();
  auto fd = raw_connect(addr);
  ASSERT_TRUE(fd.get() >= 0);
  set_timeouts(fd.get(), std::chrono::seconds(2));
  auto ask = [&](const std::vector<uint8_t>& req) { return tcp_ask(fd.get(), req); };
  net::turn_allocate_params p;
  auto first = ask(*net::build_turn_allocate(net::stun_txid::random(), p, nullptr, ""));
  ASSERT_EQ(error_of(first), 401);
  net::turn_auth auth{user, *first->realm(), *first->nonce(),
                      *net::stun_key::long_term(user, *first->realm(), password)};
  auto a = ask(*net::build_turn_allocate(net::stun_txid::random(), p, &auth, ""));
  ASSERT_TRUE(a && a->cls() == net::stun_class::success) << error_of(a);
  EXPECT_EQ(a->xor_mapped_address(), raw_local(fd.get()));
  ASSERT_EQ(stats().allocations, 1u);
  fd = net::unique_fd{}; // an orderly close
  auto s = stats_when([](const turn_server_stats& x) { return x.allocations == 0; });
  EXPECT_EQ(s.allocations, 0u);
  EXPECT_EQ(s.deleted, 1u);
}

// A client says nothing between its refreshes: the TCP pipe's idle timeout
// (asked shorter here) is raised to max_lifetime, else the connection,
// and with it the allocation, would end before the next refresh.
TEST_F(TurnServer, AQuietTcpClientThatRefreshesKeepsItsAllocationPastTheIdleTimeout) {
  auto spec = base_spec();
  spec.tcp_conf.idle_timeout = std::chrono::milliseconds{200};
  spec.default_lifetime = std::chrono::milliseconds{1500};
  spec.max_lifetime = std::chrono::milliseconds{1500};
  start(spec);
  auto fd = raw_connect(addr);
  ASSERT_TRUE(fd.get() >= 0);
  set_timeouts(fd.get(), std::chrono::seconds(2));
  net::turn_allocate_params p;
  auto first = tcp_ask(fd.get(), *net::build_turn_allocate(net::stun_txid::random(), p, nullptr, ""));
  ASSERT_EQ(error_of(first), 401);
  net::turn_auth auth{user, *first->realm(), *first->nonce(),
                      *net::stun_key::long_term(user, *first->realm(), password)};
  auto a = tcp_ask(fd.get(), *net::build_turn_allocate(net::stun_txid::random(), p, &auth, ""));
  ASSERT_TRUE(a && a->cls() == net::stun_class::success) << error_of(a);
  // Quiet for three idle timeouts: the read times out (the connection is
  // open) instead of seeing its end.
  timeval quiet{0, 600'000};
  ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &quiet, sizeof(quiet)), 0);
  uint8_t buf[64];
  auto n = ::recv(fd.get(), buf, sizeof(buf), 0);
  EXPECT_EQ(n, -1) << "the server ended the connection of a quiet client";
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno;
  set_timeouts(fd.get(), std::chrono::seconds(2));
  auto r = tcp_ask(fd.get(), *net::build_turn_refresh(net::stun_txid::random(), 1, &auth));
  ASSERT_TRUE(r && r->cls() == net::stun_class::success) << error_of(r);
  EXPECT_EQ(stats().allocations, 1u);
}

TEST_F(TurnServer, EndsWithTheActorThatOpenedIt) {
  auto r = spawn_turn_server(rt.system(), base_spec());
  ASSERT_OK(r);
  EXPECT_TRUE(ends_with_its_opener(rt.system(), *r));
}

TEST(TurnServerSpec, RefusesWhatCannotWork) {
  turn_server_spec s;
  EXPECT_EQ(code_of(s.check()), errc::invalid_argument); // no users
  s.users = {{"a", "b"}};
  EXPECT_FALSE(s.check());
  s.relay_port_min = 2000;
  s.relay_port_max = 1000;
  EXPECT_EQ(code_of(s.check()), errc::invalid_argument);
  s.relay_port_max = 3000;
  s.users = {{"a", "bad\x01password"}};
  EXPECT_EQ(code_of(s.check()), errc::invalid_argument);
}

} // namespace
