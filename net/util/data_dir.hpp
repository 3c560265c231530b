#pragma once

#include <optional>
#include <string>

#include "p2pd/net/error.hpp"

// The data directory holds state that must survive a process and must not be
// touched by other users: port lock files now, signing keys later.
//
// Policy (what open_data_dir accepts, and why):
// - It is created with mode 0700 when missing (missing parents too).
// - It must be a directory owned by the effective user. A directory of another
//   user (root included, when we are not root) lets that user swap our keys
//   and lock files.
// - It must not be group- or world-writable, sticky bit or not: anyone who can
//   create or remove names in it can unlink a lock file and create a new one,
//   so that two processes both "hold" the same port, pre-create a lock file
//   they own so that we cannot open it, or plant a key.
// - Group- or world-readable (e.g. 0755, made by hand) is accepted: it shows
//   file names only (which ports are locked); keys are 0600 files of their own.
// - A symbolic link to such a directory is accepted (dot directories are often
//   links to another disk); the checks apply to the directory it points to.
// - Its parents are not checked: whoever can write to $HOME owns the account
//   anyway. POSIX ACLs are not inspected either.

namespace p2pd::net {

/// The environment variable that names the data directory.
inline constexpr const char* data_dir_env = "P2PD_DATA_DIR";

/// The data directory's path, without touching the file system: `path` if
/// given, else $P2PD_DATA_DIR, else $HOME/.p2pd (the effective user's home
/// from the password database if HOME is unset). Empty variables count as
/// unset; an empty `path` is an error. A relative path is made absolute
/// against the working directory (symbolic links are kept as they are), and
/// trailing slashes are dropped.
result<std::string> resolve_data_dir(const std::optional<std::string>& path = std::nullopt);

/// Resolves the data directory (see resolve_data_dir), creates it with mode
/// 0700 if missing and checks it is private (see the policy above). Returns
/// its absolute path. Errors say what and why: "data directory /x is
/// world-writable (mode 0777); refusing to keep locks and keys there".
result<std::string> open_data_dir(const std::optional<std::string>& path = std::nullopt);

/// Creates `path` (an absolute path) and its missing parents with mode 0700,
/// and checks it like the data directory. `what` names it in errors, e.g.
/// "lock directory". Used for the data directory's subdirectories.
error ensure_private_dir(const std::string& path, const std::string& what);

} // namespace p2pd::net
