#include "token.hpp"

#include <cstdlib>
#include <fstream>

#include "p2pd/messages/errors.hpp"

namespace p2pd::harness {

caf::expected<std::string> load_token(const std::string& file) {
  std::string token;
  if (!file.empty()) {
    std::ifstream in{file};
    if (!in || !std::getline(in, token))
      return make_error(errc::invalid_argument, "token: cannot read a line from '" + file + "'");
  } else if (const char* env = std::getenv("P2PD_HARNESS_TOKEN")) {
    token = env;
  } else {
    return make_error(errc::invalid_argument,
                      "token: neither --token-file nor $P2PD_HARNESS_TOKEN given");
  }
  auto ws = " \t\r\n";
  auto b = token.find_first_not_of(ws);
  token = b == std::string::npos ? std::string{}
                                 : token.substr(b, token.find_last_not_of(ws) - b + 1);
  if (token.size() < min_token_size)
    return make_error(errc::invalid_argument, "token: " + std::to_string(token.size())
                                                + " characters, at least "
                                                + std::to_string(min_token_size) + " needed");
  return token;
}

bool token_matches(std::string_view expected, std::string_view given) {
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(expected[i])
            ^ static_cast<unsigned char>(i < given.size() ? given[i] : 0);
  return diff == 0;
}

} // namespace p2pd::harness
