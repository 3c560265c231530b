#pragma once

// chronyd (Debian's chrony) as an NTP server on loopback, started by the
// test on a free port: it serves its own clock (local stratum 8, no
// sources), never touches the system clock (-x), keeps its pid and drift
// files in a temporary directory, opens no command socket, and exits by
// itself after 10 minutes should the test die without stopping it (-t).
// Stopped when the object goes.

#include <memory>
#include <string>

#include "child_process.hpp"
#include "temp_dir.hpp"

#include "p2pd/net/addr/address.hpp"

namespace p2pd::test {

class chrony_server {
public:
  /// Starts chronyd and waits (at most 10 s) until it answers an NTP
  /// request. nullptr and `why` when it is not installed (why starts with
  /// "not installed") or does not come up.
  static std::unique_ptr<chrony_server> start(std::string& why);

  /// 127.0.0.1 and its port.
  net::endpoint endpoint() const { return ep_; }

  std::string log() const;

private:
  chrony_server() = default;
  temp_dir dir_{"p2pd-chrony-"};
  child_process proc_;
  net::endpoint ep_;
};

} // namespace p2pd::test
