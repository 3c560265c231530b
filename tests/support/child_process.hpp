#pragma once

// A server program a test starts and stops: coturn, mosquitto. Started with
// posix_spawn (no shell), its output into a log file, killed (SIGTERM, then
// SIGKILL after a bounded wait) when the object goes.

#include <sys/types.h>

#include <string>
#include <vector>

#include "files.hpp" // read_file, for a server's log

namespace p2pd::test {

class child_process {
public:
  child_process() = default;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  ~child_process();

  /// Starts `argv[0]` (a path, or a name looked up in PATH) with `argv`, its
  /// stdout and stderr appended to `log_path`. Returns false (and `why`) if
  /// it could not be started.
  bool start(const std::vector<std::string>& argv, const std::string& log_path,
             std::string& why);

  /// True while the process has not exited.
  bool alive();
  /// Waits up to `timeout_ms` for the process to exit (a pidfd, no polling);
  /// true if it did.
  bool wait_exit(int timeout_ms);
  /// Waits up to `timeout_ms` until the file at `path` contains `needle` past
  /// byte `from` (a server's log line saying it is ready), woken by inotify
  /// when the file changes and by the pidfd when the process exits. False on
  /// timeout or exit.
  bool wait_for_text(const std::string& path, const std::string& needle, size_t from,
                     int timeout_ms);
  /// SIGTERM, waits up to 5 s, then SIGKILL. Idempotent.
  void stop();
  pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
};

/// True if `tool` is found in PATH (or is an executable path).
bool have_program(const std::string& tool);

/// True if `why`, a server fixture's reason for not starting, is that the
/// server is not installed (it then starts with "not installed"): a reason
/// to skip a test, where a server that does not come up fails it.
inline bool not_installed(const std::string& why) {
  return why.rfind("not installed", 0) == 0;
}

} // namespace p2pd::test
