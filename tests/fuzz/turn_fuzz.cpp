// Fuzz target for the TURN client (net/turn): any bytes from a TURN server
// are refused with a reason (and counted) or give control or a peer's data
// that lies within the input; an allocated session stays usable after
// them. ChannelData decodes within bounds and re-encodes to its bytes.
//
// Built like stun_fuzz (see there): with libFuzzer by run_fuzz.sh, and as
// turn_fuzz_corpus, which replays corpus/turn.

#include <chrono>
#include <cstring>

#include "fuzz_main.hpp"
#include "p2pd/net/stun/stun.hpp"
#include "p2pd/net/turn/channel_data.hpp"
#include "p2pd/net/turn/turn_session.hpp"

using namespace p2pd::net;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("turn_fuzz", what);
}

// The one STUN request the session sent.
stun_message sent(turn_session& s) {
  auto out = s.take_output();
  check(out.size() == 1, "the session did not send one request");
  auto m = decode_stun(out.front());
  check(static_cast<bool>(m), "the session sent a request that does not decode");
  return *m;
}

// A session allocated through the server's 401 and signed success, with
// one bound channel (to 198.51.100.9:7000).
turn_session allocated(turn_time now) {
  turn_config c;
  c.server = *endpoint::parse("192.0.2.1:3478");
  c.username = "alice";
  c.password = "wonderland";
  turn_session s{c};
  auto key = *stun_key::long_term("alice", "p2pd.test", "wonderland");
  s.start(now);
  auto first = sent(s);
  stun_builder no{stun_class::error, first.method(), first.txid()};
  no.add_error_code(401, "Unauthorized").add_text(stun_attr::realm, "p2pd.test");
  no.add_text(stun_attr::nonce, "n");
  auto b = *no.finish();
  s.receive(b.data(), b.size(), now);
  auto signed_req = sent(s);
  stun_builder ok{stun_class::success, signed_req.method(), signed_req.txid()};
  ok.add_xor_address(stun_attr::xor_relayed_address, *endpoint::parse("198.51.100.7:50000"));
  ok.add_xor_address(stun_attr::xor_mapped_address, *endpoint::parse("203.0.113.4:40000"));
  ok.add_integrity(key);
  b = *ok.finish();
  s.receive(b.data(), b.size(), now);
  check(s.state() == turn_state::allocated, "the scripted allocation failed");
  uint8_t x = 1;
  s.send(*endpoint::parse("198.51.100.9:7000"), &x, 1, now);
  auto bind = sent(s);
  stun_builder bound{stun_class::success, bind.method(), bind.txid()};
  bound.add_integrity(key);
  b = *bound.finish();
  s.receive(b.data(), b.size(), now);
  s.take_output();
  s.take_events();
  return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cd = decode_channel_data(data, size);
  if (cd) {
    check(turn_valid_channel(cd->channel), "a channel out of range decoded");
    check(cd->data == data + turn_channel_header && cd->size <= size - turn_channel_header,
          "ChannelData runs past its input");
    auto again = encode_channel_data(cd->channel, cd->data, cd->size, false);
    check(again && again->size() == turn_channel_header + cd->size
            && std::memcmp(again->data(), data, again->size()) == 0,
          "ChannelData does not re-encode to its bytes");
  } else {
    check(!cd.error().what.empty() && cd.error().code == errc::malformed,
          "a ChannelData refusal without a message or not malformed");
  }
  auto frame = turn_stream_frame_size(data, size);
  if (frame && *frame)
    check(**frame >= turn_channel_header, "a stream frame shorter than a header");

  auto now = turn_time{} + std::chrono::hours(1);
  auto s = allocated(now);
  auto r = s.receive(data, size, now);
  if (r.refused) {
    check(!r.refused.what.empty(), "a refusal without a message");
    check(!r.peer, "a refused frame gave data");
  } else if (r.peer) {
    if (r.view != nullptr)
      check(r.view >= data && r.view + r.size <= data + size, "data outside the input");
    else
      check(r.owned.size() == r.size, "owned data of another size");
  }
  // Whatever came, the session goes on: it ticks and sends to its peer.
  if (auto t = s.next_tick())
    s.tick(*t);
  uint8_t x = 2;
  s.send(*endpoint::parse("198.51.100.9:7000"), &x, 1, now);
  s.take_output();
  return 0;
}

P2PD_FUZZ_MAIN("turn_fuzz")
