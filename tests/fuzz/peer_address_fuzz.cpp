// Fuzz target for the peer address parser: any text parses or is refused
// with one of its error codes and a message that says it is about a peer
// address; an address that parses passes check() and is the one spelling of
// its bytes (encoding its body again gives what was signed).

#include <algorithm>
#include <string_view>
#include <vector>

#include "fuzz_main.hpp"
#include "p2pd/net/util/base32.hpp"
#include "p2pd/node/address/peer_address.hpp"

using namespace p2pd;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("peer_address_fuzz", what);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto a = node::parse_peer_address(text);
  if (!a) {
    auto c = a.error().code;
    check(c == net::errc::malformed || c == net::errc::message_too_large
            || c == net::errc::unsupported_version || c == net::errc::forged
            || c == net::errc::crypto_failed,
          "refused with an unexpected code");
    check(a.error().what.rfind("peer address: ", 0) == 0, "an error that does not say what failed");
    return 0;
  }
  check(!node::check(*a), "accepted an address that check() refuses");
  auto body = node::peer_address_body(*a);
  auto enc = text.substr(node::peer_address_prefix.size());
  std::vector<uint8_t> raw(enc.size() * 5 / 8);
  check(!net::base32_decode(enc, raw.data()), "accepted text that is not base32");
  check(raw.size() == body.size() + 64
          && std::equal(body.begin(), body.end(), raw.begin()),
        "accepted bytes that are not the body's one encoding");
  return 0;
}

P2PD_FUZZ_MAIN("peer_address_fuzz")
