#pragma once

// The p2pd program's control messages on a node connection, beside the
// application's bytes (docs/design-notes.md, "The p2pd program"):
//
//   "\0p2pd:ping <seq>"  answer with the same message, "ping" made "pong"
//   "\0p2pd:pong <seq>"  the answer; <seq> is decimal, 1 to 19 digits
//   "\0p2pd:bye"         the sender's input ended: nothing more comes
//
// A data message never starts with "\0p2pd:" (the sender splits its first
// byte off into a message of its own), so nothing the user pipes through is
// taken for a control message, whatever its bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2pd::cli {

/// The prefix of every control message.
inline constexpr std::string_view control_prefix{"\0p2pd:", 6};

enum class control_kind { ping, pong, bye };

struct control_message {
  control_kind kind = control_kind::ping;
  uint64_t seq = 0; ///< ping and pong
};

/// The message's bytes.
std::string encode(const control_message& m);

/// A control message, or nothing for data (or a malformed control message,
/// which is dropped: the receiver says so).
std::optional<control_message> decode_control(std::string_view data);

/// Whether `data` starts like a control message: such data must be sent
/// split (its first byte alone, then the rest).
inline bool looks_like_control(std::string_view data) {
  return data.size() >= control_prefix.size()
         && data.substr(0, control_prefix.size()) == control_prefix;
}

} // namespace p2pd::cli
