#include "p2pd/rest/rest_guard.hpp"

#include <cctype>

#include "p2pd/rest/rest_token.hpp"

namespace p2pd::rest {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

} // namespace

bool host_allowed(std::string_view host, uint16_t port) {
  auto p = ":" + std::to_string(port);
  for (std::string_view name : {"127.0.0.1", "[::1]", "localhost"})
    if (iequals(host, std::string(name) + p))
      return true;
  return false;
}

bool origin_allowed(std::string_view origin, uint16_t port) {
  constexpr std::string_view scheme = "http://";
  if (origin.size() <= scheme.size() || !iequals(origin.substr(0, scheme.size()), scheme))
    return false;
  return host_allowed(origin.substr(scheme.size()), port);
}

bool bearer_ok(std::optional<std::string_view> authorization, std::string_view token) {
  constexpr std::string_view scheme = "bearer ";
  if (!authorization || authorization->size() <= scheme.size()
      || !iequals(authorization->substr(0, scheme.size()), scheme))
    return false;
  auto given = authorization->substr(scheme.size());
  while (!given.empty() && given.front() == ' ')
    given.remove_prefix(1);
  return !token.empty() && constant_time_equal(given, token);
}

std::optional<refusal> check_request(const net::http::request& req, uint16_t port,
                                     std::string_view token, bool needs_token) {
  auto host = req.header("host");
  if (!host || !host_allowed(*host, port))
    return refusal{403, "the Host header must be 127.0.0.1:" + std::to_string(port) + ", [::1]:"
                          + std::to_string(port) + " or localhost:" + std::to_string(port)};
  if (req.count("origin") > 1)
    return refusal{403, "more than one Origin header"};
  if (auto origin = req.header("origin"); origin && !origin_allowed(*origin, port))
    return refusal{403, "requests from origin '" + std::string(*origin)
                          + "' are refused: only the server's own pages may call the API"};
  if (needs_token && !bearer_ok(req.header("authorization"), token))
    return refusal{401, req.header("authorization")
                          ? "wrong token"
                          : "no token: send 'Authorization: Bearer <token>' (the token is in "
                            "the node's data directory, file rest_token)"};
  return std::nullopt;
}

} // namespace p2pd::rest
