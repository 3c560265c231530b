#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace p2pd::net::http {

/// One parsed HTTP/1.x request (the REST API's, actors of rest/).
struct request {
  std::string method;  ///< as sent: "GET", "POST", ... (case-sensitive, RFC 9110)
  std::string target;  ///< origin-form: "/path?query", still percent-encoded
  int minor = 1;       ///< HTTP/1.<minor>: 0 or 1
  /// In order of arrival; names in lower case, values without the
  /// surrounding white space.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Whether the connection stays open after the answer: HTTP/1.1 unless
  /// "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = true;

  /// The first header named `name` (lower case), if any.
  std::optional<std::string_view> header(std::string_view name) const;
  /// How many headers are named `name`.
  size_t count(std::string_view name) const;
  /// The path without the query.
  std::string_view path() const;
  /// The query without '?', empty if none.
  std::string_view query() const;
};

} // namespace p2pd::net::http
