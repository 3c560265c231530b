#include "p2pd/net/sock/port_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "p2pd/net/util/data_dir.hpp"

// Why a lock file is never unlinked, not on release and not when found stale:
// process A holds the lock; B opens the file and blocks or fails on flock; A
// unlinks the file and unlocks; B now locks the unlinked inode while C creates
// a new file under the same name and locks that: B and C both hold "the" lock.
// Keeping the files costs one small file per port ever served.

namespace p2pd::net {

namespace {

const char* proto_name(protocol p) {
  return p == protocol::tcp ? "tcp" : "udp";
}

// "port 8000/tcp on 127.0.0.1"
std::string describe(protocol proto, const ip_address& ip, uint16_t port) {
  return "port " + std::to_string(port) + "/" + proto_name(proto) + " on " + ip.to_string();
}

// The pid the holder wrote, 0 if none can be read: the holder may have locked
// but not yet written, or may be an older version that writes nothing.
pid_t read_holder(int fd) {
  char buf[32];
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  long pid = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9' && pid < 1'000'000'000; ++i)
    pid = pid * 10 + (buf[i] - '0');
  return static_cast<pid_t>(pid);
}

// Writes "<pid>\n" over the old content, then cuts the file to that length:
// a reader sees the new pid or the old one, never an empty file in between.
error write_pid(int fd, const std::string& path) {
  std::string text = std::to_string(::getpid()) + "\n";
  ssize_t n;
  do
    n = ::pwrite(fd, text.data(), text.size(), 0);
  while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(text.size()))
    return sys_error(errc::io_failed, "cannot write the pid into lock file " + path,
                     n < 0 ? errno : EIO);
  if (::ftruncate(fd, static_cast<off_t>(text.size())) != 0)
    return sys_error(errc::io_failed, "cannot truncate lock file " + path, errno);
  return {};
}

// Opens (creating) the lock file, which must be our regular file, mode 0600.
result<unique_fd> open_lock_file(const std::string& path) {
  // O_NOFOLLOW: a planted symlink must not make us create or lock another file.
  unique_fd fd{::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600)};
  if (!fd)
    return sys_error(errc::io_failed, "cannot open lock file " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return sys_error(errc::io_failed, "cannot stat lock file " + path, errno);
  if (!S_ISREG(st.st_mode))
    return error{errc::io_failed, "lock file " + path + " is not a regular file"};
  // The umask may have made a new file 0400 (then nobody could reopen it for
  // writing), or an old file may be looser: the pid is nobody else's business.
  if ((st.st_mode & 07777) != 0600 && st.st_uid == ::geteuid()
      && ::fchmod(fd.get(), 0600) != 0)
    return sys_error(errc::io_failed, "cannot set mode 0600 on lock file " + path, errno);
  return fd;
}

} // namespace

port_lock::port_lock(unique_fd fd, std::string path)
  : fd_(std::move(fd)), path_(std::move(path)), owner_(::getpid()) {}

port_lock::port_lock(port_lock&& other) noexcept
  : fd_(std::move(other.fd_)), path_(std::move(other.path_)), owner_(other.owner_) {
  other.path_.clear();
}

port_lock& port_lock::operator=(port_lock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::move(other.fd_);
    path_ = std::move(other.path_);
    owner_ = other.owner_;
    other.path_.clear();
  }
  return *this;
}

port_lock::~port_lock() {
  release();
}

void port_lock::release() noexcept {
  if (!fd_)
    return;
  // Unlock explicitly rather than rely on close(): a forked child may share
  // the description, and closing our descriptor would leave the lock with it.
  // Only the acquiring process unlocks, for the same reason the other way
  // round: a child's release must not unlock its parent's lock.
  if (owner_ == ::getpid())
    ::flock(fd_.get(), LOCK_UN);
  fd_ = unique_fd{};
  path_.clear();
}

std::string port_lock::file_name(family fam, protocol proto, const ip_address& ip,
                                 uint16_t port) {
  std::string addr = ip.with_scope(0).to_string();
  for (char& c : addr)
    if (c == ':')
      c = '-';
  if (ip.scope_id() != 0)
    addr += "-scope" + std::to_string(ip.scope_id());
  return std::string{fam == family::v4 ? "v4" : "v6"} + "_" + proto_name(proto) + "_" + addr
         + "_" + std::to_string(port) + ".lock";
}

namespace {

// What can be wrong with a lock's key, before anything touches the disk.
error check_key(family fam, const ip_address& ip, uint16_t port) {
  if (port == 0)
    return error{errc::invalid_argument,
                 "cannot lock port 0 on " + ip.to_string()
                   + ": lock after binding, with the port the socket got"};
  if (fam != ip.fam())
    return error{errc::invalid_argument, std::string{"cannot lock an "} + to_string(fam)
                                           + " port on " + to_string(ip.fam())
                                           + " address " + ip.to_string()};
  return {};
}

} // namespace

result<port_lock> port_lock::acquire(const std::string& data_dir, family fam, protocol proto,
                                     const ip_address& ip, uint16_t port) {
  if (auto err = check_key(fam, ip, port))
    return err;
  auto locks = open_lock_dir(data_dir);
  if (!locks)
    return locks.error();
  return acquire_in(*locks, fam, proto, ip, port);
}

result<std::string> port_lock::open_lock_dir(const std::string& data_dir) {
  auto dir = open_data_dir(data_dir);
  if (!dir)
    return dir.error();
  std::string locks = *dir + "/locks";
  if (auto err = ensure_private_dir(locks, "lock directory"))
    return err;
  return locks;
}

result<port_lock> port_lock::acquire_in(const std::string& locks, family fam, protocol proto,
                                        const ip_address& ip, uint16_t port) {
  if (auto err = check_key(fam, ip, port))
    return err;
  std::string path = locks + "/" + file_name(fam, proto, ip, port);
  auto fd = open_lock_file(path);
  if (!fd)
    return fd.error();
  int rc;
  do
    rc = ::flock(fd->get(), LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno != EWOULDBLOCK)
      return sys_error(errc::io_failed, "cannot lock " + path, errno);
    pid_t holder = read_holder(fd->get());
    std::string who = holder == 0 ? std::string{"another process"}
                                  : "pid " + std::to_string(holder);
    std::string self = holder == ::getpid() ? "this process, " : "";
    return error{errc::port_locked, describe(proto, ip, port) + " is held by " + who + " ("
                                      + self + "lock " + path + ")"};
  }
  port_lock lock{std::move(*fd), path};
  if (auto err = write_pid(lock.fd_.get(), path))
    return err; // ~port_lock unlocks
  return lock;
}

} // namespace p2pd::net
