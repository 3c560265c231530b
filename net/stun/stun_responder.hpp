#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"

namespace p2pd::net {

/// One of an RFC 5780 server's sockets: on the primary or the alternate IP,
/// on the primary or the alternate port.
struct stun_socket_id {
  bool alt_ip = false;
  bool alt_port = false;

  friend bool operator==(const stun_socket_id& x, const stun_socket_id& y) {
    return x.alt_ip == y.alt_ip && x.alt_port == y.alt_port;
  }
};

/// A STUN server's addresses. With an alternate IP and port it can answer
/// RFC 5780 (and RFC 3489) change requests; without, it answers binding
/// requests and refuses change requests with 420.
struct stun_server_addrs {
  ip_address primary_ip;
  uint16_t primary_port = 3478;
  std::optional<ip_address> alt_ip;
  std::optional<uint16_t> alt_port;

  bool has(stun_socket_id s) const {
    return (!s.alt_ip || alt_ip) && (!s.alt_port || alt_port);
  }
  endpoint address_of(stun_socket_id s) const {
    return {s.alt_ip ? *alt_ip : primary_ip, s.alt_port ? *alt_port : primary_port};
  }
};

/// What to send for a request, from which socket, and to where.
struct stun_reply {
  std::vector<uint8_t> bytes;
  stun_socket_id via;
  endpoint to; ///< the client; another port of it with RESPONSE-PORT
};

/// Answers one message that socket `at` received from `from`:
/// - a binding request: XOR-MAPPED-ADDRESS (and MAPPED-ADDRESS), RESPONSE-ORIGIN,
///   OTHER-ADDRESS when the server has both alternates, SOFTWARE, FINGERPRINT;
///   an RFC 3489 request gets MAPPED-ADDRESS, SOURCE-ADDRESS and CHANGED-ADDRESS;
/// - CHANGE-REQUEST (UDP): the reply goes out from the changed IP and/or port;
///   a change the server cannot make is refused with 420 (Unknown Attribute);
/// - RESPONSE-PORT (RFC 5780, UDP): the reply goes to that port of the client;
///   with PADDING as well: 400 to the sender (RFC 5780 section 7.5);
/// - an unknown comprehension-required attribute: 420 listing it;
/// - another method: 400 (Bad Request).
/// Indications, responses and messages that do not decode get no answer: the
/// error says why, for the caller's counters. Over TCP (`stream`) a change
/// request gets 400, as RFC 5780 allows it over UDP only.
result<std::optional<stun_reply>> stun_respond(const uint8_t* data, size_t size,
                                               const endpoint& from, stun_socket_id at,
                                               const stun_server_addrs& addrs,
                                               const std::string& software,
                                               bool stream = false);

} // namespace p2pd::net
