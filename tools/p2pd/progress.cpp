#include "cli.hpp"

#include <unistd.h>

namespace p2pd::cli {

bool progress_on_stderr() {
  static const bool tty = ::isatty(STDERR_FILENO) == 1;
  return tty;
}

void progress(const std::string& what) {
  if (progress_on_stderr())
    std::cerr << "p2pd: " << what << '\n';
}

} // namespace p2pd::cli
