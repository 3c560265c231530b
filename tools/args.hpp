#pragma once

// The examples' and tools' command line, shared so that every program handles
// bad arguments the same way: a message naming what is wrong and the usage on
// stderr, exit code 2; --help (or -h) prints the usage on stdout, exit 0.
// Named options take a value ("--port 3478" or "--port=3478") or none (flags);
// anything else not starting with '-' is a positional argument. A failure
// at run time is reported the same way by every program too (args::error):
// "program: what: why" on stderr, exit code 1.

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "p2pd/messages/errors.hpp"

namespace p2pd::examples {

/// The exit code for bad arguments.
constexpr int exit_usage = 2;

/// The exit code for a failure at run time (a port in use, no answer, ...).
constexpr int exit_failure = 1;

/// The exit code of a connect that failed (p2p_node, p2pd): every attempt
/// and why on stderr.
constexpr int exit_connect_failed = 3;

/// The exit code of a wait that ran out (no answer, no peer, ...).
constexpr int exit_timeout = 4;

/// A decimal number in min..max, digits only.
inline std::optional<uint64_t> parse_count(std::string_view text, uint64_t min, uint64_t max) {
  if (text.empty() || text.size() > 18)
    return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value < min || value > max)
    return std::nullopt;
  return value;
}

/// A port number in 1..65535 (0 too when `allow_zero`: "a free port"); why
/// not otherwise, in `why`.
inline std::optional<uint16_t> parse_port(std::string_view text, bool allow_zero,
                                          std::string* why) {
  if (auto value = parse_count(text, allow_zero ? 0 : 1, 65535))
    return static_cast<uint16_t>(*value);
  if (why != nullptr)
    *why = "'" + std::string{text} + "' is not a port (a number in " + (allow_zero ? "0" : "1")
           + "..65535" + (allow_zero ? ", 0 for a free port)" : ")");
  return std::nullopt;
}

/// A small command-line parser: declare options and positional arguments,
/// parse, then read the values.
class args {
public:
  /// `program` names the messages ("stun_server: ..."); `about` is printed
  /// under the usage line by --help.
  args(std::string program, std::string about) : program_(std::move(program)),
                                                 about_(std::move(about)) {}

  /// An option with a value: `--name VALUE`.
  args& option(std::string name, std::string value_name, std::string help) {
    opts_.push_back({std::move(name), std::move(value_name), std::move(help)});
    return *this;
  }

  /// An option without a value.
  args& flag(std::string name, std::string help) {
    opts_.push_back({std::move(name), "", std::move(help)});
    return *this;
  }

  /// Positional arguments: how they read in the usage line, and how many.
  args& positional(std::string names, size_t min, size_t max) {
    pos_names_ = std::move(names);
    pos_min_ = min;
    pos_max_ = max;
    return *this;
  }

  /// Parses the command line. Returns an exit code when the program should
  /// end now (0 after --help, exit_usage with a message on bad arguments),
  /// nothing when it should go on.
  std::optional<int> parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg{argv[i]};
      if (arg == "-h" || arg == "--help") {
        usage(std::cout);
        return 0;
      }
      if (arg == "--") { // the rest is positional, even "-x"
        for (++i; i < argc; ++i)
          pos_.emplace_back(argv[i]);
        break;
      }
      if (arg.size() > 1 && arg[0] == '-') {
        auto eq = arg.find('=');
        auto name = arg.substr(0, eq);
        const opt* o = find(name);
        if (o == nullptr)
          return fail("unknown option '" + std::string{name} + "'");
        if (o->value_name.empty()) {
          if (eq != std::string_view::npos)
            return fail(std::string{name} + " takes no value");
          values_.emplace_back(o->name, "");
        } else if (eq != std::string_view::npos) {
          values_.emplace_back(o->name, std::string{arg.substr(eq + 1)});
        } else if (i + 1 < argc) {
          values_.emplace_back(o->name, argv[++i]);
        } else {
          return fail(std::string{name} + " needs a value (" + o->value_name + ")");
        }
        continue;
      }
      pos_.emplace_back(arg);
    }
    if (pos_.size() < pos_min_)
      return fail(pos_min_ == 1 && pos_max_ == 1 ? "missing " + pos_names_
                                                 : "missing arguments: " + pos_names_);
    if (pos_.size() > pos_max_)
      return fail(pos_max_ == 0 ? "unexpected argument '" + pos_[0] + "'"
                                : "unexpected argument '" + pos_[pos_max_] + "'");
    return std::nullopt;
  }

  /// True if the option or flag was given.
  bool has(std::string_view name) const { return value(name).has_value(); }

  /// The option's last value, if given.
  std::optional<std::string> value(std::string_view name) const {
    for (auto it = values_.rbegin(); it != values_.rend(); ++it)
      if (it->first == name)
        return it->second;
    return std::nullopt;
  }

  /// The option's port, `fallback` if not given. A bad one prints why with
  /// the usage on stderr and gives nothing: return exit_usage then.
  std::optional<uint16_t> port(std::string_view name, uint16_t fallback, bool allow_zero) const {
    auto text = value(name);
    if (!text)
      return fallback;
    std::string why;
    auto p = parse_port(*text, allow_zero, &why);
    if (!p)
      fail(std::string{name} + ": " + why);
    return p;
  }

  /// The option's decimal number in min..max, `fallback` if not given. A
  /// bad one prints why with the usage on stderr and gives nothing: return
  /// exit_usage then.
  std::optional<uint64_t> count(std::string_view name, uint64_t fallback, uint64_t min,
                                uint64_t max) const {
    auto text = value(name);
    if (!text)
      return fallback;
    auto n = parse_count(*text, min, max);
    if (!n)
      fail(std::string{name} + ": '" + *text + "' is not a number in " + std::to_string(min)
           + ".." + std::to_string(max));
    return n;
  }

  const std::vector<std::string>& positionals() const { return pos_; }

  /// Prints "program: why" and the usage on stderr; returns exit_usage.
  int fail(const std::string& why) const {
    std::cerr << program_ << ": " << why << '\n';
    usage(std::cerr);
    return exit_usage;
  }

  /// Prints "program: what: why" on stderr; returns exit_failure. For a
  /// caf::expected or net::result that holds an error: every one a program
  /// gets is checked, and this keeps each check to two lines.
  int error(const std::string& what, const caf::error& err) const {
    std::cerr << program_ << ": " << what << ": " << render(err) << '\n';
    return exit_failure;
  }
  int error(const std::string& what, const net::error& err) const {
    return error(what, make_error(err));
  }

  void usage(std::ostream& out) const {
    out << "usage: " << program_;
    for (const auto& o : opts_)
      out << " [" << o.name << (o.value_name.empty() ? "" : " " + o.value_name) << ']';
    if (!pos_names_.empty())
      out << ' ' << pos_names_;
    out << '\n';
    if (!about_.empty())
      out << about_ << '\n';
    for (const auto& o : opts_)
      out << "  " << o.name << (o.value_name.empty() ? "" : " " + o.value_name) << "  " << o.help
          << '\n';
    out << "  -h, --help  this text\n";
  }

private:
  struct opt {
    std::string name;
    std::string value_name; // empty: a flag
    std::string help;
  };

  const opt* find(std::string_view name) const {
    for (const auto& o : opts_)
      if (o.name == name)
        return &o;
    return nullptr;
  }

  std::string program_;
  std::string about_;
  std::vector<opt> opts_;
  std::string pos_names_;
  size_t pos_min_ = 0;
  size_t pos_max_ = 0;
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<std::string> pos_;
};

} // namespace p2pd::examples
