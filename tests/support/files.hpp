#pragma once

// Reading files back: a server's log, a file's permission bits. No
// GoogleTest here: the server fixtures (and the benchmark that starts
// mosquitto like the tests do) use these too.

#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace p2pd::test {

/// The file's contents; "" if it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The permission bits (07777) of `path` itself (lstat: a link is not
/// followed); nullopt if it does not exist.
inline std::optional<mode_t> mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return std::nullopt;
  return st.st_mode & 07777;
}

} // namespace p2pd::test
