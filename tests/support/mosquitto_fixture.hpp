#pragma once

// A mosquitto broker of the test's own: its own config in a temporary
// directory, a free port on 127.0.0.1, started as a child process and
// stopped when the object goes. The Debian package's service (port 1883,
// /etc/mosquitto) plays no part: the broker reads only our config (-c).

#include <cstdint>
#include <memory>
#include <string>

#include "child_process.hpp"
#include "temp_dir.hpp"

namespace p2pd::test {

class mosquitto_broker {
public:
  /// Starts /usr/sbin/mosquitto and waits (at most 10 s) until its port
  /// accepts a TCP connection. nullptr and `why` when it is not installed
  /// (why starts with "not installed") or does not come up.
  static std::unique_ptr<mosquitto_broker> start(std::string& why);

  /// Reserves a free port and writes the config, but starts nothing: for
  /// clients that must come up before their broker (start it with restart()).
  static std::unique_ptr<mosquitto_broker> prepare(std::string& why);

  uint16_t port() const { return port_; }
  /// "tcp://127.0.0.1:<port>"
  std::string uri() const;

  /// SIGTERM and wait: clients see their connection closed.
  void stop();
  /// SIGKILL and wait: a crash; messages it had not acknowledged are lost.
  void kill();
  /// Starts it again on the same port (stopping it first if it runs) and
  /// waits until it accepts connections; false and `why` if it does not.
  bool restart(std::string& why);
  /// SIGSTOP / SIGCONT: the broker holds still, its sockets stay open, so
  /// what clients send waits unanswered until resume().
  void pause();
  void resume();

  bool running() { return proc_.alive(); }
  std::string log() const;
  const std::string& dir() const { return dir_.path(); }

private:
  mosquitto_broker() = default;
  bool wait_until_up(size_t log_from, std::string& why);

  temp_dir dir_{"p2pd-mosquitto-"};
  child_process proc_;
  uint16_t port_ = 0;
  bool paused_ = false;
};

/// Where mosquitto and its clients are; empty if not installed.
std::string mosquitto_path();
std::string mosquitto_sub_path();
std::string mosquitto_pub_path();

} // namespace p2pd::test
