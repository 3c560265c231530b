// Fuzz target for the port-mapping codecs (net/portmap): any bytes from a
// gateway decode as a NAT-PMP or PCP answer or are refused with a reason
// and one of the codes the headers name; what decodes encodes again and
// decodes to the same.
//
// Built like stun_fuzz (see there): with libFuzzer by run_fuzz.sh, and as
// portmap_fuzz_corpus, which replays corpus/portmap.

#include "fuzz_main.hpp"
#include "p2pd/net/portmap/natpmp.hpp"
#include "p2pd/net/portmap/pcp.hpp"

using namespace p2pd::net;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("portmap_fuzz", what);
}

void natpmp(const uint8_t* data, size_t size, natpmp_op asked) {
  auto x = decode_natpmp_response(data, size, asked);
  if (!x) {
    check(!x.error().what.empty(), "a NAT-PMP refusal without a message");
    check(x.error().code == errc::malformed || x.error().code == errc::not_for_us
            || x.error().code == errc::unsupported_version,
          "a NAT-PMP refusal with an unexpected code");
    return;
  }
  auto again = decode_natpmp_response(encode_natpmp_response(*x), asked);
  check(static_cast<bool>(again), "a decoded NAT-PMP answer does not decode once encoded");
}

void pcp(const uint8_t* data, size_t size, const pcp_decode_options& opts) {
  auto x = decode_pcp_response(data, size, opts);
  if (!x) {
    check(!x.error().what.empty(), "a PCP refusal without a message");
    check(x.error().code == errc::malformed || x.error().code == errc::not_for_us
            || x.error().code == errc::unsupported_version
            || x.error().code == errc::message_too_large,
          "a PCP refusal with an unexpected code");
    return;
  }
  auto bytes = encode_pcp_response(*x);
  check(static_cast<bool>(bytes), "a decoded PCP answer does not encode");
  if (bytes)
    check(static_cast<bool>(decode_pcp_response(*bytes, opts)),
          "a decoded PCP answer does not decode once encoded");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (auto op : {natpmp_op::external_address, natpmp_op::map_udp, natpmp_op::map_tcp})
    natpmp(data, size, op);
  pcp(data, size, {});
  pcp_decode_options map;
  map.opcode = pcp_opcode::map;
  map.nonce = pcp_nonce{};
  pcp(data, size, map);
  return 0;
}

P2PD_FUZZ_MAIN("portmap_fuzz")
