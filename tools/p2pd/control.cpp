#include "control.hpp"

namespace p2pd::cli {

std::string encode(const control_message& m) {
  std::string out{control_prefix};
  switch (m.kind) {
    case control_kind::ping:
      return out + "ping " + std::to_string(m.seq);
    case control_kind::pong:
      return out + "pong " + std::to_string(m.seq);
    case control_kind::bye:
      return out + "bye";
  }
  return out;
}

std::optional<control_message> decode_control(std::string_view data) {
  if (!looks_like_control(data))
    return std::nullopt;
  auto rest = data.substr(control_prefix.size());
  if (rest == "bye")
    return control_message{control_kind::bye, 0};
  control_message m;
  if (rest.substr(0, 5) == "ping ")
    m.kind = control_kind::ping;
  else if (rest.substr(0, 5) == "pong ")
    m.kind = control_kind::pong;
  else
    return std::nullopt;
  auto digits = rest.substr(5);
  if (digits.empty() || digits.size() > 19)
    return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    m.seq = m.seq * 10 + static_cast<uint64_t>(c - '0');
  }
  return m;
}

} // namespace p2pd::cli
