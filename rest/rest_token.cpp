#include "p2pd/rest/rest_token.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "p2pd/net/sock/socket.hpp"
#include "p2pd/net/util/digits.hpp"

namespace p2pd::rest {

namespace {

using net::errc;

constexpr size_t token_bytes = 32;

bool is_token(std::string_view s) {
  if (s.size() != 2 * token_bytes)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

net::error refused(const std::string& path, const std::string& why) {
  return {errc::bad_key_file, "REST token file " + path + " " + why};
}

// Reads an existing token file, after the checks a key file gets.
net::result<std::string> read_token(const std::string& path) {
  net::unique_fd fd{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (!fd) {
    if (errno == ELOOP)
      return refused(path, "is a symbolic link; it must be a regular file of mode 0600");
    return net::sys_error(errc::io_failed, "cannot open REST token file " + path, errno);
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0)
    return net::sys_error(errc::io_failed, "cannot stat REST token file " + path, errno);
  if (!S_ISREG(st.st_mode))
    return refused(path, "is not a regular file");
  if (st.st_uid != ::geteuid())
    return refused(path, "belongs to another user");
  if ((st.st_mode & 07777) != 0600) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return refused(path, std::string("has mode ") + mode + "; it must be 0600 (chmod 600 it)");
  }
  char buf[2 * token_bytes + 2];
  auto n = ::read(fd.get(), buf, sizeof buf);
  if (n < 0)
    return net::sys_error(errc::io_failed, "cannot read REST token file " + path, errno);
  std::string text(buf, static_cast<size_t>(n));
  if (!text.empty() && text.back() == '\n')
    text.pop_back();
  if (!is_token(text))
    return refused(path, "does not hold a token (64 hex characters); delete it to get a new one");
  return text;
}

} // namespace

net::result<token_file> load_or_create_token(const std::string& dir) {
  std::string path = dir + "/" + token_file_name;
  if (::access(path.c_str(), F_OK) == 0 || errno != ENOENT) {
    auto t = read_token(path);
    if (!t)
      return t.error();
    return token_file{path, std::move(*t)};
  }
  unsigned char raw[token_bytes];
  if (RAND_priv_bytes(raw, sizeof raw) != 1)
    return net::error{errc::crypto_failed, "cannot draw random bytes for a REST token"};
  auto token = net::to_hex(raw, sizeof raw);
  OPENSSL_cleanse(raw, sizeof raw);
  unsigned char salt[8];
  if (RAND_bytes(salt, sizeof salt) != 1)
    return net::error{errc::crypto_failed, "cannot draw random bytes for a temporary name"};
  std::string temp = path + ".tmp-" + std::to_string(::getpid()) + net::to_hex(salt, sizeof salt);
  net::unique_fd fd{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (!fd)
    return net::sys_error(errc::io_failed, "cannot create " + temp, errno);
  std::string line = token + "\n";
  bool ok = ::fchmod(fd.get(), 0600) == 0
            && ::write(fd.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size())
            && ::fsync(fd.get()) == 0;
  int err = errno;
  fd = net::unique_fd{};
  if (!ok) {
    ::unlink(temp.c_str());
    return net::sys_error(errc::io_failed, "cannot write REST token file " + temp, err);
  }
  // link() never replaces a name: of two processes creating it at once,
  // one wins and the other reads the winner's token.
  int linked = ::link(temp.c_str(), path.c_str());
  err = errno;
  ::unlink(temp.c_str());
  if (linked != 0) {
    if (err != EEXIST)
      return net::sys_error(errc::io_failed, "cannot put REST token file " + path + " in place",
                            err);
    auto t = read_token(path);
    if (!t)
      return t.error();
    token = std::move(*t);
  }
  return token_file{path, std::move(token)};
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace p2pd::rest
