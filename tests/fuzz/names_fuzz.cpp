// Fuzz target for the name service's codec (proto/names_codec): any bytes
// decode as a request and as a response or are refused with a message; what
// decodes re-encodes to what decodes the same, and the rules and the
// signature check take any decoded record without breaking.

#include "fuzz_main.hpp"
#include "p2pd/net/names/name_rules.hpp"
#include "p2pd/proto/names.pb.h"
#include "p2pd/proto/names_codec.hpp"

using namespace p2pd::wire::names;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("names_fuzz", what);
}

std::vector<uint8_t> raw(const google::protobuf::MessageLite& m) {
  std::vector<uint8_t> out(m.ByteSizeLong());
  m.SerializeToArray(out.data(), static_cast<int>(out.size()));
  return out;
}

void seed(const std::string& dir, const std::string& name, const result<std::vector<uint8_t>>& b) {
  if (!b)
    p2pd::fuzz::broken("names_fuzz", "a seed does not encode");
  p2pd::fuzz::write_seed(dir, name, *b);
}

// Seeds: each request and a response with a record, and malformed ones
// next to each refusal decode_request() documents.
void write_seeds(const std::string& dir) {
  auto me = p2pd::net::identity::generate();
  if (!me)
    p2pd::fuzz::broken("names_fuzz", "cannot make an identity");
  auto rec = p2pd::net::names::make_record(*me, "alice.p2p", {1, 2, 3}, 3, 1'800'000'000, 3600);
  request put;
  put.request_id = 1;
  put.op = op::put;
  put.record = rec;
  seed(dir, "put.bin", encode_request(put));
  request del = put;
  del.op = op::del;
  del.record = p2pd::net::names::make_record(*me, "alice.p2p", {}, 4, 1'800'000'000, 3600, true);
  seed(dir, "del.bin", encode_request(del));
  request lookup;
  lookup.op = op::lookup;
  lookup.name = "alice.p2p";
  seed(dir, "lookup.bin", encode_request(lookup));
  response ok;
  ok.request_id = 1;
  ok.record = rec;
  seed(dir, "response.bin", encode_response(ok));
  p2pd::names_wire::name_request m;
  m.set_version(current_version + 1);
  m.set_min_version(current_version + 1);
  m.mutable_lookup()->set_name("alice.p2p");
  p2pd::fuzz::write_seed(dir, "bad_newer_reader.bin", raw(m));
  m.set_version(1);
  m.set_min_version(1);
  auto* r = m.mutable_put()->mutable_record();
  r->set_owner_key(std::string(31, 'k'));
  r->set_signature(std::string(64, 's'));
  p2pd::fuzz::write_seed(dir, "bad_short_key.bin", raw(m));
  r->set_owner_key(std::string(32, 'k'));
  r->set_deleted(true);
  p2pd::fuzz::write_seed(dir, "bad_put_deleted.bin", raw(m));
  auto good = encode_request(put);
  p2pd::fuzz::write_seed(dir, "bad_truncated.bin",
                         std::vector<uint8_t>(good->begin(), good->begin() + good->size() / 2));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto req = decode_request(data, size);
  if (!req) {
    check(!req.error().what.empty(), "a request error without a message");
  } else {
    check(req->min_version <= current_version, "a request for a newer reader decoded");
    if (req->op != op::lookup) {
      check(req->record.deleted == (req->op == op::del), "a put/del of the wrong kind decoded");
      // The server's checks take any decoded record.
      auto v = p2pd::net::names::check_record(req->record, 1'800'000'000, {});
      check(v.ok() || !v.why.empty(), "a refusal without a reason");
    } else {
      auto err = p2pd::net::names::check_name(req->name);
      check(!err || !err.what.empty(), "a name refusal without a reason");
    }
    auto again = encode_request(*req);
    check(again.has_value(), "a decoded request does not re-encode");
    auto req2 = decode_request(*again);
    check(req2.has_value(), "a re-encoded request does not decode");
    check(req2->op == req->op && req2->request_id == req->request_id
            && req2->record == req->record && req2->name == req->name,
          "a request changed through re-encoding");
  }
  auto resp = decode_response(data, size);
  if (!resp) {
    check(!resp.error().what.empty(), "a response error without a message");
    return 0;
  }
  auto again = encode_response(*resp);
  check(again.has_value(), "a decoded response does not re-encode");
  auto resp2 = decode_response(*again);
  check(resp2.has_value(), "a re-encoded response does not decode");
  check(resp2->code == resp->code && resp2->record == resp->record
          && resp2->detail == resp->detail,
        "a response changed through re-encoding");
  return 0;
}

P2PD_FUZZ_MAIN_WITH_SEEDS("names_fuzz", write_seeds)
