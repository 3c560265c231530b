// Fuzz target for the payload codec: the first byte picks the payload type,
// the rest is decoded as it; what decodes re-encodes to bytes that decode to
// the same encoding (protobuf's own parser, behind the codec's size check).

#include "fuzz_main.hpp"
#include "p2pd/proto/envelope_codec.hpp"

using namespace p2pd::wire;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("payload_fuzz", what);
}

template <class T>
void one(const uint8_t* data, size_t size) {
  auto x = decode_payload<T>(data, size);
  if (!x) {
    check(!x.error().what.empty(), "an error without a message");
    return;
  }
  auto once = encode_payload(*x);
  auto y = decode_payload<T>(once);
  check(y.has_value(), "a re-encoded payload does not decode");
  check(encode_payload(*y) == once, "a payload changed through re-encoding");
}

// Seeds: one filled payload of each type, behind its type byte.
void write_seeds(const std::string& dir) {
  auto put = [&](uint8_t type, const std::string& name, const bytes& b) {
    bytes seed{type};
    seed.insert(seed.end(), b.begin(), b.end());
    p2pd::fuzz::write_seed(dir, name + ".bin", seed);
  };
  address_request req;
  req.set_request_id(7);
  req.add_families(IP_FAMILY_V6);
  put(3, "address_request", encode_payload(req));
  put(0, "connect_request", encode_payload(connect_request{}));
  put(1, "hole_punch_request", encode_payload(hole_punch_request{}));
  put(2, "relay_offer", encode_payload(relay_offer{}));
  put(4, "address_reply", encode_payload(address_reply{}));
  // Malformed: protobuf wire errors, each where a valid field would start.
  auto filled = encode_payload(req);
  put(3, "bad_truncated", bytes(filled.begin(), filled.end() - 1));
  put(3, "bad_varint", {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  put(4, "bad_length", {0x0a, 0x7f, 0x00});
  put(0, "bad_wire_type", {0x0f});
  put(2, "bad_field_zero", {0x00, 0x00});
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto rest = data + 1;
  auto n = size - 1;
  switch (data[0] % 5) {
    case 0: one<connect_request>(rest, n); break;
    case 1: one<hole_punch_request>(rest, n); break;
    case 2: one<relay_offer>(rest, n); break;
    case 3: one<address_request>(rest, n); break;
    default: one<address_reply>(rest, n); break;
  }
  return 0;
}

P2PD_FUZZ_MAIN_WITH_SEEDS("payload_fuzz", write_seeds)
