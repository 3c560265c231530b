#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/sock/socket.hpp"

// Port locks keep two p2pd processes from serving the same (family, protocol,
// ip, port) by accident: the job of the seed's "zombie pid" lock files. The
// kernel refuses a second listener itself unless both asked for SO_REUSEPORT
// (net_conf::reuse_addr); the lock still names the holder's pid, which
// bind()'s EADDRINUSE cannot, and keeps apart two processes of one data
// directory that both asked for sharing.
//
// A lock is an flock(LOCK_EX) on <data_dir>/locks/<name>.lock. The kernel drops
// an flock when the last descriptor of its open file description closes, so a
// lock dies with its process, kill -9 included: there are no stale locks to
// clean up, and the pid written into the file is only there to name the
// holder in the error.
//
// flock locks belong to open file descriptions, not to processes:
// - A second acquire of the same key in the SAME process opens the file again
//   and fails like any other process would. That is what we want: two
//   listeners of one process on one port are as much a mistake as two daemons.
// - A fork()ed child shares the parent's description, so it keeps the lock
//   alive after the parent dies, until it exits or closes the descriptor
//   (exec() closes it: it is O_CLOEXEC). Such a child's release() only closes
//   its copy; it never unlocks the parent's lock.
//
// These are advisory locks between cooperating p2pd processes; they do not
// check that the port is free (bind() does that) nor who else is listening.

namespace p2pd::net {

/// An exclusive, process-wide lock on a listen port. Movable, not copyable;
/// released by release() or the destructor. Acquire it after bind(), with
/// the port the socket really got.
class port_lock {
public:
  /// Holds nothing.
  port_lock() = default;
  port_lock(port_lock&& other) noexcept;
  port_lock& operator=(port_lock&& other) noexcept;
  port_lock(const port_lock&) = delete;
  port_lock& operator=(const port_lock&) = delete;
  ~port_lock();

  /// Locks (fam, proto, ip, port) in `data_dir`/locks/, creating and checking
  /// `data_dir` like open_data_dir and `locks/` like it (mode 0700). Fails
  /// without waiting. Errors:
  /// - errc::port_locked: "port 8000/tcp on 127.0.0.1 is held by pid 1234
  ///   (lock /root/.p2pd/locks/v4_tcp_127.0.0.1_8000.lock)";
  /// - errc::invalid_argument: port 0 (lock after binding, with the real port),
  ///   `fam` not the family of `ip`, an unsafe data directory;
  /// - errc::io_failed: the lock file cannot be created or locked.
  static result<port_lock> acquire(const std::string& data_dir, family fam, protocol proto,
                                   const ip_address& ip, uint16_t port);

  /// Creates and checks `data_dir` and its `locks/` once; returns the path of
  /// `locks/` for acquire_in (many locks, one check).
  static result<std::string> open_lock_dir(const std::string& data_dir);

  /// Like acquire, in a lock directory from open_lock_dir.
  static result<port_lock> acquire_in(const std::string& lock_dir, family fam, protocol proto,
                                      const ip_address& ip, uint16_t port);

  /// The lock file's name: "v4_tcp_127.0.0.1_8000.lock". IPv6 text has ':'
  /// replaced by '-' and a scope id as "-scope<index>", so that names use only
  /// POSIX portable characters: "v6_udp_fe80--1-scope3_8000.lock".
  static std::string file_name(family fam, protocol proto, const ip_address& ip,
                               uint16_t port);

  /// Unlocks and closes; a no-op if nothing is held. Never removes the file
  /// (see port_lock.cpp).
  void release() noexcept;

  bool held() const { return fd_.get() >= 0; }
  explicit operator bool() const { return held(); }

  /// The lock file's path; empty if nothing is held.
  const std::string& path() const { return path_; }

private:
  port_lock(unique_fd fd, std::string path);

  unique_fd fd_;
  std::string path_;
  /// The process that took the lock; only it may unlock (see above).
  pid_t owner_ = 0;
};

} // namespace p2pd::net
