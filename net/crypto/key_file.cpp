#include "p2pd/net/crypto/key_file.hpp"
#include "p2pd/net/util/data_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "p2pd/net/crypto/detail/openssl_util.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::net {

using namespace detail;

namespace {

// -- the key file ------------------------------------------------------------

constexpr char key_file_magic[] = "p2pd identity v1";
constexpr size_t magic_size = sizeof key_file_magic - 1;
constexpr size_t sign_offset = magic_size;
constexpr size_t agree_offset = sign_offset + 32;
constexpr size_t checksum_offset = agree_offset + 32;
static_assert(magic_size == 16, "the format's magic is 16 bytes");
static_assert(checksum_offset + 32 == identity_file_size, "the key file's layout");

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string key_name(const std::string& path) {
  return "identity key " + path;
}

error refused(const std::string& path, const std::string& why) {
  return error{errc::bad_key_file, key_name(path) + " " + why};
}

// The identity whose private keys a key file's bytes hold.
result<identity> identity_in(const uint8_t* data) {
  secret_bytes<32> sign_key;
  secret_bytes<32> agree_key;
  std::memcpy(sign_key.bytes.data(), data + sign_offset, 32);
  std::memcpy(agree_key.bytes.data(), data + agree_offset, 32);
  return identity::from_private_keys(sign_key.bytes, agree_key.bytes);
}

result<std::array<uint8_t, 32>> checksum(const uint8_t* data, size_t size) {
  std::array<uint8_t, 32> md{};
  unsigned int len = 0;
  if (EVP_Digest(data, size, md.data(), &len, EVP_sha256(), nullptr) != 1 || len != md.size())
    return crypto_error("cannot compute SHA-256");
  return md;
}

// Opens the key file for reading. An empty unique_fd: there is none.
result<unique_fd> open_key_file(int dir_fd, const std::string& path) {
  // O_NOFOLLOW: a planted link must not make us read (or, on a later start,
  // trust) another file as our key. O_NONBLOCK: a FIFO in its place must not
  // hang the start; it is refused below as not a regular file.
  unique_fd fd{::openat(dir_fd, identity_file_name,
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
  if (fd)
    return fd;
  if (errno == ENOENT)
    return unique_fd{};
  if (errno == ELOOP)
    return refused(path, "is a symbolic link; it must be a regular file of mode 0600");
  return sys_error(errc::io_failed, "cannot open " + key_name(path), errno);
}

result<identity> read_key_file(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return sys_error(errc::io_failed, "cannot stat " + key_name(path), errno);
  if (!S_ISREG(st.st_mode))
    return refused(path, "is not a regular file; it must be a regular file of mode 0600");
  // Another user who owns the file can change our keys, or read them.
  if (st.st_uid != ::geteuid())
    return refused(path, "is owned by uid " + std::to_string(st.st_uid)
                           + ", not by this user (uid " + std::to_string(::geteuid()) + ")");
  // The keys may already be in others' hands: tightening the mode now would
  // hide that, so a human has to decide.
  if ((st.st_mode & 077) != 0)
    return refused(path, "has mode " + mode_text(st.st_mode) + "; it must be 0600 (chmod 600 it)");
  auto size = static_cast<unsigned long long>(st.st_size);
  if (size < identity_file_size)
    return refused(path, "is truncated: " + std::to_string(size) + " bytes, an identity key has "
                           + std::to_string(identity_file_size));
  if (size > identity_file_size)
    return refused(path, "has " + std::to_string(size) + " bytes, an identity key has "
                           + std::to_string(identity_file_size) + "; it is not one");
  secret_bytes<identity_file_size> buf;
  size_t got = 0;
  while (got < buf.bytes.size()) {
    ssize_t n = ::pread(fd, buf.bytes.data() + got, buf.bytes.size() - got,
                        static_cast<off_t>(got));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return sys_error(errc::io_failed, "cannot read " + key_name(path), errno);
    if (n == 0)
      return refused(path, "is truncated: it shrank to " + std::to_string(got)
                             + " bytes while being read");
    got += static_cast<size_t>(n);
  }
  return parse_identity_key(buf.bytes.data(), buf.bytes.size(), path);
}

// Removes the temporary file unless told it was renamed.
struct temp_file_guard {
  int dir_fd;
  std::string name;
  bool armed = true;
  ~temp_file_guard() {
    if (armed)
      ::unlinkat(dir_fd, name.c_str(), 0);
  }
};

error write_all(int fd, const uint8_t* data, size_t size, const std::string& what) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return sys_error(errc::io_failed, what, errno);
    done += static_cast<size_t>(n);
  }
  return {};
}

// Gives the temporary file its real name unless that name exists. Returns
// false (no error) when another process got there first.
result<bool> publish(int dir_fd, const std::string& temp_name, const std::string& path) {
  if (::renameat2(dir_fd, temp_name.c_str(), dir_fd, identity_file_name, RENAME_NOREPLACE) == 0)
    return true;
  int err = errno;
  if (err == EEXIST)
    return false;
  if (err != EINVAL && err != ENOSYS && err != EOPNOTSUPP)
    return sys_error(errc::io_failed, "cannot rename the new " + key_name(path) + " into place",
                     err);
  // A file system without RENAME_NOREPLACE: a hard link does the same (it
  // never replaces a name); the temporary name is removed by the caller.
  if (::linkat(dir_fd, temp_name.c_str(), dir_fd, identity_file_name, 0) == 0)
    return true;
  if (errno == EEXIST)
    return false;
  return sys_error(errc::io_failed, "cannot link the new " + key_name(path) + " into place",
                   errno);
}

// Writes fresh keys to the key file. An empty optional: another process
// created the file meanwhile, and its keys are the ones to load.
result<std::optional<identity>> create_key_file(int dir_fd, const std::string& path) {
  secret_bytes<identity_file_size> buf;
  uint8_t* data = buf.bytes.data();
  std::memcpy(data, key_file_magic, magic_size);
  if (RAND_priv_bytes(data + sign_offset, 64) != 1)
    return crypto_error("cannot generate keys for a new " + key_name(path));
  auto sum = checksum(data, checksum_offset);
  if (!sum)
    return sum.error();
  std::memcpy(data + checksum_offset, sum->data(), sum->size());
  auto id = identity_in(data);
  if (!id)
    return id.error();

  std::array<uint8_t, 8> salt{};
  if (RAND_bytes(salt.data(), salt.size()) != 1)
    return crypto_error("cannot pick a temporary name for a new " + key_name(path));
  std::string temp_name = std::string{identity_file_name} + ".tmp-" + std::to_string(::getpid());
  for (uint8_t b : salt) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned>(b));
    temp_name += hex;
  }
  std::string what = "cannot create " + key_name(path);
  // O_EXCL|O_NOFOLLOW: the name is ours alone, even if someone planted a link.
  unique_fd fd{::openat(dir_fd, temp_name.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (!fd)
    return sys_error(errc::io_failed, what + ": cannot create temporary file " + temp_name, errno);
  temp_file_guard guard{dir_fd, temp_name};
  // A umask such as 0277 would leave 0400: still private, but the documented
  // mode is 0600.
  if (::fchmod(fd.get(), 0600) != 0)
    return sys_error(errc::io_failed, what + ": chmod 0600", errno);
  if (auto err = write_all(fd.get(), data, identity_file_size, what + ": write"))
    return err;
  // Without the sync, a crash soon after the rename can leave the real name
  // on an empty file.
  if (::fsync(fd.get()) != 0)
    return sys_error(errc::io_failed, what + ": fsync", errno);
  if (::close(fd.release()) != 0)
    return sys_error(errc::io_failed, what + ": close", errno);
  auto won = publish(dir_fd, temp_name, path);
  if (!won)
    return won.error();
  if (!*won)
    return std::optional<identity>{};
  // renameat2 removed the temporary name, link() did not: unlinking is
  // harmless after the former (ENOENT) and needed after the latter.
  ::unlinkat(dir_fd, temp_name.c_str(), 0);
  guard.armed = false;
  // The new name must survive a crash too, or the next start makes new keys.
  if (::fsync(dir_fd) != 0)
    return sys_error(errc::io_failed, what + ": fsync of the directory", errno);
  return std::optional<identity>{std::move(*id)};
}

} // namespace

result<identity> parse_identity_key(const uint8_t* data, size_t size, const std::string& path) {
  clear_errors_on_exit guard;
  if (size != identity_file_size)
    return refused(path, "has " + std::to_string(size) + " bytes, an identity key has "
                           + std::to_string(identity_file_size));
  if (std::memcmp(data, key_file_magic, magic_size) != 0) {
    // Same family, other version: say so rather than "garbage".
    if (std::memcmp(data, key_file_magic, magic_size - 1) == 0) {
      char version = static_cast<char>(data[magic_size - 1]);
      return refused(path, "has format version " + detail::quote_char(version)
                             + ", this program reads version '1' only");
    }
    return refused(path, std::string{"is not a p2pd identity key (it does not start with \""}
                           + key_file_magic + "\")");
  }
  auto sum = checksum(data, checksum_offset);
  if (!sum)
    return sum.error();
  if (CRYPTO_memcmp(sum->data(), data + checksum_offset, sum->size()) != 0)
    return refused(path, "is corrupt: its SHA-256 checksum does not match its content");
  auto id = identity_in(data);
  if (!id)
    return refused(path, "holds keys OpenSSL refuses: " + id.error().what);
  return id;
}

result<identity> load_or_create_identity(const std::string& data_dir) {
  clear_errors_on_exit guard;
  std::string path = data_dir;
  if (path.empty() || path.back() != '/')
    path += '/';
  path += identity_file_name;
  // Everything happens relative to the directory's descriptor, so a rename
  // of the path meanwhile cannot split our reads and writes across two
  // directories.
  unique_fd dir{::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (!dir)
    return sys_error(errc::io_failed, "cannot open data directory " + data_dir + " for "
                                        + key_name(path),
                     errno);
  auto fd = open_key_file(dir.get(), path);
  if (!fd)
    return fd.error();
  if (*fd)
    return read_key_file(fd->get(), path);
  auto created = create_key_file(dir.get(), path);
  if (!created)
    return created.error();
  if (*created)
    return std::move(**created);
  // Another process created the file between our open and our rename.
  fd = open_key_file(dir.get(), path);
  if (!fd)
    return fd.error();
  if (!*fd)
    return error{errc::io_failed, key_name(path) + " vanished while it was being created"};
  return read_key_file(fd->get(), path);
}

result<identity> load_or_create_identity_in(const std::optional<std::string>& data_dir) {
  auto dir = open_data_dir(data_dir);
  if (!dir)
    return dir.error();
  return load_or_create_identity(*dir);
}

} // namespace p2pd::net
