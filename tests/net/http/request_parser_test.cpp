#include "p2pd/net/http/request_parser.hpp"

#include <string>

#include <gtest/gtest.h>

using namespace p2pd::net::http;

namespace {

const char* const get_req = "GET /version HTTP/1.1\r\nHost: 127.0.0.1:12333\r\n\r\n";

// Feeds `text` whole and returns what next() says.
parse_status parse_all(request_parser& p, std::string_view text) {
  p.feed(text);
  return p.next();
}

} // namespace

TEST(HttpParser, ParsesAGetWithItsHeaders) {
  request_parser p;
  ASSERT_EQ(parse_all(p, "GET /ifs?x=1 HTTP/1.1\r\nHost: h\r\nX-Thing:  a b \r\n\r\n"),
            parse_status::complete);
  auto r = p.take();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/ifs?x=1");
  EXPECT_EQ(r.path(), "/ifs");
  EXPECT_EQ(r.query(), "x=1");
  EXPECT_EQ(r.minor, 1);
  EXPECT_EQ(r.header("x-thing").value_or(""), "a b");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(p.next(), parse_status::need_more);
  EXPECT_FALSE(p.mid_request());
}

TEST(HttpParser, ARequestSplitIntoSingleBytesIsWholeOnlyAtItsLastByte) {
  std::string text = "POST /send/a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  request_parser p;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    p.feed(text.substr(i, 1));
    ASSERT_EQ(p.next(), parse_status::need_more) << "after byte " << i;
  }
  p.feed(text.substr(text.size() - 1));
  ASSERT_EQ(p.next(), parse_status::complete);
  EXPECT_EQ(p.take().body, "hello");
}

TEST(HttpParser, SplitsAtEveryPointGiveTheSameRequest) {
  std::string text = "POST /binary/x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
  text += std::string("a\0b", 3);
  for (size_t cut = 1; cut < text.size(); ++cut) {
    request_parser p;
    p.feed(text.substr(0, cut));
    ASSERT_EQ(p.next(), parse_status::need_more) << cut;
    p.feed(text.substr(cut));
    ASSERT_EQ(p.next(), parse_status::complete) << cut;
    EXPECT_EQ(p.take().body, std::string("a\0b", 3)) << cut;
  }
}

TEST(HttpParser, PipelinedRequestsComeOneAtATimeInOrder) {
  request_parser p;
  p.feed(std::string(get_req) + "GET /addr HTTP/1.1\r\nHost: h\r\n\r\nGET /if");
  ASSERT_EQ(p.next(), parse_status::complete);
  EXPECT_EQ(p.take().target, "/version");
  ASSERT_EQ(p.next(), parse_status::complete);
  EXPECT_EQ(p.take().target, "/addr");
  EXPECT_EQ(p.next(), parse_status::need_more);
  EXPECT_TRUE(p.mid_request());
  p.feed("s HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(p.next(), parse_status::complete);
  EXPECT_EQ(p.take().target, "/ifs");
}

TEST(HttpParser, BareLineFeedsAndLeadingEmptyLinesAreAccepted) {
  request_parser p;
  ASSERT_EQ(parse_all(p, "\r\n\nGET / HTTP/1.1\nHost: h\n\n"), parse_status::complete);
  EXPECT_EQ(p.take().target, "/");
}

TEST(HttpParser, ConnectionCloseAndHttp10DecideKeepAlive) {
  request_parser a;
  ASSERT_EQ(parse_all(a, "GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, Close\r\n\r\n"),
            parse_status::complete);
  EXPECT_FALSE(a.take().keep_alive);
  request_parser b;
  ASSERT_EQ(parse_all(b, "GET / HTTP/1.0\r\n\r\n"), parse_status::complete);
  EXPECT_FALSE(b.take().keep_alive);
  request_parser c;
  ASSERT_EQ(parse_all(c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
            parse_status::complete);
  EXPECT_TRUE(c.take().keep_alive);
}

TEST(HttpParser, ExpectContinueIsAskedForOnceBeforeTheBody) {
  request_parser p;
  p.feed("POST /send/a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(p.next(), parse_status::continue_needed);
  EXPECT_EQ(p.next(), parse_status::need_more);
  p.feed("hi");
  ASSERT_EQ(p.next(), parse_status::complete);
  EXPECT_EQ(p.take().body, "hi");
}

struct bad_case {
  const char* name;
  std::string text;
  int status;
};

class HttpParserRefuses : public ::testing::TestWithParam<bad_case> {};

TEST_P(HttpParserRefuses, WithTheRightStatus) {
  request_parser p;
  p.feed(GetParam().text);
  ASSERT_EQ(p.next(), parse_status::error);
  EXPECT_EQ(p.error_status(), GetParam().status) << p.error_text();
  EXPECT_FALSE(p.error_text().empty());
  // Done for good: nothing after an error is parsed.
  p.feed(get_req);
  EXPECT_EQ(p.next(), parse_status::error);
}

INSTANTIATE_TEST_SUITE_P(
  Malformed, HttpParserRefuses,
  ::testing::Values(
    bad_case{"NoVersion", "GET /\r\nHost: h\r\n\r\n", 400},
    bad_case{"TwoSpaces", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    bad_case{"AbsoluteTarget", "GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    bad_case{"ControlInTarget", std::string("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400},
    bad_case{"BadMethod", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    bad_case{"NotHttp", "GET / SPDY/3.1\r\nHost: h\r\n\r\n", 400},
    bad_case{"Http2", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
    bad_case{"Http12", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505},
    bad_case{"BareCr", "GET / HTTP/1.1\rX\r\nHost: h\r\n\r\n", 400},
    bad_case{"NoColon", "GET / HTTP/1.1\r\nHost h\r\n\r\n", 400},
    bad_case{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
    bad_case{"Folding", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
    bad_case{"NoHost", "GET / HTTP/1.1\r\n\r\n", 400},
    bad_case{"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    bad_case{"Chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
    bad_case{"ChunkedAndLength",
             "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
             400},
    bad_case{"LengthsDisagree",
             "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
    bad_case{"NegativeLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
    bad_case{"HugeLength",
             "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
    bad_case{"BodyTooLarge", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048577\r\n\r\n", 413},
    bad_case{"OtherExpect", "POST / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n", 417},
    bad_case{"NulInHeader", std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 35), 400}),
  [](const auto& info) { return std::string(info.param.name); });

TEST(HttpParser, HeadersBeyondTheBoundAre431EvenBeforeTheyEnd) {
  request_parser p;
  p.feed("GET / HTTP/1.1\r\nHost: h\r\n");
  std::string filler = "X-Pad: " + std::string(100, 'a') + "\r\n";
  parse_status st = parse_status::need_more;
  for (int i = 0; i < 200 && st == parse_status::need_more; ++i) {
    p.feed(filler);
    st = p.next();
  }
  ASSERT_EQ(st, parse_status::error);
  EXPECT_EQ(p.error_status(), 431);
}

TEST(HttpParser, ARequestLineBeyondTheBoundIs414) {
  request_parser p;
  p.feed("GET /" + std::string(9000, 'a'));
  ASSERT_EQ(p.next(), parse_status::error);
  EXPECT_EQ(p.error_status(), 414);
}

TEST(HttpParser, TooManyHeadersAre431) {
  limits lim;
  lim.max_headers = 4;
  request_parser p{lim};
  ASSERT_EQ(parse_all(p, "GET / HTTP/1.1\r\nHost: h\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n"),
            parse_status::error);
  EXPECT_EQ(p.error_status(), 431);
}

TEST(HttpParser, ABodyAtTheBoundIsAccepted) {
  limits lim;
  lim.max_body_bytes = 10;
  request_parser p{lim};
  ASSERT_EQ(parse_all(p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"),
            parse_status::complete);
  EXPECT_EQ(p.take().body, "0123456789");
}

TEST(HttpParser, PipelinedBytesBeyondTheBufferBoundAreAnErrorNotMemory) {
  limits lim;
  lim.max_header_bytes = 64;
  lim.max_body_bytes = 64;
  request_parser p{lim};
  // One request is complete and not taken (its answer pending); the client
  // keeps sending.
  p.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(p.next(), parse_status::complete);
  for (int i = 0; i < 10; ++i)
    p.feed(std::string(100, 'x'));
  EXPECT_LE(p.buffered(), 128u + 64u);
  p.take();
  ASSERT_EQ(p.next(), parse_status::error);
  EXPECT_EQ(p.error_status(), 431);
}

namespace {

// Request i of a pipelined stream: GETs and POSTs with bodies, some after
// an empty line, so that every kind of boundary is crossed.
std::string pipelined(size_t i) {
  auto n = std::to_string(i);
  if (i % 3 == 0)
    return "POST /send/" + n + " HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(n.size())
           + "\r\n\r\n" + n;
  return std::string(i % 7 == 0 ? "\r\n" : "") + "GET /recv/" + n + " HTTP/1.1\r\nHost: h\r\n\r\n";
}

// Takes every request `p` holds whole, checking each against the next
// expected index; how many it took.
size_t drain(request_parser& p, size_t& expected) {
  size_t took = 0;
  for (;;) {
    auto st = p.next();
    if (st == parse_status::need_more)
      return took;
    EXPECT_EQ(st, parse_status::complete) << p.error_text();
    if (st != parse_status::complete)
      return took;
    auto r = p.take();
    auto n = std::to_string(expected);
    auto want = expected % 3 == 0 ? "/send/" + n : "/recv/" + n;
    EXPECT_EQ(r.target, want);
    EXPECT_EQ(r.body, expected % 3 == 0 ? n : "");
    if (r.target != want)
      return took; // one mismatch would repeat for every request after it
    ++expected;
    ++took;
  }
}

constexpr size_t many_requests = 10000;

} // namespace

TEST(HttpParser, TenThousandPipelinedRequestsFedInSmallPiecesComeWholeAndInOrder) {
  std::string stream;
  for (size_t i = 0; i < many_requests; ++i)
    stream += pipelined(i);
  request_parser p;
  size_t expected = 0;
  // Pieces of 1 to 13 bytes: most requests are cut several times, and
  // many pieces hold the end of one request and the start of the next.
  for (size_t at = 0, k = 0; at < stream.size(); ++k) {
    size_t len = std::min<size_t>(1 + k % 13, stream.size() - at);
    p.feed(std::string_view{stream}.substr(at, len));
    at += len;
    drain(p, expected);
    ASSERT_FALSE(::testing::Test::HasFailure()) << "at byte " << at;
  }
  EXPECT_EQ(expected, many_requests);
  EXPECT_FALSE(p.mid_request());
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(HttpParser, TenThousandPipelinedRequestsFedAtOnceComeWholeAndInOrder) {
  std::string stream;
  for (size_t i = 0; i < many_requests; ++i)
    stream += pipelined(i);
  request_parser p;
  ASSERT_LT(stream.size(), p.lim().max_header_bytes + p.lim().max_body_bytes);
  p.feed(stream);
  size_t expected = 0;
  EXPECT_EQ(drain(p, expected), many_requests);
  EXPECT_EQ(p.buffered(), 0u);
  // The parser goes on after the burst.
  p.feed(pipelined(many_requests));
  EXPECT_EQ(drain(p, expected), 1u);
}
