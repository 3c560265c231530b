#pragma once

// Plays a TURN server's side to a turn_session byte by byte: the answers a
// server gives (401, signed successes, error codes), built with the
// project's STUN builder. For unit tests of the state machine; the client
// is tested against a real coturn in tests/actors/turn.

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "p2pd/net/stun/stun.hpp"
#include "p2pd/net/turn/channel_data.hpp"
#include "p2pd/net/turn/turn_session.hpp"
#include "support/expect.hpp"
#include "support/values.hpp"

namespace p2pd::test {

using namespace std::chrono_literals;

struct turn_server_script {
  std::string realm = "p2pd.test";
  std::string nonce = "nonce-1";
  net::stun_key key = *net::stun_key::long_term("alice", "p2pd.test", "wonderland");
  net::endpoint relayed = ep("198.51.100.7:50000");
  net::endpoint mapped = ep("203.0.113.4:40000");

  static net::turn_config config() {
    net::turn_config c;
    c.server = ep("192.0.2.1:3478");
    c.username = "alice";
    c.password = "wonderland";
    c.rto = 100ms;
    c.max_sends = 3;
    c.last_wait_factor = 2;
    return c;
  }

  /// The messages the session sent, decoded (ChannelData left out).
  static std::vector<net::stun_message> sent(net::turn_session& s) {
    std::vector<net::stun_message> out;
    for (auto& b : s.take_output()) {
      if (net::turn_frame_of(b.data(), b.size()) != net::turn_frame_kind::stun)
        continue;
      auto m = net::decode_stun(b);
      EXPECT_OK(m);
      if (m)
        out.push_back(*m);
    }
    return out;
  }

  /// The one STUN message the session sent.
  static net::stun_message sent_one(net::turn_session& s) {
    auto all = sent(s);
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? net::stun_message{} : all.front();
  }

  std::vector<uint8_t> unauthorized(const net::stun_message& req) const {
    net::stun_builder b{net::stun_class::error, req.method(), req.txid()};
    b.add_error_code(401, "Unauthorized").add_text(net::stun_attr::realm, realm);
    b.add_text(net::stun_attr::nonce, nonce);
    return *b.finish();
  }

  std::vector<uint8_t> error(const net::stun_message& req, uint16_t code,
                             std::string_view reason, bool sign = false) const {
    net::stun_builder b{net::stun_class::error, req.method(), req.txid()};
    b.add_error_code(code, reason);
    if (code == 438)
      b.add_text(net::stun_attr::realm, realm).add_text(net::stun_attr::nonce, nonce);
    if (sign)
      b.add_integrity(key);
    return *b.finish();
  }

  /// A signed success; an Allocate's carries the addresses and LIFETIME.
  std::vector<uint8_t> success(const net::stun_message& req, uint32_t lifetime = 600,
                               bool sign = true) const {
    net::stun_builder b{net::stun_class::success, req.method(), req.txid()};
    if (req.method() == net::stun_method::allocate) {
      b.add_xor_address(net::stun_attr::xor_relayed_address, relayed);
      b.add_xor_address(net::stun_attr::xor_mapped_address, mapped);
    }
    if (req.method() == net::stun_method::allocate || req.method() == net::stun_method::refresh) {
      uint8_t v[4] = {uint8_t(lifetime >> 24), uint8_t(lifetime >> 16), uint8_t(lifetime >> 8),
                      uint8_t(lifetime)};
      b.add_raw(net::stun_attr::lifetime, v, 4);
    }
    if (sign)
      b.add_integrity(key);
    return *b.finish();
  }

  /// Feeds a control answer; it must not be refused.
  static void feed(net::turn_session& s, const std::vector<uint8_t>& bytes, net::turn_time now) {
    auto r = s.receive(bytes.data(), bytes.size(), now);
    EXPECT_FALSE(r.refused) << net::to_string(r.refused);
  }

  /// Start, 401, signed Allocate, success: an allocated session.
  void allocate(net::turn_session& s, net::turn_time now, uint32_t lifetime = 600) {
    s.start(now);
    feed(s, unauthorized(sent_one(s)), now);
    feed(s, success(sent_one(s), lifetime), now);
    ASSERT_EQ(s.state(), net::turn_state::allocated);
    s.take_events();
  }
};

} // namespace p2pd::test
