// Fuzz target for the STUN codec: any bytes either decode or are refused with
// an error; what decodes re-encodes (stun_builder::from) to a message that
// decodes to the same thing. A broken invariant aborts, which the fuzzer
// reports as a crash.
//
// Built two ways:
// - by tests/fuzz/run_fuzz.sh with clang++ -fsanitize=fuzzer,address,undefined
//   (P2PD_LIBFUZZER defined: libFuzzer provides main);
// - by CMake with the project's compiler as stun_fuzz_corpus, whose main()
//   below feeds it each file it is given, so the target always compiles and
//   the seed corpus is always checked (fuzz_main.hpp).

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz_main.hpp"
#include "p2pd/net/stun/stun.hpp"

using namespace p2pd::net;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("stun_fuzz", what);
}

bool is_integrity(uint16_t t) {
  return t == stun_attr::message_integrity || t == stun_attr::message_integrity_sha256
         || t == stun_attr::fingerprint;
}

// Every typed accessor, so each one runs over every decodable input.
struct typed_view {
  std::optional<endpoint> xm, m, ro, oa, ca, sa, alt, peer;
  std::optional<stun_error_code> ec;
  std::optional<stun_change_request> cr;
  std::optional<std::string> sw, user, realm, nonce;
  std::vector<uint16_t> unknown_list;

  explicit typed_view(const stun_message& x)
      : xm(x.xor_mapped_address()), m(x.mapped_address()), ro(x.response_origin()),
        oa(x.other_address()), ca(x.changed_address()), sa(x.source_address()),
        alt(x.address(stun_attr::alternate_server)), peer(x.address(stun_attr::xor_peer_address)),
        ec(x.error_code()), cr(x.change_request()), sw(x.software()), user(x.username()),
        realm(x.realm()), nonce(x.nonce()), unknown_list(x.unknown_attributes()) {}

  bool operator==(const typed_view& y) const {
    auto ec_eq = ec.has_value() == y.ec.has_value()
                 && (!ec || (ec->code == y.ec->code && ec->reason == y.ec->reason));
    auto cr_eq = cr.has_value() == y.cr.has_value()
                 && (!cr || (cr->change_ip == y.cr->change_ip
                             && cr->change_port == y.cr->change_port));
    return xm == y.xm && m == y.m && ro == y.ro && oa == y.oa && ca == y.ca && sa == y.sa
           && alt == y.alt && peer == y.peer && ec_eq && cr_eq && sw == y.sw && user == y.user
           && realm == y.realm && nonce == y.nonce && unknown_list == y.unknown_list;
  }
};

std::vector<stun_attribute> without_integrity(const stun_message& x) {
  std::vector<stun_attribute> out;
  for (auto& a : x.attributes())
    if (!is_integrity(a.type))
      out.push_back(a);
  return out;
}

void one_input(const uint8_t* data, size_t size) {
  stun_message_size(data, size);
  stun_decode_options opts;
  opts.allow_rfc3489 = true;
  auto m1 = decode_stun(data, size, opts);
  auto strict = decode_stun(data, size);
  if (!m1) {
    check(!m1.error().what.empty(), "an error without a message");
    check(!strict, "refused with RFC 3489 allowed, decoded without");
    return;
  }
  check(strict.has_value() == !m1->rfc3489(), "modes disagree on a cookie-carrying message");
  typed_view v1(*m1);
  static const stun_key key{{'k', 'e', 'y'}};
  m1->integrity_ok(key);

  auto b = stun_builder::from(*m1);
  if (m1->has_fingerprint())
    b.add_fingerprint();
  auto bytes = b.finish();
  check(bytes.has_value(), "a decoded message does not re-encode");
  check(bytes->size() <= size, "the re-encoding grew");
  auto m2 = decode_stun(*bytes, opts);
  check(m2.has_value(), "a re-encoded message does not decode");
  check(m2->cls() == m1->cls() && m2->method() == m1->method(), "class or method changed");
  check(m2->txid() == m1->txid(), "transaction id changed");
  check(without_integrity(*m2) == without_integrity(*m1), "attributes changed");
  check(m2->unknown_comprehension_required() == m1->unknown_comprehension_required(),
        "unknown attributes changed");
  check(m2->has_fingerprint() == m1->has_fingerprint(), "fingerprint lost");
  check(typed_view(*m2) == v1, "a typed value changed");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  one_input(data, size);
  return 0;
}

P2PD_FUZZ_MAIN("stun_fuzz")
