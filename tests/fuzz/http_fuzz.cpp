// Fuzz target for the REST API's HTTP/1.1 request parser (net/http/): any
// bytes, fed whole or cut into chunks of any sizes, give the same requests
// and the same error; nothing a request holds passes the limits, the buffer
// stays bounded, and an error is final. Percent-decoding and the response
// writer take whatever a request carries.

#include <string>
#include <vector>

#include "fuzz_main.hpp"
#include "p2pd/net/http/request_parser.hpp"
#include "p2pd/net/http/response.hpp"

using namespace p2pd::net::http;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("http_fuzz", what);
}

// What a parser made of a stream: the requests, then the error status.
struct outcome {
  std::vector<request> reqs;
  int error = 0;
};

const limits fuzz_limits{512, 1024, 16};

void drain(request_parser& p, outcome& out) {
  for (int i = 0; i < 4096; ++i) {
    auto st = p.next();
    if (st == parse_status::complete) {
      auto r = p.take();
      check(r.body.size() <= fuzz_limits.max_body_bytes, "a body past the limit");
      check(r.headers.size() <= fuzz_limits.max_headers, "more headers than the limit");
      check(!r.target.empty() && r.target[0] == '/', "a target not beginning with '/'");
      out.reqs.push_back(std::move(r));
    } else if (st == parse_status::error) {
      check(p.error_status() >= 400 && p.error_status() < 600, "an error that is no error status");
      check(p.next() == parse_status::error, "an error that did not last");
      out.error = p.error_status();
      return;
    } else if (st == parse_status::need_more) {
      return;
    }
  }
}

bool same(const outcome& a, const outcome& b) {
  if (a.error != b.error || a.reqs.size() != b.reqs.size())
    return false;
  for (size_t i = 0; i < a.reqs.size(); ++i) {
    const auto& x = a.reqs[i];
    const auto& y = b.reqs[i];
    if (x.method != y.method || x.target != y.target || x.body != y.body
        || x.headers != y.headers || x.keep_alive != y.keep_alive)
      return false;
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  // The first byte sets the chunk size of the second run (1 to 256).
  size_t chunk = static_cast<size_t>(data[0]) + 1;
  std::string_view text{reinterpret_cast<const char*>(data + 1), size - 1};

  outcome whole;
  request_parser a{fuzz_limits};
  a.feed(text);
  drain(a, whole);

  outcome cut;
  request_parser b{fuzz_limits};
  for (size_t at = 0; at < text.size(); at += chunk) {
    b.feed(text.substr(at, chunk));
    check(b.buffered() <= fuzz_limits.max_header_bytes + fuzz_limits.max_body_bytes,
          "the buffer grew past its bound");
    drain(b, cut);
    if (cut.error)
      break;
  }
  // Fed whole, the stream may overflow the buffer where chunks drained in
  // time would not: compare only inputs within one buffer's worth.
  if (text.size() <= fuzz_limits.max_header_bytes + fuzz_limits.max_body_bytes)
    check(same(whole, cut), "chunked and whole parses differ");

  for (const auto& r : cut.reqs) {
    (void) percent_decode(r.path());
    (void) query_param(r.query(), "timeout");
    response resp;
    resp.body = r.body;
    for (const auto& [k, v] : r.headers)
      resp.set(k, v);
    auto bytes = serialize(resp, r.keep_alive);
    check(bytes.size() >= resp.body.size(), "a response shorter than its body");
  }
  return 0;
}

P2PD_FUZZ_MAIN("http_fuzz")
