// Fuzz target for inbox::open, the whole receive path of a signalling
// message. The first byte, modulo 3, picks what the rest is:
//   0: an envelope as it came off the wire (what anyone can send; it
//      rarely gets past the signature, which is the point: nothing before
//      the signature may break on any bytes);
//   1: envelope body bytes, which the target signs with the sender's key
//      and wraps, so the checks after the signature (body fields, keys,
//      recipient, decryption) see any body too;
//   2: a sequence of authentic messages from three fixed senders, with the
//      timestamps, ttls and clock steps the input chooses (see
//      run_sequence), into one inbox with a small replay guard: what a sender
//      holding its key can do to the guard (extreme stamps, floods, replays,
//      a clock that steps back), which fuzzed bodies cannot reach because a
//      changed stamp no longer decrypts.
// Every answer is an accepted message or a refusal with a message, the inbox
// counts each exactly once, and no envelope is ever accepted twice. Keys and
// the clock are fixed; sealing draws message ids and ephemeral keys at
// random, but no answer depends on them, so a run is deterministic.
//
// `inbox_fuzz_corpus --seeds <dir>` writes seeds: sealed messages between the
// fixed identities, both as envelopes and as bodies.

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "fuzz_main.hpp"
#include "p2pd/proto/secure_envelope.hpp"

using namespace p2pd;
using namespace p2pd::wire;

namespace {

constexpr int64_t now_ms = 1'800'000'000'000;

void check(bool ok, const char* what) {
  if (!ok)
    fuzz::broken("inbox_fuzz", what);
}

net::identity fixed_identity(uint8_t seed) {
  std::array<uint8_t, 32> sign{}, agree{};
  for (size_t i = 0; i < 32; ++i) {
    sign[i] = static_cast<uint8_t>(seed + i);
    agree[i] = static_cast<uint8_t>(seed * 3 + i);
  }
  auto id = net::identity::from_private_keys(sign, agree);
  if (!id)
    fuzz::broken("inbox_fuzz", "the fixed keys do not load");
  return std::move(*id);
}

const net::identity& sender() {
  static const auto id = fixed_identity(1);
  return id;
}

const net::identity& recipient() {
  static const auto id = fixed_identity(101);
  return id;
}

// The senders of the sequence mode: the sender and two more.
const net::identity& sequence_sender(size_t i) {
  static const auto second = fixed_identity(151);
  static const auto third = fixed_identity(201);
  return i == 0 ? sender() : i == 1 ? second : third;
}

// Opens `env` and checks the answer; returns whether it was accepted.
bool open_one(inbox& box, const bytes& env, int64_t now, const net::node_id& from) {
  auto before = box.counters();
  auto r = box.open(net::byte_view{env.data(), env.size()}, now);
  auto& c = box.counters();
  if (r) {
    check(c.accepted == before.accepted + 1 && c.refused() == before.refused(),
          "an accepted message not counted once");
    check(r->sender == from, "accepted from another sender than the one that signed");
  } else {
    check(!r.error().what.empty(), "a refusal without a message");
    check(c.accepted == before.accepted && c.refused() == before.refused() + 1,
          "a refusal not counted once");
  }
  return r.has_value();
}

// A record of the sequence mode, 16 bytes:
//   0     bits 0-1: sender (0..2, 3 = sender 0); bit 2: resend an earlier
//         envelope (byte 1 picks which) instead of sealing a new one;
//         bit 3: mark the sender known first; bit 4: bytes 4-11 are the
//         timestamp itself, else their low 4 bytes are an offset from the
//         clock (int32: the realistic case)
//   1     which earlier envelope to resend
//   2-3   clock step, int16, in units of 64 ms (may step back)
//   4-11  timestamp (int64) or offset
//   12-15 ttl (uint32)
constexpr size_t record_size = 16;
constexpr size_t max_records = 12; // each costs a seal and an open

template <class T>
T load(const uint8_t* p) {
  T x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

void run_sequence(const uint8_t* data, size_t size) {
  net::replay_config cfg;
  cfg.per_sender = 2;
  cfg.max_senders = 2;
  cfg.not_before_ms = now_ms - 120'000;
  inbox box{recipient(), cfg};
  struct sent {
    bytes env;
    const net::identity* from;
    bool accepted;
  };
  std::vector<sent> log;
  int64_t now = now_ms;
  for (size_t n = 0; n < max_records && size >= record_size;
       ++n, data += record_size, size -= record_size) {
    auto op = data[0];
    now += int64_t{load<int16_t>(data + 2)} * 64;
    if ((op & 4) != 0 && !log.empty()) {
      auto& old = log[data[1] % log.size()];
      if (open_one(box, old.env, now, old.from->id())) {
        check(!old.accepted, "an envelope accepted twice");
        old.accepted = true;
      }
      continue;
    }
    auto& from = sequence_sender((op & 3) % 3);
    if ((op & 8) != 0)
      box.mark_known(from.id());
    auto ts = (op & 16) != 0 ? load<int64_t>(data + 4) : now + load<int32_t>(data + 4);
    auto ttl = load<uint32_t>(data + 12);
    auto sealed = seal_envelope(from, recipient().pub(), PAYLOAD_TYPE_ADDRESS_REQUEST,
                                encode_payload(address_request{}), ts, ttl);
    check(sealed.has_value(), "a valid message does not seal");
    bool ok = open_one(box, sealed->envelope, now, from.id());
    if (ok) {
      // The guard's rules, from the outside: never from further ahead than
      // the skew, never past its (capped) ttl, never stamped before the start.
      check(ts >= cfg.not_before_ms, "accepted although stamped before the start");
      check(ts <= now + cfg.max_skew_ms, "accepted from the future");
      check(now - ts <= int64_t{std::min(ttl, cfg.max_ttl_ms)}, "accepted past its ttl");
    }
    log.push_back({std::move(sealed->envelope), &from, ok});
    check(box.replay().size() <= cfg.per_sender * cfg.max_senders, "the replay guard outgrew its bounds");
    check(box.replay().senders() <= cfg.max_senders, "the replay guard holds too many senders");
  }
}

// One record of the sequence mode (see run_sequence).
void put_record(std::vector<uint8_t>& out, uint8_t op, uint8_t resend, int16_t step, int64_t ts,
                uint32_t ttl) {
  uint8_t r[record_size];
  r[0] = op;
  r[1] = resend;
  std::memcpy(r + 2, &step, 2);
  if ((op & 16) != 0) {
    std::memcpy(r + 4, &ts, 8);
  } else {
    auto offset = static_cast<int32_t>(ts);
    std::memcpy(r + 4, &offset, 4);
    std::memset(r + 8, 0, 4);
  }
  std::memcpy(r + 12, &ttl, 4);
  out.insert(out.end(), r, r + record_size);
}

void write_sequence_seeds(const std::string& dir) {
  constexpr uint8_t resend = 4, known = 8, raw = 16;
  // A genuine exchange: two messages, then a replay of the first.
  std::vector<uint8_t> s{2};
  put_record(s, 0, 0, 0, 0, 30000);
  put_record(s, 0, 0, 16, -100, 30000);
  put_record(s, resend, 0, 16, 0, 0);
  fuzz::write_seed(dir, "sequence_replay.bin", s);
  // The blackout attack: a stranger floods stamps at the edge of the skew
  // with the largest ttl while a known peer keeps sending.
  s = {2};
  put_record(s, known, 0, 0, 0, 60000);
  for (int i = 0; i < 6; ++i)
    put_record(s, 1, 0, 1, 29999, 4'000'000'000u);
  put_record(s, 0, 0, 1, 0, 60000);
  put_record(s, 2, 0, 1, 0, 60000);
  put_record(s, resend, 1, 1, 0, 0);
  fuzz::write_seed(dir, "sequence_flood.bin", s);
  // A clock that steps back past what was forgotten, then replays.
  s = {2};
  put_record(s, 0, 0, 0, 0, 1000);
  put_record(s, 0, 0, 0x7fff, 0, 1000);
  put_record(s, 0, 0, -0x8000, 0, 1000);
  put_record(s, resend, 0, 0, 0, 0);
  fuzz::write_seed(dir, "sequence_clock_back.bin", s);
  // Stamps at the ends of int64 and the largest ttl: saturating arithmetic.
  s = {2};
  put_record(s, raw, 0, 0, std::numeric_limits<int64_t>::max(), 0xffffffffu);
  put_record(s, raw, 0, 0, std::numeric_limits<int64_t>::min(), 0xffffffffu);
  put_record(s, raw | 1, 0, 0, now_ms - 120'001, 0xffffffffu);
  put_record(s, raw | 2, 0, 0, now_ms - 60'000, 60'000);
  fuzz::write_seed(dir, "sequence_extremes.bin", s);
}

void write_seeds(const std::string& dir) {
  auto plain = encode_payload(address_request{});
  for (uint32_t ttl : {1000u, 30000u}) {
    auto sealed = seal_envelope(sender(), recipient().pub(), PAYLOAD_TYPE_ADDRESS_REQUEST, plain,
                                now_ms, ttl);
    if (!sealed)
      fuzz::broken("inbox_fuzz", "cannot seal a seed");
    auto env = sealed->envelope;
    auto name = "sealed_ttl" + std::to_string(ttl);
    std::vector<uint8_t> as_envelope{0};
    as_envelope.insert(as_envelope.end(), env.begin(), env.end());
    fuzz::write_seed(dir, name + "_envelope.bin", as_envelope);
    auto dec = decode_envelope(env);
    if (!dec)
      fuzz::broken("inbox_fuzz", "a seed does not decode");
    std::vector<uint8_t> as_body{1};
    as_body.insert(as_body.end(), dec->body_bytes.begin(), dec->body_bytes.end());
    fuzz::write_seed(dir, name + "_body.bin", as_body);
  }
  fuzz::write_seed(dir, "empty_envelope.bin", {0});
  fuzz::write_seed(dir, "empty_body.bin", {1});
  write_sequence_seeds(dir);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  if (data[0] % 3 == 2) {
    run_sequence(data + 1, size - 1);
    return 0;
  }
  bytes rest(data + 1, data + size);
  bytes env;
  if (data[0] % 3 == 0) {
    env = std::move(rest);
  } else {
    auto sig = sign_body(sender(), rest);
    auto wrapped = encode_envelope(rest, sig);
    if (!wrapped) { // bytes that are no body: the sender's own encoder refuses them
      check(!wrapped.error().what.empty(), "an encoder error without a message");
      return 0;
    }
    env = std::move(*wrapped);
  }
  inbox box{recipient()};
  // The same envelope again: never accepted twice.
  if (open_one(box, env, now_ms, sender().id()))
    check(!open_one(box, env, now_ms, sender().id()), "a message accepted twice");
  return 0;
}

P2PD_FUZZ_MAIN_WITH_SEEDS("inbox_fuzz", write_seeds)
