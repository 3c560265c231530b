#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "p2pd/net/http/http_request.hpp"

// A bounded, incremental HTTP/1.0 and 1.1 request parser (RFC 9112) for the
// REST API: bytes arrive as the TCP stream cuts them, a request may span
// many reads and a read may hold several requests (pipelining). What it
// accepts is deliberately small: origin-form targets, Content-Length bodies
// (no chunked request bodies: 501), no obsolete line folding (400), at most
// limits::max_header_bytes of request line and headers (431) and
// limits::max_body_bytes of body (413, known from Content-Length before the
// body is read). Lines end with CRLF or a bare LF (RFC 9112 2.2 allows a
// recipient to take LF alone); a bare CR is refused. Once it has answered an
// error the parser is done: the connection is to be closed after the error
// response, since the stream's framing is lost.

namespace p2pd::net::http {

/// What a parser accepts.
struct limits {
  size_t max_header_bytes = 8 * 1024;  ///< request line + headers + blank line
  size_t max_body_bytes = 1024 * 1024;
  size_t max_headers = 64;
};

/// What next() found.
enum class parse_status {
  need_more,        ///< no whole request buffered yet
  continue_needed,  ///< headers done, "Expect: 100-continue": send 100 now, then call next() again
  complete,         ///< a request (take it with take())
  error,            ///< the buffered bytes are not a request we serve (see error_status())
};

class request_parser {
public:
  explicit request_parser(limits lim = {}) : lim_(lim) {}

  /// Appends bytes as they arrived. Bytes fed after an error are ignored.
  void feed(std::string_view data);

  /// Parses what is buffered: at most one request per call, so that a
  /// server answers pipelined requests in order.
  parse_status next();

  /// The request next() just completed; the parser moves on to the next one.
  request take();

  /// After an error: the HTTP status to answer (400, 413, 414, 417, 431, 501, 505)
  /// and why, in words for the client.
  int error_status() const { return err_status_; }
  const std::string& error_text() const { return err_text_; }

  /// Bytes buffered and not yet part of a returned request.
  size_t buffered() const { return buf_.size() - pos_; }

  /// Whether a request has begun (some of it is buffered): an idle
  /// keep-alive connection has not.
  bool mid_request() const { return state_ != state::idle || buffered() > 0; }

  const limits& lim() const { return lim_; }

private:
  enum class state { idle, body, done, failed };

  parse_status fail(int status, std::string why);
  parse_status parse_head(size_t head_end, size_t body_start);
  parse_status head_too_long();
  /// A new request begins at pos_: the scan starts over there.
  void restart_scan();

  limits lim_;
  std::string buf_;
  size_t pos_ = 0;  ///< where the current request starts in buf_
  /// The head's scan, kept across feeds (a rescan per feed would make a
  /// request fed in n pieces cost n times its length): where the next line
  /// not looked at begins, how far a '\n' was looked for from there, and
  /// whether the request line was seen.
  size_t scan_ = 0;
  size_t searched_ = 0;
  bool seen_request_line_ = false;
  state state_ = state::idle;
  request req_;
  size_t body_len_ = 0;
  bool expect_continue_ = false;
  bool continue_sent_ = false;
  bool overflow_ = false;  ///< feed() dropped bytes past the buffer's bound
  int err_status_ = 0;
  std::string err_text_;
};

} // namespace p2pd::net::http
