#include "p2pd/net/identity.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "p2pd/net/base32.hpp"
#include "p2pd/net/openssl_util.hpp"
#include "p2pd/net/siphash.hpp"
#include "p2pd/net/socket.hpp"
#include "p2pd/net/tls_context.hpp"

namespace p2pd::net {

using namespace detail;

namespace {

// OpenSSL wants a valid pointer even for zero bytes in some code paths.
const uint8_t* nonnull(byte_view x) {
  static const uint8_t empty = 0;
  return x.data() != nullptr ? x.data() : &empty;
}

// -- node ids ----------------------------------------------------------------

constexpr size_t node_id_text_size = node_id::size * 8 / 5;
static_assert(node_id::size * 8 % 5 == 0, "node ids are whole base32 characters");

std::string printable(char c) {
  if (c >= 0x20 && c < 0x7f)
    return std::string{'\''} + c + '\'';
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
  return buf;
}

// -- keys --------------------------------------------------------------------

result<pkey_ptr> private_key(const char* type, const std::array<uint8_t, 32>& raw) {
  pkey_ptr key{EVP_PKEY_new_raw_private_key_ex(nullptr, type, nullptr, raw.data(), raw.size())};
  if (!key)
    return crypto_error(std::string{"cannot make an "} + type + " key from its private key");
  return key;
}

result<std::array<uint8_t, 32>> raw_public_key(EVP_PKEY* key, const char* type) {
  std::array<uint8_t, 32> out{};
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1 || len != out.size())
    return crypto_error(std::string{"cannot read the "} + type + " public key");
  return out;
}

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

// -- node_id -----------------------------------------------------------------

node_id node_id::of(const public_keys& keys) {
  static constexpr char label[] = "p2pd node id v1";
  std::array<uint8_t, sizeof label - 1 + 64> input{};
  std::memcpy(input.data(), label, sizeof label - 1);
  std::memcpy(input.data() + sizeof label - 1, keys.sign.data(), 32);
  std::memcpy(input.data() + sizeof label - 1 + 32, keys.agree.data(), 32);
  std::array<uint8_t, 32> md{};
  unsigned int len = 0;
  // SHA-256 with the default provider cannot fail short of a broken OpenSSL
  // installation, which would have failed long before (keys are made first).
  if (EVP_Digest(input.data(), input.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    throw std::bad_alloc{};
  node_id out;
  std::memcpy(out.bytes.data(), md.data(), out.bytes.size());
  return out;
}

result<node_id> node_id::parse(std::string_view text) {
  auto quoted = [&] {
    // An id from the network may be long or binary: quote a bounded prefix.
    std::string shown;
    for (size_t i = 0; i < text.size() && i < 40; ++i) {
      char c = text[i];
      shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    return "'" + shown + (text.size() > 40 ? "...'" : "'");
  };
  if (text.size() != node_id_text_size)
    return error{errc::invalid_argument,
                 "node id " + quoted() + " has " + std::to_string(text.size())
                   + " characters; it must have " + std::to_string(node_id_text_size)};
  node_id out;
  if (auto bad = base32_decode(text, out.bytes.data()))
    return error{errc::invalid_argument,
                 "node id " + quoted() + " has " + printable(text[*bad]) + " at position "
                   + std::to_string(*bad)
                   + "; node ids are lower-case base32 ('a' to 'z' and '2' to '7')"};
  return out;
}

std::string node_id::to_string() const {
  return base32_encode(bytes.data(), bytes.size());
}

size_t node_id::hash() const noexcept {
  static const std::array<uint64_t, 2> key = random_hash_key();
  return static_cast<size_t>(siphash24(key, bytes.data(), bytes.size()));
}

// -- identity ----------------------------------------------------------------

void identity::pkey_free::operator()(evp_pkey_st* p) const {
  EVP_PKEY_free(p);
}

identity::identity(pkey_ptr sign_key, pkey_ptr agree_key, const public_keys& pub)
  : sign_key_(std::move(sign_key)),
    agree_key_(std::move(agree_key)),
    pub_(pub),
    id_(node_id::of(pub)) {}

identity::identity(identity&& other) noexcept = default;
identity& identity::operator=(identity&& other) noexcept = default;
identity::~identity() = default;

result<identity> identity::generate() {
  clear_errors_on_exit guard;
  secret_bytes<32> sign_key;
  secret_bytes<32> agree_key;
  if (RAND_priv_bytes(sign_key.bytes.data(), 32) != 1
      || RAND_priv_bytes(agree_key.bytes.data(), 32) != 1)
    return crypto_error("cannot generate identity keys");
  return from_private_keys(sign_key.bytes, agree_key.bytes);
}

result<identity> identity::from_private_keys(const std::array<uint8_t, 32>& sign_key,
                                             const std::array<uint8_t, 32>& agree_key) {
  clear_errors_on_exit guard;
  auto s = private_key("ED25519", sign_key);
  if (!s)
    return s.error();
  auto a = private_key("X25519", agree_key);
  if (!a)
    return a.error();
  auto sign_pub = raw_public_key(s->get(), "ED25519");
  if (!sign_pub)
    return sign_pub.error();
  auto agree_pub = raw_public_key(a->get(), "X25519");
  if (!agree_pub)
    return agree_pub.error();
  // The deleter type changes here: the header cannot name EVP_PKEY_free.
  return identity{identity::pkey_ptr{s->release()}, identity::pkey_ptr{a->release()},
                  public_keys{*sign_pub, *agree_pub}};
}

const char* context_of(sign_purpose p) {
  switch (p) {
    case sign_purpose::envelope: return "p2pd/envelope/v2";
  }
  return "p2pd/unknown";
}

namespace {

// The context string, its 0 terminator, then the message.
std::vector<uint8_t> in_context(sign_purpose p, byte_view msg) {
  std::string_view ctx{context_of(p)};
  std::vector<uint8_t> out;
  out.reserve(ctx.size() + 1 + msg.size());
  out.insert(out.end(), ctx.begin(), ctx.end());
  out.push_back(0);
  if (msg.size() > 0)
    out.insert(out.end(), msg.data(), msg.data() + msg.size());
  return out;
}

} // namespace

bool verify(sign_purpose purpose, const std::array<uint8_t, 32>& sign_key, byte_view msg,
            const std::array<uint8_t, 64>& sig) {
  return verify(sign_key, in_context(purpose, msg), sig);
}

std::array<uint8_t, 64> identity::sign(sign_purpose purpose, byte_view raw) const {
  clear_errors_on_exit guard;
  auto full = in_context(purpose, raw);
  byte_view msg{full};
  std::array<uint8_t, 64> sig{};
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  size_t len = sig.size();
  // Ed25519 hashes internally: no digest is named.
  if (!ctx
      || EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, sign_key_.get(),
                               nullptr)
           != 1
      || EVP_DigestSign(ctx.get(), sig.data(), &len, nonnull(msg), msg.size()) != 1
      || len != sig.size())
    throw std::bad_alloc{};
  return sig;
}

result<std::array<uint8_t, 32>>
identity::agree(const std::array<uint8_t, 32>& peer_agree_key) const {
  return detail::x25519(agree_key_.get(), peer_agree_key);
}

// -- free functions ----------------------------------------------------------

result<std::array<uint8_t, 32>> detail::x25519(evp_pkey_st* mine,
                                               const std::array<uint8_t, 32>& peer_key) {
  clear_errors_on_exit guard;
  pkey_ptr peer{EVP_PKEY_new_raw_public_key_ex(nullptr, "X25519", nullptr, peer_key.data(),
                                               peer_key.size())};
  if (!peer)
    return crypto_error("cannot use the peer's X25519 key");
  pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr)};
  std::array<uint8_t, 32> out{};
  size_t len = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1
      || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1
      || EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    OPENSSL_cleanse(out.data(), out.size());
    // OpenSSL itself refuses the all-zero result (RFC 7748 section 6.1).
    return crypto_error("X25519 key agreement failed (a peer key of small order?)");
  }
  // Checked here as well, in constant time, so that no OpenSSL version or
  // provider can hand an attacker-known secret on.
  static const std::array<uint8_t, 32> zero{};
  if (CRYPTO_memcmp(out.data(), zero.data(), out.size()) == 0)
    return error{errc::crypto_failed,
                 "X25519 key agreement gave the all-zero secret: the peer key has small order"};
  return out;
}

bool verify(const std::array<uint8_t, 32>& sign_key, byte_view msg,
            const std::array<uint8_t, 64>& sig) {
  clear_errors_on_exit guard;
  pkey_ptr key{EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, sign_key.data(),
                                              sign_key.size())};
  if (!key)
    return false;
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  return ctx
         && EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key.get(),
                                    nullptr)
              == 1
         && EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), nonnull(msg), msg.size()) == 1;
}

result<identity> parse_identity_key(const uint8_t* data, size_t size, const std::string& path) {
  clear_errors_on_exit guard;
  if (size != identity_file_size)
    return refused(path, "has " + std::to_string(size) + " bytes, an identity key has "
                           + std::to_string(identity_file_size));
  if (std::memcmp(data, key_file_magic, magic_size) != 0) {
    // Same family, other version: say so rather than "garbage".
    if (std::memcmp(data, key_file_magic, magic_size - 1) == 0) {
      char version = static_cast<char>(data[magic_size - 1]);
      return refused(path, "has format version " + printable(version)
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

} // namespace p2pd::net
