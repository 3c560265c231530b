// Fuzz target for the identity key file's content checks: any bytes load or
// are refused as bad_key_file with the reason; a file that loads holds keys
// that sign and verify.

#include <stdlib.h>
#include <unistd.h>

#include "fuzz_main.hpp"
#include "p2pd/net/identity.hpp"

using namespace p2pd::net;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("key_file_fuzz", what);
}

// Seeds: a key file as load_or_create_identity writes it, one of another
// version, and a truncated one.
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
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto id = parse_identity_key(data, size, "fuzz/identity.key");
  if (!id) {
    check(id.error().code == errc::bad_key_file || id.error().code == errc::crypto_failed,
          "refused with an unexpected code");
    check(id.error().what.find("fuzz/identity.key") != std::string::npos,
          "an error that does not name the file");
    return 0;
  }
  check(size == identity_file_size, "a key file of the wrong size loaded");
  std::string msg = "m";
  auto sig = id->sign(sign_purpose::envelope, msg);
  check(verify(sign_purpose::envelope, id->pub(), msg, sig), "loaded keys do not verify");
  return 0;
}

P2PD_FUZZ_MAIN_WITH_SEEDS("key_file_fuzz", write_seeds)
