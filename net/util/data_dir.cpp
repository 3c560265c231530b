#include "p2pd/net/util/data_dir.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace p2pd::net {

namespace {

const char* refusal = "; refusing to keep locks and keys there";

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The non-empty value of an environment variable.
std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    return std::nullopt;
  return std::string{value};
}

// The effective user's home directory from the password database, for
// processes started without HOME (services, cron).
result<std::string> home_from_passwd() {
  uid_t uid = geteuid();
  std::vector<char> buf(16384);
  for (;;) {
    passwd pw{};
    passwd* found = nullptr;
    int rc = getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (found != nullptr && found->pw_dir != nullptr && *found->pw_dir != '\0')
      return std::string{found->pw_dir};
    std::string why = "HOME is unset and uid " + std::to_string(uid)
                      + " has no home directory in the password database";
    if (rc != 0)
      why += " (" + errno_text(rc) + ")";
    return error{errc::invalid_argument,
                 "cannot place the data directory: " + why + "; set "
                   + data_dir_env + " or pass a path"};
  }
}

// Absolute, without trailing slashes. Symbolic links are kept: the user's
// spelling is what error messages should show.
result<std::string> absolute(std::string path) {
  if (path.empty())
    return error{errc::invalid_argument, "the data directory path is empty"};
  if (path.front() != '/') {
    std::vector<char> cwd(4096);
    while (getcwd(cwd.data(), cwd.size()) == nullptr) {
      if (errno != ERANGE || cwd.size() >= (1u << 20))
        return sys_error(errc::io_failed,
                         "cannot make the data directory path '" + path
                           + "' absolute: getcwd failed",
                         errno);
      cwd.resize(cwd.size() * 2);
    }
    std::string base = cwd.data();
    path = (base == "/" ? base : base + "/") + path;
  }
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  return path;
}

// Creates the missing directories of `path`, each 0700.
error make_dirs(const std::string& path, const std::string& what) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos < path.size() && path[pos] != '/')
      continue;
    std::string prefix = path.substr(0, pos);
    if (prefix.back() == '/') // "a//b"
      continue;
    if (::mkdir(prefix.c_str(), 0700) == 0) {
      // The umask may have taken bits from 0700 (e.g. 0277 leaves 0500, which
      // would make the directory useless to its owner): set it exactly.
      if (::chmod(prefix.c_str(), 0700) != 0)
        return sys_error(errc::io_failed, "cannot set mode 0700 on " + prefix, errno);
    } else if (errno != EEXIST) { // EEXIST: a parent, or a concurrent creator
      return sys_error(errc::io_failed,
                       "cannot create " + what + " " + path
                         + (prefix == path ? std::string{} : ": mkdir " + prefix),
                       errno);
    }
  }
  return {};
}

error check_private(const std::string& path, const std::string& what) {
  struct stat st {};
  // stat, not lstat: a link to a private directory is fine (see the header).
  if (::stat(path.c_str(), &st) != 0)
    return sys_error(errc::io_failed, "cannot access " + what + " " + path, errno);
  std::string name = what + " " + path;
  if (!S_ISDIR(st.st_mode))
    return error{errc::invalid_argument, name + " is not a directory" + refusal};
  if (st.st_uid != geteuid())
    return error{errc::invalid_argument,
                 name + " is owned by uid " + std::to_string(st.st_uid)
                   + ", not by this user (uid " + std::to_string(geteuid()) + ")" + refusal};
  if ((st.st_mode & S_IWOTH) != 0)
    return error{errc::invalid_argument,
                 name + " is world-writable (mode " + mode_text(st.st_mode) + ")" + refusal};
  if ((st.st_mode & S_IWGRP) != 0)
    return error{errc::invalid_argument,
                 name + " is group-writable (mode " + mode_text(st.st_mode) + ")" + refusal};
  // access(), not mode bits: root may use a 0500 directory, ACLs may deny us.
  if (::access(path.c_str(), R_OK | W_OK | X_OK) != 0)
    return sys_error(errc::io_failed,
                     name + " (mode " + mode_text(st.st_mode)
                       + ") is not readable, writable and searchable by this user",
                     errno);
  return {};
}

} // namespace

result<std::string> resolve_data_dir(const std::optional<std::string>& path) {
  if (path)
    return absolute(*path);
  if (auto dir = env(data_dir_env))
    return absolute(*dir);
  std::string home;
  if (auto h = env("HOME")) {
    home = *h;
  } else {
    auto pw = home_from_passwd();
    if (!pw)
      return pw.error();
    home = *pw;
  }
  if (home.back() != '/') // HOME=/ must not give "//.p2pd"
    home += '/';
  return absolute(home + ".p2pd");
}

error ensure_private_dir(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return sys_error(errc::io_failed, "cannot access " + what + " " + path, errno);
    if (auto err = make_dirs(path, what))
      return err;
  }
  return check_private(path, what);
}

result<std::string> open_data_dir(const std::optional<std::string>& path) {
  auto dir = resolve_data_dir(path);
  if (!dir)
    return dir;
  if (auto err = ensure_private_dir(*dir, "data directory"))
    return err;
  return dir;
}

} // namespace p2pd::net
