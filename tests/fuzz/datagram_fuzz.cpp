// Fuzz target for the sealed frames of a punched UDP session
// (net/punch/datagram_seal.hpp). The input is a sequence of datagrams, each
// behind its length (a big-endian u16; what is left over is the last one),
// opened in order by one receiver whose peer's keys are fixed, so the seeds
// can hold authentic frames that the fuzzer reorders, repeats and damages.
// Checked: each open counts exactly one outcome; a refusal is malformed,
// foreign, replayed or forged and says why; what opens has a known kind,
// its payload's size, and a counter never opened before, and opening it
// again is a replay; a forged frame never moves the window. Any bytes sealed
// as a payload open again as themselves.
//
// Built like stun_fuzz (see there): with libFuzzer by run_fuzz.sh, and as
// datagram_fuzz_corpus, which replays corpus/datagram; `--seeds <dir>`
// writes the seeds.

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "fuzz_main.hpp"
#include "p2pd/net/punch/datagram_seal.hpp"

using namespace p2pd::net;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("datagram_fuzz", what);
}

// The peer's keys and ours: one session, two directions.
session_keys peer_keys() {
  session_keys k;
  for (size_t i = 0; i < 32; ++i) {
    k.send[i] = static_cast<uint8_t>(0x40 + i);
    k.recv[i] = static_cast<uint8_t>(0x80 + i);
  }
  k.tag = 0x5eed0001;
  return k;
}

session_keys our_keys() {
  auto p = peer_keys();
  session_keys k;
  k.send = p.recv;
  k.recv = p.send;
  k.tag = p.tag;
  return k;
}

uint64_t total(const seal_counters& c) {
  return c.opened + c.malformed + c.foreign + c.replayed + c.forged;
}

std::vector<std::vector<uint8_t>> split(const uint8_t* data, size_t size) {
  std::vector<std::vector<uint8_t>> out;
  size_t i = 0;
  while (i < size) {
    if (size - i < 2) {
      out.emplace_back(data + i, data + size);
      break;
    }
    size_t len = (size_t{data[i]} << 8) | data[i + 1];
    i += 2;
    len = std::min(len, size - i);
    out.emplace_back(data + i, data + i + len);
    i += len;
  }
  return out;
}

void one_input(const uint8_t* data, size_t size) {
  auto me = datagram_seal::make(our_keys());
  check(me.has_value(), "no seal");
  std::set<uint64_t> opened;
  for (const auto& d : split(data, size)) {
    auto before = total(me->counters());
    auto top = me->window().highest();
    auto any = me->window().any();
    auto f = me->open(d);
    check(total(me->counters()) == before + 1, "an open not counted exactly once");
    if (!f) {
      auto code = f.error().code;
      check(code == errc::malformed || code == errc::not_for_us || code == errc::replayed
              || code == errc::forged,
            "a refusal with another code");
      check(!f.error().what.empty(), "a refusal without a reason");
      check(me->window().highest() == top && me->window().any() == any,
            "a refused frame moved the window");
      continue;
    }
    check(d.size() >= frame_overhead && f->payload.size() == d.size() - frame_overhead,
          "a payload of the wrong size");
    check(static_cast<uint8_t>(f->kind) >= 1 && static_cast<uint8_t>(f->kind) <= 7,
          "an unknown kind opened");
    check(opened.insert(f->counter).second, "a counter opened twice");
    check(me->window().highest() >= f->counter, "the window is behind an opened counter");
    auto again = me->open(d);
    check(!again && again.error().code == errc::replayed, "the same frame opened twice");
  }
  // Whatever the bytes, sealed as a payload they come back.
  auto peer = datagram_seal::make(peer_keys());
  auto fresh = datagram_seal::make(our_keys());
  size_t n = std::min(size, max_frame_payload);
  auto sealed = peer->seal(frame_kind::data, byte_view{data, n});
  check(sealed.has_value(), "a payload that fits was not sealed");
  auto back = fresh->open(*sealed);
  check(back.has_value() && back->payload == std::vector<uint8_t>(data, data + n),
        "a sealed payload did not come back");
}

void add_record(std::vector<uint8_t>& out, const std::vector<uint8_t>& d) {
  out.push_back(static_cast<uint8_t>(d.size() >> 8));
  out.push_back(static_cast<uint8_t>(d.size()));
  out.insert(out.end(), d.begin(), d.end());
}

std::vector<uint8_t> frame_of(uint64_t counter, frame_kind kind, const std::string& text,
                              uint32_t tag = peer_keys().tag) {
  auto k = peer_keys();
  k.tag = tag;
  auto s = datagram_seal::make(k, counter);
  auto x = s->seal(kind, byte_view{text});
  return x ? *x : std::vector<uint8_t>{};
}

void write_seeds(const std::string& dir) {
  using p2pd::fuzz::write_seed;
  auto probe = frame_of(0, frame_kind::probe, "");
  auto data = frame_of(1, frame_kind::data, "hello over the punched path");
  auto late = frame_of(900, frame_kind::keepalive, "");
  auto old = frame_of(2, frame_kind::data, "old but unseen");
  write_seed(dir, "one_probe.bin", probe);
  std::vector<uint8_t> seq;
  for (const auto& d : {probe, data, data, late, old, probe})
    add_record(seq, d);
  write_seed(dir, "sequence_with_replays.bin", seq);
  std::vector<uint8_t> window;
  add_record(window, frame_of(5000, frame_kind::data, "top"));
  add_record(window, frame_of(5000 - replay_window_size + 1, frame_kind::data, "oldest kept"));
  add_record(window, frame_of(5000 - replay_window_size, frame_kind::data, "behind"));
  write_seed(dir, "window_edges.bin", window);
  std::vector<uint8_t> bad;
  auto forged = data;
  forged[20] ^= 1;
  auto v2 = data;
  v2[0] = 2;
  add_record(bad, forged);
  add_record(bad, v2);
  add_record(bad, frame_of(3, frame_kind::close, "", 0x1234));
  add_record(bad, {data.begin(), data.begin() + 29});
  add_record(bad, data);
  write_seed(dir, "refusals.bin", bad);
  for (uint8_t k = 1; k <= 7; ++k)
    write_seed(dir, "kind_" + std::to_string(k) + ".bin",
               frame_of(10 + k, static_cast<frame_kind>(k), "kind " + std::to_string(k)));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  one_input(data, size);
  return 0;
}

P2PD_FUZZ_MAIN_WITH_SEEDS("datagram_fuzz", write_seeds)
