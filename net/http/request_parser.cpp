#include "p2pd/net/http/request_parser.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace p2pd::net::http {

namespace {

// RFC 9110 5.6.2: the characters of a token (methods, header names).
bool is_tchar(unsigned char c) {
  if (std::isalnum(c))
    return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty())
    return false;
  for (unsigned char c : s)
    if (!is_tchar(c))
      return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Whether the comma-separated list `v` holds `token` (case-insensitive).
bool list_has(std::string_view v, std::string_view token) {
  while (!v.empty()) {
    auto comma = v.find(',');
    auto item = trim_ows(v.substr(0, comma));
    if (lower(item) == token)
      return true;
    if (comma == std::string_view::npos)
      break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

// One line of [from, end of buffer): its text without CRLF / LF, and where
// the next line starts; npos when no LF is buffered yet. The LF is looked
// for from `search_from` on (known to have none before it).
struct line_at {
  std::string_view text;
  size_t next = std::string_view::npos;
};

line_at line_from(std::string_view buf, size_t from, size_t search_from = 0) {
  auto nl = buf.find('\n', std::max(from, search_from));
  if (nl == std::string_view::npos)
    return {};
  auto text = buf.substr(from, nl - from);
  if (!text.empty() && text.back() == '\r')
    text.remove_suffix(1);
  return {text, nl + 1};
}

} // namespace

void request_parser::restart_scan() {
  scan_ = searched_ = pos_;
  seen_request_line_ = false;
}

void request_parser::feed(std::string_view data) {
  if (state_ == state::failed)
    return;
  // Nothing is buffered beyond one request's worth past what is parsed: a
  // client that pipelines more than that while an answer is pending gets
  // an error instead of our memory.
  size_t cap = lim_.max_header_bytes + lim_.max_body_bytes;
  size_t room = buffered() >= cap ? 0 : cap - buffered();
  if (data.size() > room) {
    overflow_ = true;
    data = data.substr(0, room);
  }
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
    restart_scan();
  }
  buf_.append(data.data(), data.size());
}

parse_status request_parser::fail(int status, std::string why) {
  state_ = state::failed;
  err_status_ = status;
  err_text_ = std::move(why);
  buf_.clear();
  pos_ = 0;
  restart_scan();
  return parse_status::error;
}

// Decided on the first max_header_bytes alone, so that the answer does not
// depend on how the stream was cut.
parse_status request_parser::head_too_long() {
  auto head = std::string_view{buf_}.substr(pos_, lim_.max_header_bytes);
  if (head.find('\n') == std::string_view::npos)
    return fail(414, "request line longer than " + std::to_string(lim_.max_header_bytes)
                       + " bytes");
  return fail(431, "request head longer than " + std::to_string(lim_.max_header_bytes) + " bytes");
}

parse_status request_parser::next() {
  switch (state_) {
    case state::failed:
      return parse_status::error;
    case state::done:
      return parse_status::complete;
    case state::body:
      break;
    case state::idle: {
      // The head ends at the first empty line after the request line; empty
      // lines before a request line are skipped (RFC 9112 2.2).
      size_t head_end = std::string_view::npos;
      size_t body_start = 0;
      for (;;) {
        auto l = line_from(buf_, scan_, searched_);
        if (l.next == std::string_view::npos) {
          searched_ = buf_.size();
          break;
        }
        if (!seen_request_line_) {
          if (l.text.empty())
            pos_ = l.next;
          else
            seen_request_line_ = true;
        } else if (l.text.empty()) {
          head_end = scan_;
          body_start = l.next;
          break;
        }
        scan_ = searched_ = l.next;
      }
      if (head_end == std::string_view::npos) {
        if (overflow_)
          return fail(431, "more bytes than a request may have before an answer");
        if (buf_.size() - pos_ > lim_.max_header_bytes)
          return head_too_long();
        return parse_status::need_more;
      }
      if (body_start - pos_ > lim_.max_header_bytes)
        return head_too_long();
      auto st = parse_head(head_end, body_start);
      if (st == parse_status::error)
        return st;
      break;
    }
  }
  // state::body: pos_ is the body's start.
  if (buffered() >= body_len_) {
    req_.body.assign(buf_, pos_, body_len_);
    pos_ += body_len_;
    state_ = state::done;
    return parse_status::complete;
  }
  if (expect_continue_ && !continue_sent_) {
    continue_sent_ = true;
    return parse_status::continue_needed;
  }
  if (overflow_)
    return fail(413, "more bytes than a request may have before an answer");
  return parse_status::need_more;
}

parse_status request_parser::parse_head(size_t head_end, size_t body_start) {
  std::string_view buf{buf_};
  req_ = request{};
  // Request line: method SP request-target SP HTTP-version.
  auto l = line_from(buf, pos_);
  auto line = l.text;
  if (line.find('\r') != std::string_view::npos)
    return fail(400, "a bare CR in the request line");
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(400, "the request line is not 'METHOD /target HTTP/1.1'");
  auto method = line.substr(0, sp1);
  auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto version = line.substr(sp2 + 1);
  if (!is_token(method))
    return fail(400, "the method is not a token");
  if (target.empty() || target.front() != '/')
    return fail(400, "the target must be a path beginning with '/'");
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7f)
      return fail(400, "the target has a byte that must be percent-encoded");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !std::isdigit(static_cast<unsigned char>(version[5]))
      || version[6] != '.' || !std::isdigit(static_cast<unsigned char>(version[7])))
    return fail(400, "the version is not HTTP/d.d");
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
    return fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
  req_.method = std::string(method);
  req_.target = std::string(target);
  req_.minor = version[7] - '0';
  // Header fields up to the empty line.
  for (size_t at = l.next; at < head_end;) {
    auto h = line_from(buf, at);
    at = h.next;
    auto text = h.text;
    if (text.front() == ' ' || text.front() == '\t')
      return fail(400, "obsolete line folding in a header");
    auto colon = text.find(':');
    if (colon == std::string_view::npos)
      return fail(400, "a header line without ':'");
    auto name = text.substr(0, colon);
    if (!is_token(name))
      return fail(400, "a header name that is not a token (or white space before ':')");
    auto value = trim_ows(text.substr(colon + 1));
    for (unsigned char c : value)
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return fail(400, "a control character in header " + std::string(name));
    if (req_.headers.size() == lim_.max_headers)
      return fail(431, "more than " + std::to_string(lim_.max_headers) + " headers");
    req_.headers.emplace_back(lower(name), std::string(value));
  }
  // RFC 9112 3.2: a 1.1 request has exactly one Host.
  auto hosts = req_.count("host");
  if (hosts > 1 || (req_.minor == 1 && hosts == 0))
    return fail(400, hosts > 1 ? "more than one Host header" : "no Host header");
  // The body's length (RFC 9112 6.3): Transfer-Encoding is not served, and
  // with Content-Length too it is a smuggling attempt.
  if (req_.count("transfer-encoding") > 0) {
    if (req_.count("content-length") > 0)
      return fail(400, "both Transfer-Encoding and Content-Length");
    return fail(501, "Transfer-Encoding is not supported in requests; send Content-Length");
  }
  body_len_ = 0;
  std::optional<std::string_view> first_len;
  for (const auto& [k, v] : req_.headers) {
    if (k != "content-length")
      continue;
    if (first_len && *first_len != v)
      return fail(400, "Content-Length headers that disagree");
    first_len = v;
    if (v.empty() || v.size() > 19)
      return fail(400, "a Content-Length that is not a number");
    size_t n = 0;
    for (unsigned char c : v) {
      if (!std::isdigit(c))
        return fail(400, "a Content-Length that is not a number");
      n = n * 10 + (c - '0');
    }
    body_len_ = n;
  }
  if (body_len_ > lim_.max_body_bytes)
    return fail(413, "a body of " + std::to_string(body_len_) + " bytes; at most "
                       + std::to_string(lim_.max_body_bytes) + " are accepted");
  auto conn = req_.header("connection");
  if (req_.minor == 1)
    req_.keep_alive = !(conn && list_has(*conn, "close"));
  else
    req_.keep_alive = conn && list_has(*conn, "keep-alive") && !list_has(*conn, "close");
  expect_continue_ = false;
  continue_sent_ = false;
  if (auto e = req_.header("expect")) {
    if (lower(*e) != "100-continue")
      return fail(417, "only 'Expect: 100-continue' is understood");
    expect_continue_ = req_.minor == 1 && body_len_ > 0;
  }
  pos_ = body_start;
  state_ = state::body;
  return parse_status::need_more;
}

request request_parser::take() {
  request out = std::move(req_);
  req_ = request{};
  if (state_ == state::done)
    state_ = state::idle;
  // Keep what follows (a pipelined request); drop what is parsed once it is
  // at least half the buffer, so that a burst of n pipelined requests moves
  // each byte O(1) times on average, not n times.
  if (pos_ > 0 && pos_ >= buf_.size() - pos_) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  restart_scan();
  return out;
}

} // namespace p2pd::net::http
