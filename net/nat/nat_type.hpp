#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"

namespace p2pd::net {

/// What sits between a socket and the Internet, in RFC 3489 terms. The STUN
/// transactions that measure it run elsewhere (actors); this is the verdict.
enum class nat_type : uint8_t {
  unknown,         ///< a test the decision needs was not run or could not be
  open_internet,   ///< no NAT, no inbound filter
  udp_firewall,    ///< no NAT, but inbound UDP only for flows we started (symmetric UDP firewall)
  full_cone,       ///< one mapping per local port; anyone may send to it
  restricted,      ///< one mapping per local port; only IPs we sent to may reply
  port_restricted, ///< one mapping per local port; only IP:ports we sent to may reply
  symmetric,       ///< a new mapping per destination
  blocked,         ///< no UDP gets through at all
};

/// The type's name, e.g. "port_restricted".
const char* to_string(nat_type x);
/// The type of that name (to_string's), for a NAT a user gives; otherwise
/// invalid_argument listing the names.
result<nat_type> parse_nat_type(std::string_view name);

/// The original's EASY_NATS: a peer can reach us without any punching.
bool is_easy(nat_type x);

/// The original's PREDICTABLE_NATS (open, full cone, restricted, port
/// restricted), plus udp_firewall: the original never produced that type, but
/// its mapping is our own address, which is as predictable as it gets.
bool is_predictable(nat_type x);

/// Whether a test got an answer. "Not run" differs from "no reply": a test that
/// was never tried (no alternate server address, cut short) proves nothing.
enum class test_reply : uint8_t { not_run, no_reply, replied };

const char* to_string(test_reply x);

/// The outcome of one STUN test.
struct stun_test {
  test_reply reply = test_reply::not_run;
  /// The (XOR-)MAPPED-ADDRESS of the reply, if it had one.
  std::optional<endpoint> mapped;

  static stun_test not_run() { return {}; }
  static stun_test no_reply() { return {test_reply::no_reply, std::nullopt}; }
  static stun_test replied(endpoint mapped) { return {test_reply::replied, mapped}; }
  /// A reply whose mapping does not matter (tests II and III).
  static stun_test replied() { return {test_reply::replied, std::nullopt}; }
};

/// The RFC 3489 / RFC 5780 tests, all from one local socket.
struct nat_tests {
  /// Test I: binding request to the primary address and port.
  stun_test test1;
  /// Test II: binding request to the primary address with CHANGE-REQUEST
  /// (change IP and port); the reply comes from the alternate address and port.
  stun_test test2;
  /// Test I': binding request to the alternate address (RFC 5780:
  /// OTHER-ADDRESS; RFC 3489: CHANGED-ADDRESS).
  stun_test test1_alt;
  /// Test III: binding request with CHANGE-REQUEST (change port only).
  stun_test test3;
  /// The socket's local addresses: its bound address, or every address of the
  /// interface when bound to the wildcard. A mapping to one of these means no NAT.
  std::vector<ip_address> local_ips;
  /// The socket's local port; 0 compares addresses only. With a port, a
  /// mapping to our own IP but another port counts as a NAT (one on this host).
  uint16_t local_port = 0;
};

/// Which of tests II, III and I' a server can run, and where I' goes, from
/// its primary address (where test I went) and its OTHER-ADDRESS.
struct nat_test_plan {
  /// Test II asks for a reply from the other IP and port: the alternate must
  /// differ from the primary in both, or its reply (from wherever the server
  /// can send it) proves nothing about the filter.
  bool test2 = false;
  /// Test III asks for a reply from the other port: the alternate's port
  /// must differ.
  bool test3 = false;
  /// Test I': the alternate IP on the primary port (RFC 5780 section 4.3),
  /// never the alternate port, where test II's reply came from: a NAT that
  /// kept state for that unanswered reply (Linux masquerade with its own
  /// input open) gives a new flow toward it another port, which looks like a
  /// mapping per destination. None when the server has no other IP.
  std::optional<endpoint> test1_alt;
  /// Why a test is not run; empty when all are.
  std::vector<std::string> notes;
};

/// The plan for a server at `primary` whose answer to test I named `other`
/// (none: it sent no OTHER-ADDRESS or CHANGED-ADDRESS).
nat_test_plan plan_nat_tests(const endpoint& primary, const std::optional<endpoint>& other);

/// The RFC 3489 decision tree (§10.1), with the cases the original got wrong:
/// - test I not run → unknown; test I unanswered → blocked;
/// - mapped address is local: test II answered → open_internet, unanswered →
///   udp_firewall (the original never reported it);
/// - behind a NAT: test II answered → full_cone; else mapping(I') differs from
///   mapping(I) → symmetric; else test III answered → restricted, unanswered →
///   port_restricted.
/// Whenever the next step needs a test that was not run, lacks a mapping, or
/// (test I') got no reply, the answer is unknown rather than a guess.
nat_type classify_nat(const nat_tests& tests);

} // namespace p2pd::net
