#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "p2pd/net/http/http_request.hpp"

// Who may use the REST API (design-notes "REST API"): a request must name
// the server by a loopback Host (DNS rebinding: a page of evil.example whose
// name resolves to 127.0.0.1 sends "Host: evil.example"), come from no other
// origin than the server's own (a page elsewhere in the user's browser
// sends its Origin), and carry the bearer token, except the status page's
// static files, which hold no data.

namespace p2pd::rest {

/// Why a request is refused; none: it may pass.
struct refusal {
  int status = 0;
  std::string why;
};

/// The Host values the server answers to on `port`: 127.0.0.1:PORT,
/// [::1]:PORT and localhost:PORT (case-insensitive).
bool host_allowed(std::string_view host, uint16_t port);

/// The Origin values allowed: http:// and the Host values above.
bool origin_allowed(std::string_view origin, uint16_t port);

/// Whether `authorization` is "Bearer <token>" (the scheme case-insensitive,
/// the token compared in constant time).
bool bearer_ok(std::optional<std::string_view> authorization, std::string_view token);

/// The checks every request goes through; `needs_token` is false for the
/// status page's files. 403 for a bad Host or Origin, 401 without the token.
std::optional<refusal> check_request(const net::http::request& req, uint16_t port,
                                     std::string_view token, bool needs_token);

} // namespace p2pd::rest
