#pragma once

// A private temporary directory for a test, removed with its contents when
// the test ends. Daemons in tests keep their port locks there
// (daemon_spec::data_dir), never in the user's ~/.p2pd.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace p2pd::test {

class temp_dir {
public:
  /// mkdtemp() under $TMPDIR (or /tmp): a new directory of mode 0700, which
  /// open_data_dir() accepts. path() is empty if it could not be made.
  explicit temp_dir(const std::string& prefix = "p2pd-test-") {
    std::error_code ec;
    auto base = std::filesystem::temp_directory_path(ec);
    std::string tmpl = (ec ? std::string{"/tmp"} : base.string()) + "/" + prefix + "XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr)
      path_ = std::move(tmpl);
  }

  ~temp_dir() {
    if (!path_.empty()) {
      std::error_code ec; // best effort: a destructor does not throw
      std::filesystem::remove_all(path_, ec);
    }
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  explicit operator bool() const { return !path_.empty(); }

private:
  std::string path_;
};

} // namespace p2pd::test
