#include "p2pd/net/http/http_request.hpp"

namespace p2pd::net::http {

std::optional<std::string_view> request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name)
      return std::string_view{v};
  return std::nullopt;
}

size_t request::count(std::string_view name) const {
  size_t n = 0;
  for (const auto& h : headers)
    n += h.first == name;
  return n;
}

std::string_view request::path() const {
  std::string_view t{target};
  return t.substr(0, t.find('?'));
}

std::string_view request::query() const {
  std::string_view t{target};
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

} // namespace p2pd::net::http
