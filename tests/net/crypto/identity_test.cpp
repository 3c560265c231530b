#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/crypto/key_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/files.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::from_hex;
using p2pd::test::make_identity;
using p2pd::test::mode_of;
using p2pd::test::temp_dir;

constexpr auto env = sign_purpose::envelope;

namespace {

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void write_all(const std::string& path, const std::vector<uint8_t>& bytes, mode_t mode = 0600) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

} // namespace

// -- node ids ----------------------------------------------------------------

TEST(NodeId, TextIs32LowerCaseBase32Characters) {
  node_id id;
  for (size_t i = 0; i < id.bytes.size(); ++i)
    id.bytes[i] = static_cast<uint8_t>(i);
  // Python: base64.b32encode(bytes(range(20))).lower()
  EXPECT_EQ(id.to_string(), "aaaqeayeaudaocajbifqydiob4ibceqt");
}

TEST(NodeId, AllZeroAndAllOneBytesUseTheAlphabetsEnds) {
  node_id zero;
  node_id ones;
  ones.bytes.fill(0xff);
  EXPECT_EQ(zero.to_string(), std::string(32, 'a'));
  EXPECT_EQ(ones.to_string(), std::string(32, '7'));
}

TEST(NodeId, TextRoundTrips) {
  for (int i = 0; i < 50; ++i) {
    node_id id = make_identity().id();
    auto text = id.to_string();
    ASSERT_EQ(text.size(), 32u);
    auto back = node_id::parse(text);
    ASSERT_OK(back);
    EXPECT_EQ(*back, id) << text;
  }
}

TEST(NodeId, ParseRefusesTextOfTheWrongLength) {
  for (std::string text : {std::string{}, std::string(31, 'a'), std::string(33, 'a'),
                           std::string(56, 'a')}) {
    auto id = node_id::parse(text);
    ASSERT_FALSE(id) << text;
    EXPECT_ERRC(id, errc::invalid_argument);
    EXPECT_NE(id.error().what.find("has " + std::to_string(text.size())
                                   + " characters; it must have 32"),
              std::string::npos)
      << id.error().what;
  }
}

TEST(NodeId, ParseRefusesCharactersOutsideLowerCaseBase32) {
  std::string good = std::string(32, 'a');
  for (char bad : {'A', 'Z', '0', '1', '8', '9', '=', '-', ' ', '\0', '\xff'}) {
    std::string text = good;
    text[5] = bad;
    auto id = node_id::parse(text);
    ASSERT_FALSE(id) << static_cast<int>(bad);
    EXPECT_ERRC(id, errc::invalid_argument);
    EXPECT_NE(id.error().what.find("at position 5"), std::string::npos) << id.error().what;
    EXPECT_NE(id.error().what.find("lower-case base32"), std::string::npos) << id.error().what;
  }
}

TEST(NodeId, ParseRefusesPaddedText) {
  // The base32 of 20 bytes needs no padding; "=" would be a second spelling.
  auto id = node_id::parse("aaaqeayeaudaocajbifqydiob4ibceq=");
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().what.find("'=' at position 31"), std::string::npos) << id.error().what;
}

TEST(NodeId, IsTheSha256OfTheLabelAndBothPublicKeys) {
  public_keys keys;
  keys.sign.fill(0x01);
  keys.agree.fill(0x02);
  // Python: sha256(b"p2pd node id v1" + b"\1" * 32 + b"\2" * 32).digest()[:20]
  EXPECT_EQ(node_id::of(keys).bytes, (from_hex<20>("2a54d49c17cbc2fbc6f2d91f705d7ad6066164b4")));
  EXPECT_EQ(node_id::of(keys).to_string(), "fjknjhaxzpbpxrxs3epxaxl22ydgczfu");
}

TEST(NodeId, ChangesWhenEitherPublicKeyChanges) {
  public_keys keys;
  auto base = node_id::of(keys);
  auto other_sign = keys;
  other_sign.sign[31] ^= 1;
  auto other_agree = keys;
  other_agree.agree[0] ^= 1;
  EXPECT_NE(node_id::of(other_sign), base);
  EXPECT_NE(node_id::of(other_agree), base);
  EXPECT_NE(node_id::of(other_sign), node_id::of(other_agree));
}

TEST(NodeId, WorksAsAnOrderedAndAHashedKey) {
  node_id a;
  node_id b;
  b.bytes[19] = 1;
  node_id c;
  c.bytes[0] = 1;
  EXPECT_TRUE(a < b);
  EXPECT_TRUE(b < c);
  EXPECT_FALSE(b < a);
  EXPECT_FALSE(a < a);
  EXPECT_EQ(std::hash<node_id>{}(b), std::hash<node_id>{}(b));
  std::unordered_set<node_id> hashed{a, b, c, a};
  std::set<node_id> ordered{c, b, a, c};
  EXPECT_EQ(hashed.size(), 3u);
  EXPECT_EQ(ordered.size(), 3u);
  EXPECT_EQ(*ordered.begin(), a);
  EXPECT_EQ(hashed.count(c), 1u);
}

// -- keys, signatures, agreement ---------------------------------------------

TEST(Identity, GeneratedIdentitiesDiffer) {
  auto a = make_identity();
  auto b = make_identity();
  EXPECT_NE(a.id(), b.id());
  EXPECT_NE(a.pub().sign, b.pub().sign);
  EXPECT_NE(a.pub().agree, b.pub().agree);
  EXPECT_EQ(a.id(), node_id::of(a.pub()));
}

TEST(Identity, SignatureVerifiesWithItsKey) {
  auto me = make_identity();
  std::string msg = "hello, peers";
  auto sig = me.sign(env, msg);
  EXPECT_TRUE(verify(env, me.pub(), msg, sig));
  EXPECT_TRUE(verify(env, me.pub().sign, msg, sig));
  auto empty_sig = me.sign(env, byte_view{});
  EXPECT_TRUE(verify(env, me.pub(), byte_view{}, empty_sig));
}

TEST(Identity, VerifyFailsOnAFlippedMessageBit) {
  auto me = make_identity();
  std::vector<uint8_t> msg(40, 0x5a);
  auto sig = me.sign(env, msg);
  for (size_t bit = 0; bit < msg.size() * 8; ++bit) {
    auto changed = msg;
    changed[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(verify(env, me.pub(), changed, sig)) << "bit " << bit;
  }
}

TEST(Identity, VerifyFailsOnAFlippedSignatureBit) {
  auto me = make_identity();
  std::string msg = "signed";
  auto sig = me.sign(env, msg);
  for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
    auto changed = sig;
    changed[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(verify(env, me.pub(), msg, changed)) << "bit " << bit;
  }
}

TEST(Identity, VerifyFailsWithAnotherKey) {
  auto me = make_identity();
  auto other = make_identity();
  std::string msg = "from me";
  EXPECT_FALSE(verify(env, other.pub(), msg, me.sign(env, msg)));
  std::array<uint8_t, 32> not_a_point{};
  not_a_point.fill(0xff);
  EXPECT_FALSE(verify(env, not_a_point, msg, me.sign(env, msg)));
}

TEST(Identity, KeysAndVerifyMatchRfc8032TestVectors) {
  std::array<uint8_t, 32> agree{}; // any: only the Ed25519 half is checked
  agree[0] = 1;
  auto one = identity::from_private_keys(
    from_hex<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"), agree);
  ASSERT_OK(one);
  EXPECT_EQ(one->pub().sign,
            from_hex<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  EXPECT_TRUE(verify(one->pub().sign, byte_view{},
                     from_hex<64>("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                                  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")));
  auto two = identity::from_private_keys(
    from_hex<32>("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"), agree);
  ASSERT_OK(two);
  std::array<uint8_t, 1> msg{0x72};
  auto sig = from_hex<64>("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                          "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  EXPECT_TRUE(verify(
    from_hex<32>("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"), msg, sig));
  EXPECT_FALSE(verify(env, two->pub(), msg, sig)) << "a raw signature passed for a purpose";
}

TEST(Identity, APurposeSignatureIsPlainEd25519OverItsContextAndTheMessage) {
  auto me = make_identity();
  std::string msg = "in context";
  std::string ctx = context_of(env);
  EXPECT_EQ(ctx, "p2pd/envelope/v2");
  std::string full = ctx + std::string(1, '\0') + msg;
  auto sig = me.sign(env, msg);
  EXPECT_TRUE(verify(me.pub().sign, full, sig));
  EXPECT_FALSE(verify(me.pub().sign, msg, sig)) << "the context was not signed";
}

TEST(Identity, ASignatureOverTheContextBytesIsNotOneOverTheMessage) {
  // Whoever can get "p2pd/envelope/v2\0" + m signed as a message cannot pass
  // it off for m: the prefix sits once, in front.
  auto me = make_identity();
  std::string msg = "m";
  auto sig = me.sign(env, std::string(context_of(env)) + std::string(1, '\0') + msg);
  EXPECT_FALSE(verify(env, me.pub(), msg, sig));
}

TEST(Identity, AgreementMatchesRfc7748TestVector) {
  std::array<uint8_t, 32> sign{};
  auto alice = identity::from_private_keys(
    sign, from_hex<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  ASSERT_OK(alice);
  EXPECT_EQ(alice->pub().agree,
            from_hex<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
  auto shared = alice->agree(
    from_hex<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
  ASSERT_OK(shared);
  EXPECT_EQ(*shared,
            from_hex<32>("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
}

TEST(Identity, AgreementGivesBothSidesTheSameSecret) {
  auto a = make_identity();
  auto b = make_identity();
  auto ab = a.agree(b.pub().agree);
  auto ba = b.agree(a.pub().agree);
  ASSERT_TRUE(ab && ba);
  EXPECT_EQ(*ab, *ba);
}

TEST(Identity, AgreementRefusesKeysOfSmallOrder) {
  auto me = make_identity();
  // Points of order 1, 2, 4 and 8 (and their non-canonical encodings): each
  // makes the shared secret zero whatever our key is.
  for (auto hex : {"0000000000000000000000000000000000000000000000000000000000000000",
                   "0100000000000000000000000000000000000000000000000000000000000000",
                   "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                   "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
                   "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                   "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
    auto shared = me.agree(from_hex<32>(hex));
    ASSERT_FALSE(shared) << hex;
    EXPECT_ERRC(shared, errc::crypto_failed) << hex;
  }
}

TEST(Identity, MovedIdentityKeepsItsKeys) {
  auto a = make_identity();
  auto id = a.id();
  identity b = std::move(a);
  EXPECT_EQ(b.id(), id);
  std::string msg = "after the move";
  EXPECT_TRUE(verify(env, b.pub(), msg, b.sign(env, msg)));
  auto c = make_identity();
  c = std::move(b);
  EXPECT_EQ(c.id(), id);
  EXPECT_TRUE(verify(env, c.pub(), msg, c.sign(env, msg)));
}

TEST(Identity, SameKeysGiveTheSameIdentity) {
  auto sign = from_hex<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  auto agree = from_hex<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  auto a = identity::from_private_keys(sign, agree);
  auto b = identity::from_private_keys(sign, agree);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->id(), b->id());
  EXPECT_EQ(a->pub(), b->pub());
}

// -- the key file ------------------------------------------------------------

namespace {

class IdentityFile : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(dir_) << "cannot make a temporary directory";
    key_ = dir_.path() + "/identity.key";
  }

  // The error of a load that must fail, with the path in its message.
  error refusal() {
    auto id = load_or_create_identity(dir_.path());
    EXPECT_FALSE(id) << "loaded " << id->id().to_string();
    if (id)
      return {};
    EXPECT_NE(id.error().what.find(key_), std::string::npos) << id.error().what;
    return id.error();
  }

  // A valid key file's bytes (made in another directory).
  std::vector<uint8_t> valid_file() {
    temp_dir other;
    EXPECT_TRUE(load_or_create_identity(other.path()));
    return read_all(other.path() + "/identity.key");
  }

  temp_dir dir_;
  std::string key_;
};

} // namespace

TEST_F(IdentityFile, CreatedOnFirstStartAndReloadedWithTheSameId) {
  auto first = load_or_create_identity(dir_.path());
  ASSERT_OK(first);
  ASSERT_TRUE(std::filesystem::exists(key_));
  auto second = load_or_create_identity(dir_.path());
  ASSERT_OK(second);
  EXPECT_EQ(second->id(), first->id());
  EXPECT_EQ(second->pub(), first->pub());
  std::string msg = "signed before the restart";
  EXPECT_TRUE(verify(env, second->pub(), msg, first->sign(env, msg)));
}

TEST_F(IdentityFile, AnotherDirectoryGetsAnotherIdentity) {
  temp_dir other;
  auto a = load_or_create_identity(dir_.path());
  auto b = load_or_create_identity(other.path());
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->id(), b->id());
}

TEST_F(IdentityFile, AcceptsADataDirPathWithATrailingSlash) {
  auto a = load_or_create_identity(dir_.path());
  auto b = load_or_create_identity(dir_.path() + "/");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->id(), b->id());
}

TEST_F(IdentityFile, IsCreatedWithMode0600WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    temp_dir dir;
    auto old = ::umask(mask);
    auto id = load_or_create_identity(dir.path());
    ::umask(old);
    ASSERT_OK(id);
    EXPECT_EQ(mode_of(dir.path() + "/identity.key"), 0600u) << "umask " << mask;
  }
}

TEST_F(IdentityFile, HasTheDocumentedLayout) {
  auto id = load_or_create_identity(dir_.path());
  ASSERT_TRUE(id);
  auto bytes = read_all(key_);
  ASSERT_EQ(bytes.size(), identity_file_size);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 16), "p2pd identity v1");
  std::array<uint8_t, 32> sign{};
  std::array<uint8_t, 32> agree{};
  std::memcpy(sign.data(), bytes.data() + 16, 32);
  std::memcpy(agree.data(), bytes.data() + 48, 32);
  auto same = identity::from_private_keys(sign, agree);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->id(), id->id());
}

TEST_F(IdentityFile, LeavesNoTemporaryFileBehind) {
  ASSERT_TRUE(load_or_create_identity(dir_.path()));
  ASSERT_TRUE(load_or_create_identity(dir_.path()));
  std::vector<std::string> names;
  for (auto& e : std::filesystem::directory_iterator(dir_.path()))
    names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"identity.key"});
}

TEST_F(IdentityFile, ConcurrentFirstStartsAgreeOnOneIdentity) {
  for (int round = 0; round < 20; ++round) {
    temp_dir dir;
    std::vector<node_id> ids(4);
    std::vector<std::string> errors(4);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < ids.size(); ++i)
      threads.emplace_back([&, i] {
        auto id = load_or_create_identity(dir.path());
        if (id)
          ids[i] = id->id();
        else
          errors[i] = to_string(id.error());
      });
    for (auto& t : threads)
      t.join();
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(errors[i], "") << "round " << round;
      EXPECT_EQ(ids[i], ids[0]) << "round " << round;
    }
    auto reloaded = load_or_create_identity(dir.path());
    ASSERT_TRUE(reloaded);
    EXPECT_EQ(reloaded->id(), ids[0]);
  }
}

TEST_F(IdentityFile, GroupReadableFileIsRefusedWithItsMode) {
  ASSERT_TRUE(load_or_create_identity(dir_.path()));
  ASSERT_EQ(::chmod(key_.c_str(), 0644), 0);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_EQ(err.what, "identity key " + key_ + " has mode 0644; it must be 0600 (chmod 600 it)");
}

TEST_F(IdentityFile, GroupWritableOrOtherAccessibleFilesAreRefused) {
  ASSERT_TRUE(load_or_create_identity(dir_.path()));
  for (mode_t mode : {0620, 0640, 0604, 0602, 0601, 0610}) {
    ASSERT_EQ(::chmod(key_.c_str(), mode), 0);
    auto err = refusal();
    EXPECT_EQ(err.code, errc::bad_key_file) << std::oct << mode;
    EXPECT_NE(err.what.find("it must be 0600"), std::string::npos) << err.what;
  }
}

TEST_F(IdentityFile, OwnerReadOnlyFileIsAccepted) {
  auto first = load_or_create_identity(dir_.path());
  ASSERT_TRUE(first);
  ASSERT_EQ(::chmod(key_.c_str(), 0400), 0);
  auto again = load_or_create_identity(dir_.path());
  ASSERT_OK(again);
  EXPECT_EQ(again->id(), first->id());
}

TEST_F(IdentityFile, RefusedFileIsLeftAsItWas) {
  ASSERT_TRUE(load_or_create_identity(dir_.path()));
  ASSERT_EQ(::chmod(key_.c_str(), 0644), 0);
  auto before = read_all(key_);
  refusal();
  EXPECT_EQ(read_all(key_), before);
  EXPECT_EQ(mode_of(key_), 0644u);
}

TEST_F(IdentityFile, SymlinkIsRefused) {
  temp_dir elsewhere;
  ASSERT_TRUE(load_or_create_identity(elsewhere.path()));
  ASSERT_EQ(::symlink((elsewhere.path() + "/identity.key").c_str(), key_.c_str()), 0);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("is a symbolic link"), std::string::npos) << err.what;
}

TEST_F(IdentityFile, DanglingSymlinkIsRefusedAndNotFollowed) {
  std::string target = dir_.path() + "/planted";
  ASSERT_EQ(::symlink(target.c_str(), key_.c_str()), 0);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("is a symbolic link"), std::string::npos) << err.what;
  EXPECT_FALSE(std::filesystem::exists(target)) << "a key was written through the link";
}

TEST_F(IdentityFile, DirectoryInItsPlaceIsRefused) {
  ASSERT_EQ(::mkdir(key_.c_str(), 0700), 0);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("is not a regular file"), std::string::npos) << err.what;
}

TEST_F(IdentityFile, FifoInItsPlaceIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo(key_.c_str(), 0600), 0);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("is not a regular file"), std::string::npos) << err.what;
}

TEST_F(IdentityFile, TruncatedFileIsRefused) {
  auto bytes = valid_file();
  bytes.resize(bytes.size() - 1);
  write_all(key_, bytes);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("is truncated: 111 bytes, an identity key has 112"), std::string::npos)
    << err.what;
}

TEST_F(IdentityFile, EmptyFileIsRefused) {
  write_all(key_, {});
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("is truncated: 0 bytes"), std::string::npos) << err.what;
}

TEST_F(IdentityFile, LongerFileIsRefused) {
  auto bytes = valid_file();
  bytes.push_back('\n');
  write_all(key_, bytes);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("has 113 bytes"), std::string::npos) << err.what;
}

TEST_F(IdentityFile, GarbageFileIsRefused) {
  std::vector<uint8_t> garbage(identity_file_size);
  for (size_t i = 0; i < garbage.size(); ++i)
    garbage[i] = static_cast<uint8_t>(i * 37 + 11);
  write_all(key_, garbage);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("is not a p2pd identity key"), std::string::npos) << err.what;
}

TEST_F(IdentityFile, OtherFormatVersionIsRefused) {
  auto bytes = valid_file();
  bytes[15] = '2';
  write_all(key_, bytes);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("has format version '2'"), std::string::npos) << err.what;
}

TEST_F(IdentityFile, DamagedKeyByteIsCaughtByTheChecksum) {
  auto good = valid_file();
  for (size_t pos : {size_t{16}, size_t{47}, size_t{48}, size_t{79}, size_t{80}, size_t{111}}) {
    auto bytes = good;
    bytes[pos] ^= 0x01;
    write_all(key_, bytes);
    auto err = refusal();
    EXPECT_EQ(err.code, errc::bad_key_file) << "byte " << pos;
    EXPECT_NE(err.what.find("is corrupt"), std::string::npos) << err.what;
  }
}

// parse_identity_key is the loader's content check, factored out for
// key_file_fuzz: the same bytes give the same identity or the same refusal.
TEST_F(IdentityFile, ParsingTheBytesIsWhatTheLoaderDoes) {
  auto loaded = load_or_create_identity(dir_.path());
  ASSERT_TRUE(loaded);
  auto bytes = read_all(key_);
  auto parsed = parse_identity_key(bytes.data(), bytes.size(), key_);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->id(), loaded->id());
  bytes[20] ^= 0x01;
  write_all(key_, bytes);
  auto from_file = refusal();
  auto from_bytes = parse_identity_key(bytes.data(), bytes.size(), key_);
  ASSERT_FALSE(from_bytes);
  EXPECT_EQ(from_bytes.error().code, from_file.code);
  EXPECT_EQ(from_bytes.error().what, from_file.what);
}

TEST_F(IdentityFile, FileOfAnotherUserIsRefused) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to give a file away";
  ASSERT_TRUE(load_or_create_identity(dir_.path()));
  ASSERT_EQ(::chown(key_.c_str(), 65534, 65534), 0);
  auto err = refusal();
  EXPECT_EQ(err.code, errc::bad_key_file);
  EXPECT_NE(err.what.find("is owned by uid 65534, not by this user (uid 0)"), std::string::npos)
    << err.what;
}

TEST_F(IdentityFile, MissingDataDirectoryIsAnError) {
  auto id = load_or_create_identity(dir_.path() + "/missing");
  ASSERT_FALSE(id);
  EXPECT_ERRC(id, errc::io_failed);
  EXPECT_NE(id.error().what.find(dir_.path() + "/missing"), std::string::npos) << id.error().what;
  EXPECT_NE(id.error().what.find("ENOENT"), std::string::npos) << id.error().what;
}
