// Fuzz target for the identity key file's content checks: any bytes load or
// are refused as bad_key_file with the reason; a file that loads holds keys
// that sign and verify. Random bytes almost never carry a right SHA-256, so
// the input's first 80 bytes are also parsed behind their own checksum: that
// reaches the key loading, where any 64 bytes under the magic must load, as
// the same identity from_private_keys makes of them.

#include <array>
#include <cstring>
#include <string_view>

#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fuzz_main.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/crypto/key_file.hpp"

using namespace p2pd::net;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("key_file_fuzz", what);
}

// Seeds: a key file as load_or_create_identity writes it, and refused ones:
// another version, truncated, too long, empty, a damaged key.
void write_seeds(const std::string& dir) {
  char tmp[] = "/tmp/p2pd-key-seed-XXXXXX";
  if (::mkdtemp(tmp) == nullptr)
    p2pd::fuzz::broken("key_file_fuzz", "mkdtemp failed");
  auto id = load_or_create_identity(tmp);
  if (!id)
    p2pd::fuzz::broken("key_file_fuzz", "cannot create a key file");
  auto path = std::string{tmp} + "/" + identity_file_name;
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path.c_str());
  ::rmdir(tmp);
  p2pd::fuzz::write_seed(dir, "valid.key", file);
  auto v2 = file;
  v2[15] = '2';
  p2pd::fuzz::write_seed(dir, "version2.key", v2);
  p2pd::fuzz::write_seed(dir, "truncated.key", {file.begin(), file.begin() + 50});
  auto damaged = file;
  damaged[20] ^= 1;
  p2pd::fuzz::write_seed(dir, "bad_checksum.key", damaged);
  auto longer = file;
  longer.push_back('\n');
  p2pd::fuzz::write_seed(dir, "too_long.key", longer);
  p2pd::fuzz::write_seed(dir, "empty.key", {});
}

constexpr size_t checksum_offset = identity_file_size - 32;
constexpr std::string_view magic = "p2pd identity v1";

// Returns whether the bytes loaded.
bool one_file(const uint8_t* data, size_t size) {
  auto id = parse_identity_key(data, size, "fuzz/identity.key");
  if (!id) {
    check(id.error().code == errc::bad_key_file || id.error().code == errc::crypto_failed,
          "refused with an unexpected code");
    check(id.error().what.find("fuzz/identity.key") != std::string::npos,
          "an error that does not name the file");
    return false;
  }
  check(size == identity_file_size, "a key file of the wrong size loaded");
  std::string msg = "m";
  auto sig = id->sign(sign_purpose::envelope, msg);
  check(verify(sign_purpose::envelope, id->pub(), msg, sig), "loaded keys do not verify");
  std::array<uint8_t, 32> sign_key, agree_key;
  std::memcpy(sign_key.data(), data + magic.size(), 32);
  std::memcpy(agree_key.data(), data + magic.size() + 32, 32);
  auto same = identity::from_private_keys(sign_key, agree_key);
  check(same && same->id() == id->id(), "a key file loaded as another identity than its keys");
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  one_file(data, size);
  if (size < checksum_offset)
    return 0;
  std::array<uint8_t, identity_file_size> file;
  std::memcpy(file.data(), data, checksum_offset);
  unsigned len = 0;
  check(EVP_Digest(file.data(), checksum_offset, file.data() + checksum_offset, &len, EVP_sha256(),
                   nullptr) == 1 && len == 32,
        "SHA-256 failed");
  auto loaded = one_file(file.data(), file.size());
  check(loaded == (std::memcmp(file.data(), magic.data(), magic.size()) == 0),
        "a checksummed file under the magic did not load, or one without it did");
  return 0;
}

P2PD_FUZZ_MAIN_WITH_SEEDS("key_file_fuzz", write_seeds)
