#include "p2pd/net/stun/stun_responder.hpp"

#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/stun/stun_message.hpp"

namespace p2pd::net {

namespace {

result<std::optional<stun_reply>> refuse(const stun_message& req, stun_socket_id at,
                                         const endpoint& to, uint16_t code,
                                         std::string_view reason,
                                         const std::vector<uint16_t>& unknown = {}) {
  stun_builder b{stun_class::error, req.method(), req.txid()};
  b.add_error_code(code, reason);
  if (!unknown.empty())
    b.add_unknown_attributes(unknown);
  if (!req.rfc3489())
    b.add_fingerprint();
  auto bytes = b.finish();
  if (!bytes)
    return bytes.error();
  return std::optional<stun_reply>{stun_reply{std::move(*bytes), at, to}};
}

// RESPONSE-PORT: a 2-byte port and 2 bytes of padding.
std::optional<uint16_t> response_port(const stun_message& req) {
  auto* a = req.find(stun_attr::response_port);
  if (a == nullptr || a->value.size() != 4)
    return std::nullopt;
  return static_cast<uint16_t>((a->value[0] << 8) | a->value[1]);
}

} // namespace

result<std::optional<stun_reply>> stun_respond(const uint8_t* data, size_t size,
                                               const endpoint& from, stun_socket_id at,
                                               const stun_server_addrs& addrs,
                                               const std::string& software, bool stream) {
  stun_decode_options opts;
  opts.allow_rfc3489 = true; // classic clients still probe NATs this way
  auto req = decode_stun(data, size, opts);
  if (!req)
    return req.error();
  if (req->cls() != stun_class::request)
    return error{errc::invalid_argument,
                 std::string{"a STUN "} + to_string(req->cls()) + " from " + from.to_string()
                   + " needs no answer"};
  // RFC 5780 section 7.5: PADDING with RESPONSE-PORT is a Bad Request (a
  // padded answer sent to another port would amplify). Refused to the
  // sender, never to the requested port.
  if (req->find(stun_attr::padding) != nullptr && req->find(stun_attr::response_port) != nullptr)
    return refuse(*req, at, from, 400, "PADDING and RESPONSE-PORT together (RFC 5780 7.5)");
  auto to = from;
  if (auto port = response_port(*req); port && !stream && *port != 0)
    to.port = *port;
  if (req->method() != stun_method::binding)
    return refuse(*req, at, to, 400, "only Binding is served here");
  if (!req->unknown_comprehension_required().empty())
    return refuse(*req, at, to, 420, "Unknown Attribute", req->unknown_comprehension_required());
  stun_socket_id via = at;
  if (auto change = req->change_request(); change && (change->change_ip || change->change_port)) {
    // RFC 5780: a change request over TCP is a Bad Request; over
    // UDP a change this server lacks the address for is refused with 420.
    if (stream)
      return refuse(*req, at, to, 400, "CHANGE-REQUEST is for UDP only (RFC 5780)");
    via.alt_ip = change->change_ip ? !at.alt_ip : at.alt_ip;
    via.alt_port = change->change_port ? !at.alt_port : at.alt_port;
    if (!addrs.has(via) || !addrs.has(at))
      return refuse(*req, at, to, 420, "this server cannot change its address for the reply",
                    {stun_attr::change_request});
  }
  auto origin = addrs.address_of(via);
  bool full = addrs.alt_ip && addrs.alt_port;
  endpoint other = full ? addrs.address_of({!at.alt_ip, !at.alt_port}) : endpoint{};
  stun_builder b{stun_class::success, stun_method::binding, req->txid()};
  if (req->rfc3489()) {
    b.add_address(stun_attr::mapped_address, from);
    b.add_address(stun_attr::source_address, origin);
    if (full)
      b.add_address(stun_attr::changed_address, other);
  } else {
    b.add_xor_address(stun_attr::xor_mapped_address, from);
    b.add_address(stun_attr::mapped_address, from);
    b.add_address(stun_attr::response_origin, origin);
    if (full)
      b.add_address(stun_attr::other_address, other);
  }
  if (!software.empty())
    b.add_software(software);
  if (!req->rfc3489())
    b.add_fingerprint();
  auto bytes = b.finish();
  if (!bytes)
    return bytes.error();
  return std::optional<stun_reply>{stun_reply{std::move(*bytes), via, to}};
}

} // namespace p2pd::net
