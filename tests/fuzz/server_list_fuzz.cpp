// Fuzz target for the server file parser: any text parses or is refused with
// an error naming its line; every entry parsed has a host and a port (mqtt:
// a URI), and comes from a line that exists.

#include <algorithm>
#include <string_view>

#include "fuzz_main.hpp"
#include "p2pd/net/util/server_list.hpp"

using namespace p2pd::net;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("server_list_fuzz", what);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto list = parse_server_list(text);
  if (!list) {
    check(list.error().code == errc::invalid_argument, "refused with an unexpected code");
    check(list.error().what.rfind("line ", 0) == 0, "an error that does not name its line");
    return 0;
  }
  auto lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const auto& e : *list) {
    check(!e.host.empty(), "an entry without a host");
    check(e.kind == server_kind::mqtt || e.port != 0, "an entry without a port");
    check(e.line >= 1 && e.line <= lines, "an entry from a line that does not exist");
  }
  return 0;
}

P2PD_FUZZ_MAIN("server_list_fuzz")
