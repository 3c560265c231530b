// What a node does with bytes that are not an authentic message for it:
// each is published raw to the node's topic through a bare hub channel,
// refused, counted under its own counter, never delivered, and the node goes
// on working (a genuine message sent afterwards arrives).
//
// Order makes the checks exact without waiting for counters: the bare
// channel's publish is answered once the hub has passed the bytes on, and
// the genuine message takes the same hub -> channel -> node path afterwards,
// so the node has judged the bad bytes when the genuine message arrives.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "actors/signal/node/signal_node_test_util.hpp"
#include "support/temp_dir.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/api/runtime.hpp"
#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/proto/secure_envelope.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

using counter = uint64_t signal_node_stats::*;

std::shared_ptr<const net::identity> make_identity() {
  auto id = net::identity::generate();
  if (!id)
    return nullptr;
  return std::make_shared<const net::identity>(std::move(*id));
}

class SignalNodeBadInput : public ::testing::Test {
protected:
  void SetUp() override {
    alice_id = make_identity();
    mallory = make_identity();
    ASSERT_TRUE(alice_id && mallory);
    signal_node_spec vs;
    vs.data_dir = dir.path() + "/victim";
    vs.hub = hub;
    vs.max_message_size = 4096;
    auto offset = clock_offset;
    vs.clock = [offset] { return system_clock_ms() + offset->load(); };
    auto v = start_signal_node(rt.system(), vs);
    ASSERT_OK(v);
    victim = *v;
    signal_node_spec as;
    as.identity = alice_id;
    as.hub = hub;
    auto a = start_signal_node(rt.system(), as);
    ASSERT_OK(a);
    alice = *a;
    ASSERT_FALSE(calls.subscribe(victim));
    victim_info = calls.info(victim);
  }

  void TearDown() override {
    calls.close(victim);
    calls.close(alice);
    anon_send(bare, caf::close_atom::value);
  }

  /// Publishes raw bytes to the victim's topic; returns once the hub took them.
  void inject(const wire::bytes& data) {
    calls.self()
      ->request(bare, 5s, caf::publish_atom::value, victim_info.topic,
                bytes(data.begin(), data.end()))
      .receive([](caf::ok_atom) {}, [](caf::error& err) { FAIL() << render(err); });
  }

  /// An envelope from alice (sealed here with her keys), to `to`.
  wire::bytes sealed(const net::public_keys& to, int64_t now_ms, uint32_t ttl_ms = 60'000) {
    return sealed_by(*alice_id, to, now_ms, ttl_ms);
  }

  /// An envelope from `from`, to `to`.
  static wire::bytes sealed_by(const net::identity& from, const net::public_keys& to,
                               int64_t now_ms, uint32_t ttl_ms) {
    std::string text = "sealed by the test";
    auto s = wire::seal_envelope(from, to, wire::PAYLOAD_TYPE_CONNECT_REQUEST,
                                 net::byte_view{text}, now_ms, ttl_ms);
    EXPECT_TRUE(s) << s.error().what;
    return s ? s->envelope : wire::bytes{};
  }

  /// Alice's node sends `n` messages; all arrive, in order. What the victim
  /// accepted from others before (a flooder's messages are authentic too)
  /// is skipped.
  void expect_alice_gets_through(size_t n) {
    auto alice_node = alice_id->id().to_string();
    for (size_t i = 0; i < n; ++i) {
      auto text = "genuine " + std::to_string(i);
      auto id = calls.send(alice, victim_info.keys, text);
      ASSERT_OK(id);
      std::optional<signal_message> m;
      for (int skipped = 0; skipped < 5000; ++skipped) {
        m = calls.next();
        if (!m || m->sender == alice_node)
          break;
      }
      ASSERT_TRUE(m) << "message " << i << " of alice did not arrive";
      EXPECT_EQ(to_string(m->plaintext), text);
    }
  }

  wire::bytes sealed_for_victim() { return sealed(victim_info.keys, system_clock_ms()); }

  /// A genuine message from alice's node arrives next, nothing before it,
  /// and the stats show exactly one refusal, under `which`.
  void expect_refused_as(counter which, uint64_t delivered_before = 0) {
    auto id = calls.send(alice, victim_info.keys, "genuine");
    ASSERT_OK(id);
    auto m = calls.next();
    ASSERT_TRUE(m);
    EXPECT_EQ(to_string(m->plaintext), "genuine");
    EXPECT_EQ(m->id, *id);
    auto st = calls.stats(victim);
    EXPECT_EQ(st.*which, 1u);
    EXPECT_EQ(st.refused(), 1u);
    EXPECT_EQ(st.duplicates, 0u);
    EXPECT_EQ(st.delivered, delivered_before + 1);
  }

  runtime rt;
  temp_dir dir;
  node_calls calls{rt.system()};
  signal_hub_actor hub = spawn_signal_hub(rt.system());
  signal_channel_actor bare = hub_channel(rt.system(), hub, "bare");
  std::shared_ptr<std::atomic<int64_t>> clock_offset = std::make_shared<std::atomic<int64_t>>(0);
  std::shared_ptr<const net::identity> alice_id;
  std::shared_ptr<const net::identity> mallory;
  signal_node_actor victim;
  signal_node_actor alice;
  signal_node_info victim_info;
};

} // namespace

TEST_F(SignalNodeBadInput, ForgedSignatureIsRefusedAsBadSignature) {
  auto env = wire::decode_envelope(sealed_for_victim());
  ASSERT_TRUE(env) << env.error().what;
  env->signature[10] ^= 0x01;
  auto forged = wire::encode_envelope(env->body_bytes, env->signature);
  ASSERT_TRUE(forged);
  inject(*forged);
  expect_refused_as(&signal_node_stats::bad_signature);
}

// Mallory claims alice's id but signs with her own key: the keys do not
// hash to the id.
TEST_F(SignalNodeBadInput, SenderKeyThatDoesNotMatchTheIdIsRefused) {
  auto env = wire::decode_envelope(sealed_for_victim());
  ASSERT_TRUE(env);
  auto body = wire::decode_body(env->body_bytes);
  ASSERT_TRUE(body);
  body->sender_sign_key = mallory->pub().sign;
  auto body_bytes = wire::encode_body(*body);
  ASSERT_TRUE(body_bytes);
  auto forged = wire::encode_envelope(*body_bytes, wire::sign_body(*mallory, *body_bytes));
  ASSERT_TRUE(forged);
  inject(*forged);
  expect_refused_as(&signal_node_stats::wrong_sender_key);
}

// A body the sender really signed, whose ciphertext does not open.
TEST_F(SignalNodeBadInput, DamagedCiphertextIsRefusedAsUndecryptable) {
  auto env = wire::decode_envelope(sealed_for_victim());
  ASSERT_TRUE(env);
  auto body = wire::decode_body(env->body_bytes);
  ASSERT_TRUE(body);
  body->ciphertext[0] ^= 0x01;
  auto body_bytes = wire::encode_body(*body);
  ASSERT_TRUE(body_bytes);
  auto damaged = wire::encode_envelope(*body_bytes, wire::sign_body(*alice_id, *body_bytes));
  ASSERT_TRUE(damaged);
  inject(*damaged);
  expect_refused_as(&signal_node_stats::undecryptable);
}

// A copy of a delivered message long after its delivery (the node's clock
// moved past the duplicate window, still within the ttl) is a replay.
TEST_F(SignalNodeBadInput, CapturedEnvelopeReplayedLaterIsRefusedAsReplayed) {
  caf::scoped_actor tap_in{rt.system()};
  auto tap = hub_channel(rt.system(), hub, "tap");
  tap_in->request(tap, 5s, caf::subscribe_atom::value, std::string{"p2pd/v1/+"},
                  caf::actor_cast<caf::actor>(tap_in.ptr()))
    .receive([](caf::ok_atom) {}, [](caf::error& err) { FAIL() << render(err); });
  auto id = calls.send(alice, victim_info.keys, "first");
  ASSERT_TRUE(id);
  auto m = calls.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->plaintext), "first");
  bytes captured;
  tap_in->receive([&](signal_in& in) { captured = std::move(in.data); },
                  caf::after(5s) >> [] {});
  ASSERT_FALSE(captured.empty());
  anon_send(tap, caf::close_atom::value);

  *clock_offset = 16'000; // past the duplicate window (15 s), within the ttl (60 s)
  inject(wire::bytes(captured.begin(), captured.end()));
  expect_refused_as(&signal_node_stats::replayed, 1);
}

// The same copy right after the delivery is what a second broker brings:
// dropped as a duplicate, not counted as an attack.
TEST_F(SignalNodeBadInput, CopyRightAfterDeliveryCountsAsDuplicate) {
  auto env = sealed_for_victim();
  inject(env);
  auto m = calls.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->plaintext), "sealed by the test");
  inject(env);
  auto id = calls.send(alice, victim_info.keys, "genuine");
  ASSERT_TRUE(id);
  auto next = calls.next();
  ASSERT_TRUE(next);
  EXPECT_EQ(to_string(next->plaintext), "genuine");
  auto st = calls.stats(victim);
  EXPECT_EQ(st.duplicates, 1u);
  EXPECT_EQ(st.replayed, 0u);
  EXPECT_EQ(st.refused(), 0u);
  EXPECT_EQ(st.delivered, 2u);
}

TEST_F(SignalNodeBadInput, ExpiredTtlIsRefusedAsExpired) {
  inject(sealed(victim_info.keys, system_clock_ms() - 120'000, 60'000));
  expect_refused_as(&signal_node_stats::expired);
}

TEST_F(SignalNodeBadInput, StampFarInTheFutureIsRefused) {
  inject(sealed(victim_info.keys, system_clock_ms() + 600'000));
  expect_refused_as(&signal_node_stats::from_future);
}

TEST_F(SignalNodeBadInput, TruncatedEnvelopeIsRefusedAsMalformed) {
  auto env = sealed_for_victim();
  env.resize(env.size() / 2);
  inject(env);
  expect_refused_as(&signal_node_stats::malformed);
}

TEST_F(SignalNodeBadInput, GarbageIsRefusedAsMalformed) {
  std::string text = "this is not an envelope, only text pretending";
  inject(wire::bytes(text.begin(), text.end()));
  expect_refused_as(&signal_node_stats::malformed);
}

TEST_F(SignalNodeBadInput, OversizedMessageIsRefusedAsTooLarge) {
  inject(wire::bytes(8000, 0x42)); // the victim looks at 4096 bytes at most
  expect_refused_as(&signal_node_stats::too_large);
}

TEST_F(SignalNodeBadInput, MessageSealedForAnotherNodeIsRefusedAsNotForUs) {
  inject(sealed(mallory->pub(), system_clock_ms()));
  expect_refused_as(&signal_node_stats::not_for_us);
}

TEST_F(SignalNodeBadInput, EnvelopeNeedingANewerReaderIsRefused) {
  auto env = wire::decode_envelope(sealed_for_victim());
  ASSERT_TRUE(env);
  auto newer = wire::encode_envelope(env->body_bytes, env->signature, 3, 3);
  ASSERT_TRUE(newer);
  inject(*newer);
  expect_refused_as(&signal_node_stats::unsupported_version);
}

// The black-out of issue 9: one identity floods the victim with envelopes
// stamped at the edge of the allowed skew with the largest ttl. Its own
// messages are refused and counted once its cache is full; alice's messages,
// with a much shorter life, keep arriving.
TEST_F(SignalNodeBadInput, FloodFromOneIdentityDoesNotStopAGenuinePeer) {
  // Past mallory's own cache (replay_config::per_sender, 4096 by default).
  constexpr int flood = 5000;
  auto edge = system_clock_ms() + 29'000;
  for (int i = 0; i < flood; ++i)
    inject(sealed_by(*mallory, victim_info.keys, edge, UINT32_MAX));
  expect_alice_gets_through(5);
  auto st = calls.stats(victim);
  EXPECT_GT(st.replay_evicted, 0u);
  EXPECT_GT(st.too_old, 0u) << "mallory's messages past its own cache are refused";
  EXPECT_EQ(st.too_old + st.unclaimed + st.delivered, flood + 5u) << "each one judged once";
}

// Many minted identities, one message each: more senders than the replay
// guard holds. The victim wrote to alice, so she is a known peer and is not
// forgotten for the strangers.
TEST_F(SignalNodeBadInput, FloodOfMintedIdentitiesDoesNotPushOutAKnownPeer) {
  auto alice_keys = alice_id->pub();
  ASSERT_TRUE(calls.send(victim, alice_keys, "hello alice"));
  expect_alice_gets_through(1);
  auto edge = system_clock_ms() + 29'000;
  for (int i = 0; i < 1100; ++i) {
    auto minted = net::identity::generate();
    ASSERT_TRUE(minted);
    inject(sealed_by(*minted, victim_info.keys, edge, UINT32_MAX));
  }
  expect_alice_gets_through(3);
  auto st = calls.stats(victim);
  EXPECT_GT(st.replay_senders_evicted, 0u);
}

// The replay guard lives in memory: after a restart, what was stamped before
// the start is refused, so an envelope captured before it cannot be replayed.
TEST_F(SignalNodeBadInput, EnvelopeCapturedBeforeARestartIsRefusedAfterIt) {
  auto stamp = system_clock_ms();
  auto captured = sealed(victim_info.keys, stamp);
  inject(captured);
  auto m = calls.next();
  ASSERT_TRUE(m);
  ASSERT_FALSE(calls.close(victim));
  // The restart comes later than the stamp (by milliseconds, well within the ttl).
  for (int i = 0; i < 100 && system_clock_ms() <= stamp; ++i)
    std::this_thread::sleep_for(1ms);
  signal_node_spec vs;
  vs.data_dir = dir.path() + "/victim";
  vs.hub = hub;
  vs.max_message_size = 4096;
  auto offset = clock_offset;
  vs.clock = [offset] { return system_clock_ms() + offset->load(); };
  auto v = start_signal_node(rt.system(), vs);
  ASSERT_OK(v);
  victim = *v;
  ASSERT_FALSE(calls.subscribe(victim));
  ASSERT_EQ(calls.info(victim).id, victim_info.id) << "the same identity, from the data dir";
  inject(captured);
  expect_refused_as(&signal_node_stats::too_old);
}
