#pragma once

#include <atomic>
#include <set>
#include <string>
#include <thread>

// A resolver that tests control, inside a network namespace of their own
// (netns.hpp): /etc/resolv.conf is replaced in a private mount
// namespace, and a small DNS server on 127.0.0.1:53 answers as told. The
// host's resolver and files are never touched.

namespace p2pd::test {

/// In a child already in a new network namespace: enters a new mount
/// namespace, makes every mount private, and bind-mounts a file holding
/// `text` over /etc/resolv.conf. Returns "" or what failed. Needs root.
std::string use_resolv_conf(const std::string& text);

/// A DNS server on UDP 127.0.0.1:53 (loopback must be up) that answers
/// NXDOMAIN for the names in `nxdomain` and never answers any other query,
/// like a resolver that is down. It serves on a thread until destroyed.
class fake_dns {
public:
  explicit fake_dns(std::set<std::string> nxdomain);
  ~fake_dns();
  fake_dns(const fake_dns&) = delete;
  fake_dns& operator=(const fake_dns&) = delete;

  /// "" once serving, else why it could not start.
  const std::string& error() const { return error_; }
  /// Queries received so far.
  int queries() const { return queries_.load(); }

private:
  void serve();

  std::set<std::string> nxdomain_;
  int fd_ = -1;
  std::string error_;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

} // namespace p2pd::test
