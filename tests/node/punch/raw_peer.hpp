#pragma once

// A peer that speaks signalling only, on the tests' hub: it sends punch
// messages the test made and sees what comes back. Shared by the exchange
// tests (a node answers it) and the punch tests (a node offers to it).
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "node/node_fixture.hpp"

#include "p2pd/actors/signal/node/signal_node.hpp"
#include "p2pd/api/blocking.hpp"
#include "p2pd/node/punch/punch_offer.hpp"
#include "p2pd/proto/envelope_codec.hpp"

namespace p2pd::test {

struct raw_peer {
  raw_peer(runtime& rt, signal_hub_actor hub)
    : id(std::make_shared<const net::identity>(make_identity())), inbox(rt.system()) {
    signal_node_spec s;
    s.identity = id;
    s.hub = std::move(hub);
    auto n = start_signal_node(rt.system(), s);
    if (!n)
      throw std::runtime_error("signal node: " + render(n.error()));
    node = *n;
    inbox->request(node, std::chrono::seconds(5), caf::subscribe_atom::value,
                   caf::actor_cast<caf::actor>(inbox.ptr()))
      .receive([](caf::ok_atom) {}, [](caf::error& err) { FAIL() << render(err); });
  }
  ~raw_peer() { caf::anon_send_exit(node, caf::exit_reason::user_shutdown); }

  void send(const net::public_keys& to, const std::vector<uint8_t>& payload) {
    inbox->request(node, std::chrono::seconds(5), send_atom::value, to,
                   static_cast<uint32_t>(wire::PAYLOAD_TYPE_HOLE_PUNCH_REQUEST),
                   bytes(payload.begin(), payload.end()))
      .receive([](net::message_id) {}, [](caf::error& err) { FAIL() << render(err); });
  }
  void send(const net::public_keys& to, const node::punch_message& m) {
    send(to, node::encode_punch(m));
  }

  /// The next punch message that comes; its sender goes to `last_sender`.
  std::optional<node::punch_message> next() {
    auto msg = next_where<signal_message>(inbox, [](const signal_message& m) {
      return m.type == wire::PAYLOAD_TYPE_HOLE_PUNCH_REQUEST;
    });
    if (!msg)
      return std::nullopt;
    last_sender = msg->sender_keys;
    auto m = node::decode_punch(reinterpret_cast<const uint8_t*>(msg->plaintext.data()),
                                msg->plaintext.size());
    if (!m)
      return std::nullopt;
    return *m;
  }

  /// Its signed address: on the open Internet, on loopback, nothing
  /// listening, reachable over the hub.
  std::string address() const {
    node::peer_address addr;
    addr.keys = id->pub();
    node::peer_route r;
    r.nic = net::ip_address::loopback(net::family::v4);
    r.port = 9; // nothing answers there
    r.nat = net::nat_type::open_internet;
    addr.routes.push_back(r);
    addr.channels.push_back({node::channel_kind::hub, "hub"});
    auto text = node::encode_peer_address(addr, *id);
    if (!text)
      throw std::runtime_error("peer address: " + text.error().what);
    return *text;
  }

  std::shared_ptr<const net::identity> id;
  signal_node_actor node;
  caf::scoped_actor inbox;
  net::public_keys last_sender;
};

} // namespace p2pd::test
