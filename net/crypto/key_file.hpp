#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "p2pd/net/crypto/identity.hpp"

// The node's identity on disk: one file of private keys in the data
// directory, written so that a crash or a second process never leaves a
// partial or replaced key behind, and refused (never repaired) when it is
// not exactly what this program wrote.

namespace p2pd::net {

/// The key file's name in the data directory.
inline constexpr const char* identity_file_name = "identity.key";

/// Size of the key file in bytes (see load_or_create_identity).
inline constexpr size_t identity_file_size = 112;

/// Loads the node's identity from `<data_dir>/identity.key`, creating it with
/// fresh keys on first start. `data_dir` is a directory that
/// net::open_data_dir accepted.
///
/// The file is 112 bytes, binary:
///
///     offset  size  content
///          0    16  "p2pd identity v1" (ASCII, no terminator): format and version
///         16    32  Ed25519 private key (the RFC 8032 seed)
///         48    32  X25519 private key (the RFC 7748 scalar)
///         80    32  SHA-256 of bytes 0..79
///
/// The checksum catches a damaged file, which would otherwise load as a
/// different identity without a word. The public keys are derived, not kept.
///
/// A new file is written under a temporary name (O_CREAT|O_EXCL|O_NOFOLLOW,
/// mode 0600), synced, and then given its real name without replacing one
/// that appeared meanwhile (renameat2 RENAME_NOREPLACE, or link() where the
/// file system lacks it); the directory is synced too. A crash leaves no
/// partial file under the real name, and of two processes starting at once
/// both end up with the first one's keys.
///
/// An existing file is refused (errc::bad_key_file, naming the path and the
/// reason) when it is a symbolic link, not a regular file, owned by another
/// user, readable or writable by group or others ("identity key
/// /x/identity.key has mode 0644; it must be 0600 (chmod 600 it)"), of the
/// wrong size, of another format, or fails its checksum. It is never
/// repaired or replaced: a refused key file needs a human. The system's
/// refusals (a missing directory, a failed write) are errc::io_failed.
result<identity> load_or_create_identity(const std::string& data_dir);

/// open_data_dir(data_dir) (its default when none), then
/// load_or_create_identity there: what a node or signal node without a
/// given identity does. Errors: either's.
result<identity> load_or_create_identity_in(const std::optional<std::string>& data_dir);

/// The content checks of a key file (size, format, checksum, keys), without
/// the file system's (owner, mode, symbolic links): the bytes of
/// `<path>` as load_or_create_identity reads them. Errors: errc::bad_key_file
/// naming `path` and the reason.
result<identity> parse_identity_key(const uint8_t* data, size_t size, const std::string& path);

} // namespace p2pd::net
