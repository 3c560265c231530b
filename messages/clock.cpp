#include "p2pd/messages/clock.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace p2pd {

std::string ms_text(int64_t ns) {
  // In unsigned arithmetic, so that |INT64_MIN| does not overflow.
  auto a = ns < 0 ? uint64_t{0} - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%c%" PRIu64 ".%03" PRIu64 " ms", ns < 0 ? '-' : '+',
                a / 1'000'000, (a % 1'000'000) / 1'000);
  return buf;
}

std::string clock_offset::to_string() const {
  auto err = ms_text(error_ns);
  return ms_text(offset_ns) + " +- " + err.substr(1) + " from " + std::to_string(servers)
         + " of " + std::to_string(asked) + " servers (round " + std::to_string(round) + ")";
}

} // namespace p2pd
