#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace p2pd::net::http {

/// An HTTP response before it is written.
struct response {
  int status = 200;
  /// Besides Content-Length and Connection, which serialize() writes.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// Sets (or replaces) a header.
  response& set(std::string name, std::string value);
};

/// The reason phrase of `status` ("Not Found"); "Unknown" for codes not listed.
std::string_view reason(int status);

/// The bytes of `r` as an HTTP/1.1 response: the status line, its headers,
/// Content-Length, "Connection: close" unless `keep_alive`, the body.
/// Header names and values with CR or LF are dropped (no header injection).
std::string serialize(const response& r, bool keep_alive);

/// "HTTP/1.1 100 Continue" and its empty line.
std::string_view continue_response();

/// Percent-decodes `s` (RFC 3986); with `plus_is_space` (query strings of
/// forms) '+' is a space. Empty on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);

/// The value of `key` in a query string "a=1&b=2", decoded; none if absent
/// or malformed.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

} // namespace p2pd::net::http
